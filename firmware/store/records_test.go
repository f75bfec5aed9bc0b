package store

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestRecordBucketsExist(t *testing.T) {
	// The migration names its buckets literally; a renamed constant
	// without a migration would leave an accessor with no bucket.
	db, _ := openTest(t)
	err := db.View(func(tx *Tx) error {
		for _, r := range recordBuckets {
			if _, err := tx.Count(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRecordAccessors(t *testing.T) {
	db, _ := openTest(t)
	long := bytes.Repeat([]byte("k"), bolt.MaxKeySize+1)
	for _, tc := range []struct {
		name string
		op   func(tx *Tx) error
		want error // nil, ErrNotFound, ErrInvalid or a plain failure (errAny)
	}{
		{"put", func(tx *Tx) error { return tx.Put(ACDCallbacks, []byte("c1"), []byte(`{"a":1}`)) }, nil},
		{"get", func(tx *Tx) error { return wantValue(tx, ACDCallbacks, "c1", `{"a":1}`) }, nil},
		{"replace", func(tx *Tx) error { return tx.Put(ACDCallbacks, []byte("c1"), []byte(`{"a":2}`)) }, nil},
		{"get replaced", func(tx *Tx) error { return wantValue(tx, ACDCallbacks, "c1", `{"a":2}`) }, nil},
		{"same key other bucket", func(tx *Tx) error { _, err := tx.Get(IVRFlows, []byte("c1")); return err }, ErrNotFound},
		{"missing", func(tx *Tx) error { _, err := tx.Get(ACDCallbacks, []byte("c2")); return err }, ErrNotFound},
		{"prefix of a key is missing", func(tx *Tx) error { _, err := tx.Get(ACDCallbacks, []byte("c")); return err }, ErrNotFound},
		{"empty value", func(tx *Tx) error { return tx.Put(ACDConfig, []byte("e"), nil) }, nil},
		{"empty value is found", func(tx *Tx) error { return wantValue(tx, ACDConfig, "e", "") }, nil},
		{"delete", func(tx *Tx) error { return tx.Delete(ACDCallbacks, []byte("c1")) }, nil},
		{"deleted", func(tx *Tx) error { _, err := tx.Get(ACDCallbacks, []byte("c1")); return err }, ErrNotFound},
		{"delete again", func(tx *Tx) error { return tx.Delete(ACDCallbacks, []byte("c1")) }, nil},
		{"unknown bucket", func(tx *Tx) error { return tx.Put("users", []byte("x"), []byte("y")) }, ErrInvalid},
		{"unknown bucket get", func(tx *Tx) error { _, err := tx.Get("settings", []byte("x")); return err }, ErrInvalid},
		{"unknown bucket each", func(tx *Tx) error { return tx.Each("meta", nil, nil) }, ErrInvalid},
		{"empty key", func(tx *Tx) error { return tx.Put(ACDStatus, nil, []byte("y")) }, ErrInvalid},
		{"key too long", func(tx *Tx) error { return tx.Put(ACDStatus, long, []byte("y")) }, ErrInvalid},
		{"delete empty key", func(tx *Tx) error { return tx.Delete(ACDStatus, []byte{}) }, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.Update(tc.op)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	var fe *FieldError
	err := db.Update(func(tx *Tx) error { return tx.Put(ACDStatus, nil, nil) })
	if !errors.As(err, &fe) || fe.Entity != "record" || fe.Field != "key" {
		t.Errorf("empty key: %v, want a FieldError on record key", err)
	}
	err = db.View(func(tx *Tx) error { return tx.Put(ACDStatus, []byte("k"), []byte("v")) })
	if err == nil {
		t.Error("Put in a View transaction succeeded")
	}
	err = db.View(func(tx *Tx) error { _, err := tx.NextSeq(ACDStatus); return err })
	if err == nil {
		t.Error("NextSeq in a View transaction succeeded")
	}
}

func wantValue(tx *Tx, r Records, key, want string) error {
	v, err := tx.Get(r, []byte(key))
	if err != nil {
		return err
	}
	if v == nil || string(v) != want {
		return fmt.Errorf("Get(%s, %q) = %q (nil %v), want %q", r, key, v, v == nil, want)
	}
	return nil
}

func TestPutCopies(t *testing.T) {
	db, _ := openTest(t)
	err := db.Update(func(tx *Tx) error {
		key, value := []byte("k1"), []byte("v1")
		if err := tx.Put(ACDCallbacks, key, value); err != nil {
			return err
		}
		copy(key, "k2") // a caller reusing its buffers before the commit
		copy(value, "v2")
		return tx.Put(ACDCallbacks, key, value)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *Tx) error {
		if err := wantValue(tx, ACDCallbacks, "k1", "v1"); err != nil {
			return err
		}
		return wantValue(tx, ACDCallbacks, "k2", "v2")
	})
	if err != nil {
		t.Error(err)
	}
}

func TestGetReturnsACopy(t *testing.T) {
	db, _ := openTest(t)
	var got []byte
	err := db.Update(func(tx *Tx) error {
		if err := tx.Put(IVRFlows, []byte("f"), []byte("abc")); err != nil {
			return err
		}
		var err error
		got, err = tx.Get(IVRFlows, []byte("f"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Fill more pages so the old ones are reused after the transaction.
	for i := range 20 {
		db.Update(func(tx *Tx) error {
			return tx.Put(IVRFlows, Key(nil).AppendUint64(uint64(i)), bytes.Repeat([]byte{'z'}, 5000))
		})
	}
	if string(got) != "abc" {
		t.Errorf("value read in a closed transaction changed to %q", got)
	}
}

// collect returns the keys Each or Range visit, as strings.
func collect(t *testing.T, db *DB, walk func(tx *Tx, fn func(k, v []byte) error) error) []string {
	t.Helper()
	var keys []string
	if err := db.View(func(tx *Tx) error {
		return walk(tx, func(k, v []byte) error {
			if string(v) != "v"+string(k) {
				return fmt.Errorf("key %q holds %q", k, v)
			}
			keys = append(keys, string(k))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestEachAndRange(t *testing.T) {
	db, _ := openTest(t)
	stored := []string{"a", "a1", "a2", "ab", "b", "b\x00", "b\xff", "c"}
	err := db.Update(func(tx *Tx) error {
		for _, k := range slices.Backward(stored) { // order of writing does not matter
			if err := tx.Put(ACDStatus, []byte(k), []byte("v"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", stored},
		{"a", []string{"a", "a1", "a2", "ab"}},
		{"a1", []string{"a1"}},
		{"b", []string{"b", "b\x00", "b\xff"}},
		{"b\x00", []string{"b\x00"}},
		{"aa", nil},
		{"d", nil},
		{"0", nil},
	} {
		got := collect(t, db, func(tx *Tx, fn func(k, v []byte) error) error { return tx.Each(ACDStatus, []byte(tc.prefix), fn) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("Each(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
	for _, tc := range []struct {
		from, to string
		open     bool // to is nil: to the end
		want     []string
	}{
		{"a", "b", false, []string{"a", "a1", "a2", "ab"}},
		{"a1", "ab", false, []string{"a1", "a2"}},      // from inclusive, to exclusive
		{"a10", "ab\x00", false, []string{"a2", "ab"}}, // bounds between keys
		{"b", "b\x00", false, []string{"b"}},           // the smallest key above b is b\x00
		{"b", "", true, []string{"b", "b\x00", "b\xff", "c"}},
		{"", "a1", false, []string{"a"}},
		{"c", "a", false, nil}, // from above to: nothing
		{"a2", "a2", false, nil},
		{"d", "", true, nil},
	} {
		var to []byte
		if !tc.open {
			to = []byte(tc.to)
		}
		got := collect(t, db, func(tx *Tx, fn func(k, v []byte) error) error { return tx.Range(ACDStatus, []byte(tc.from), to, fn) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("Range(%q, %q) = %q, want %q", tc.from, to, got, tc.want)
		}
	}
	stop := errors.New("enough")
	n := 0
	err = db.View(func(tx *Tx) error {
		return tx.Each(ACDStatus, nil, func(k, v []byte) error {
			if n++; n == 3 {
				return stop
			}
			return nil
		})
	})
	if err != stop || n != 3 {
		t.Errorf("Each after fn's error: %v after %d calls, want fn's error after 3", err, n)
	}
	var count int
	db.View(func(tx *Tx) (err error) { count, err = tx.Count(ACDStatus); return err })
	if count != len(stored) {
		t.Errorf("Count = %d, want %d", count, len(stored))
	}
}

func TestDeleteRange(t *testing.T) {
	db, _ := openTest(t)
	stored := []string{"a", "a1", "a2", "ab", "b", "c"}
	for _, tc := range []struct {
		from, to string
		open     bool
		n        int
		left     []string
	}{
		{"a1", "b", false, 3, []string{"a", "b", "c"}}, // from inclusive, to exclusive
		{"a", "a", false, 0, stored},
		{"b", "a", false, 0, stored},
		{"a10", "", true, 4, []string{"a", "a1"}},
		{"", "", true, 6, nil},
	} {
		err := db.Update(func(tx *Tx) error {
			if _, err := tx.DeleteRange(ACDStatus, nil, nil); err != nil {
				return err
			}
			for _, k := range stored {
				if err := tx.Put(ACDStatus, []byte(k), []byte("v"+k)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var to []byte
		if !tc.open {
			to = []byte(tc.to)
		}
		var n int
		if err := db.Update(func(tx *Tx) (err error) { n, err = tx.DeleteRange(ACDStatus, []byte(tc.from), to); return err }); err != nil {
			t.Fatal(err)
		}
		left := collect(t, db, func(tx *Tx, fn func(k, v []byte) error) error { return tx.Each(ACDStatus, nil, fn) })
		if n != tc.n || !slices.Equal(left, tc.left) {
			t.Errorf("DeleteRange(%q, %q) removed %d leaving %q; want %d leaving %q", tc.from, to, n, left, tc.n, tc.left)
		}
	}
	if err := db.Update(func(tx *Tx) error { return tx.Put(ACDStatus, []byte("k"), nil) }); err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(tx *Tx) error { _, err := tx.DeleteRange(ACDStatus, nil, nil); return err }); err == nil {
		t.Error("DeleteRange in a View transaction succeeded")
	}
}

func TestNextSeq(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callbox.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	next := func(db *DB, fail bool) (n uint64) {
		t.Helper()
		errFail := errors.New("roll back")
		err := db.Update(func(tx *Tx) (err error) {
			if n, err = tx.NextSeq(ACDStatus); err != nil || !fail {
				return err
			}
			return errFail
		})
		if fail != (err == errFail) {
			t.Fatal(err)
		}
		return n
	}
	if a, b := next(db, false), next(db, false); a != 1 || b != 2 {
		t.Errorf("sequence %d, %d; want 1, 2", a, b)
	}
	next(db, true) // a rolled-back transaction does not use its number
	if c := next(db, false); c != 3 {
		t.Errorf("after a rollback: %d, want 3", c)
	}
	db.Close()
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if d := next(db, false); d != 4 {
		t.Errorf("after reopening: %d, want 4", d)
	}
	var other uint64
	db.Update(func(tx *Tx) (err error) { other, err = tx.NextSeq(IVRFlows); return err })
	if other != 1 {
		t.Errorf("another bucket's sequence starts at %d, want 1", other)
	}
}

// TestMigrateV1File opens a file written by firmware that knew only
// schema 1: Open must add the record buckets and keep the old records.
func TestMigrateV1File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callbox.db")
	v1 := migrations[:1]
	db, err := open(path, v1, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *Tx) error {
		if err := tx.CreateUser(User{Login: "admin", Role: RoleAdmin, PasswordHash: "h"}); err != nil {
			return err
		}
		return tx.SetSetting("console.require_password", "true")
	})
	if err != nil {
		t.Fatal(err)
	}
	// The v1 firmware has no record buckets.
	if err := db.Update(func(tx *Tx) error { return tx.Put(ACDConfig, []byte("config"), []byte("{}")) }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("record write on a v1 file: %v, want a missing bucket", err)
	}
	db.Close()
	if _, v := traceAndVersion(t, path); v != 1 {
		t.Fatalf("file at version %d, want 1", v)
	}

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *Tx) error {
		if _, err := tx.User("admin"); err != nil {
			return err
		}
		if v, err := tx.Setting("console.require_password"); err != nil || v != "true" {
			return fmt.Errorf("setting after migration: %q, %v", v, err)
		}
		for _, r := range recordBuckets {
			if err := tx.Put(r, []byte("k"), []byte(r)); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, v := traceAndVersion(t, path); v != SchemaVersion {
		t.Fatalf("file at version %d after Open, want SchemaVersion %d", v, SchemaVersion)
	}
	// And the v1 firmware now refuses it rather than misread it.
	if _, err := open(path, v1, time.Now); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("v1 firmware opened a v2 file: %v", err)
	}
}

func TestKeyOrderTable(t *testing.T) {
	t1 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		a, b Key // want a < b
	}{
		{"shorter string first", Key(nil).AppendString("a"), Key(nil).AppendString("ab")},
		{"string with NUL after its prefix", Key(nil).AppendString("a"), Key(nil).AppendString("a\x00")},
		{"NUL below other bytes", Key(nil).AppendString("a\x00"), Key(nil).AppendString("a\x01")},
		{"empty string first", Key(nil).AppendString(""), Key(nil).AppendString("\x00")},
		{"high bytes", Key(nil).AppendString("\xfe"), Key(nil).AppendString("\xff")},
		{"string before time", Key(nil).AppendString("a").AppendTime(t1.Add(time.Hour)), Key(nil).AppendString("ab").AppendTime(t1)},
		{"time then seq", Key(nil).AppendString("a").AppendTime(t1).AppendUint64(9), Key(nil).AppendString("a").AppendTime(t1.Add(1)).AppendUint64(1)},
		{"same time, seq", Key(nil).AppendString("a").AppendTime(t1).AppendUint64(1), Key(nil).AppendString("a").AppendTime(t1).AppendUint64(2)},
		{"before 1970", Key(nil).AppendTime(time.Unix(-1, 999_999_999)), Key(nil).AppendTime(time.Unix(0, 0))},
		{"zero time first", Key(nil).AppendTime(time.Time{}), Key(nil).AppendTime(time.Unix(math.MinInt32, 0))},
		{"nanoseconds", Key(nil).AppendTime(t1), Key(nil).AppendTime(t1.Add(time.Nanosecond))},
		{"versions", Key(nil).AppendString("f").AppendUint64(9), Key(nil).AppendString("f").AppendUint64(10)},
		{"uint64 high", Key(nil).AppendUint64(1<<63 - 1), Key(nil).AppendUint64(1 << 63)},
	} {
		if bytes.Compare(tc.a, tc.b) >= 0 {
			t.Errorf("%s: %x does not sort before %x", tc.name, tc.a, tc.b)
		}
	}
	// The zone is not part of the key: the same instant is the same key.
	sh := time.FixedZone("CST", 8*3600)
	if !bytes.Equal(Key(nil).AppendTime(t1), Key(nil).AppendTime(t1.In(sh))) {
		t.Error("the same instant in two zones gives two keys")
	}
	// A string's key is never a prefix of another string's key.
	if bytes.HasPrefix(Key(nil).AppendString("a\x00b"), Key(nil).AppendString("a")) {
		t.Error(`key of "a\x00b" starts with the key of "a"`)
	}
}

func TestCutErrors(t *testing.T) {
	for _, k := range [][]byte{nil, []byte("abc"), []byte("a\x00"), []byte("a\x00\x02"), []byte("\x00\x00\x01")} {
		if s, _, err := CutString(k); err == nil {
			t.Errorf("CutString(%q) = %q, want an error", k, s)
		}
	}
	if _, _, err := CutUint64(make([]byte, 7)); err == nil {
		t.Error("CutUint64 of 7 bytes succeeded")
	}
	if _, _, err := CutTime(make([]byte, 11)); err == nil {
		t.Error("CutTime of 11 bytes succeeded")
	}
	bad := Key(nil).AppendUint64(1 << 63)
	bad = append(bad, 0x3b, 0x9a, 0xca, 0x00) // 1e9 ns
	if _, _, err := CutTime(bad); err == nil {
		t.Error("CutTime accepted 1e9 nanoseconds")
	}
}

// TestKeyOrderRandom checks on random tuples that keys compare as their
// parts do, and decode to them.
func TestKeyOrderRandom(t *testing.T) {
	type tuple struct {
		s   string
		at  time.Time
		seq uint64
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := "\x00\x01\xffab"
	gen := func() tuple {
		b := make([]byte, rng.IntN(4))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return tuple{string(b), time.Unix(rng.Int64N(5)-2, rng.Int64N(3)), rng.Uint64N(3) << (rng.IntN(2) * 62)}
	}
	key := func(x tuple) Key { return Key(nil).AppendString(x.s).AppendTime(x.at).AppendUint64(x.seq) }
	for range 20000 {
		a, b := gen(), gen()
		want := cmp.Or(strings.Compare(a.s, b.s), a.at.Compare(b.at), cmp.Compare(a.seq, b.seq))
		if got := bytes.Compare(key(a), key(b)); got != want {
			t.Fatalf("%+v vs %+v: keys compare %d, values %d", a, b, got, want)
		}
		s, rest, err := CutString(key(a))
		if err != nil || s != a.s {
			t.Fatalf("CutString(%x) = %q, %v; want %q", key(a), s, err, a.s)
		}
		at, rest, err := CutTime(rest)
		if err != nil || !at.Equal(a.at) {
			t.Fatalf("CutTime = %v, %v; want %v", at, err, a.at)
		}
		seq, rest, err := CutUint64(rest)
		if err != nil || seq != a.seq || len(rest) != 0 {
			t.Fatalf("CutUint64 = %d, %v, %d left; want %d", seq, err, len(rest), a.seq)
		}
	}
}

// FuzzKey decodes arbitrary bytes as a string, time and number: what
// decodes must re-encode to exactly the bytes consumed (one encoding per
// value), and encoding the fuzzed string and number must decode back and
// keep Go's string order against a second string.
func FuzzKey(f *testing.F) {
	f.Add([]byte("agent7\x00\x01\x80\x00\x00\x00\x69\x3f\xa0\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x05"), "a", uint64(1))
	f.Add([]byte("\x00\xff\x00\x01"), "\x00", uint64(0))
	f.Add([]byte("x\x00\x02"), "", uint64(1<<63))
	f.Add([]byte{}, "ab\xff", uint64(42))
	f.Fuzz(func(t *testing.T, raw []byte, s string, n uint64) {
		if str, rest, err := CutString(raw); err == nil {
			used := raw[:len(raw)-len(rest)]
			if re := Key(nil).AppendString(str); !bytes.Equal(re, used) {
				t.Fatalf("CutString(%x) = %q, which encodes as %x", used, str, re)
			}
			if at, rest2, err := CutTime(rest); err == nil {
				if re := Key(nil).AppendTime(at); !bytes.Equal(re, rest[:len(rest)-len(rest2)]) {
					t.Fatalf("CutTime(%x) = %v, which encodes as %x", rest[:12], at, re)
				}
			}
		}
		k := Key(nil).AppendString(s).AppendUint64(n)
		got, rest, err := CutString(k)
		if err != nil || got != s {
			t.Fatalf("CutString(AppendString(%q)) = %q, %v", s, got, err)
		}
		if m, rest, err := CutUint64(rest); err != nil || m != n || len(rest) != 0 {
			t.Fatalf("CutUint64 = %d, %v, %d left; want %d", m, err, len(rest), n)
		}
		other := string(raw)
		if c := bytes.Compare(Key(nil).AppendString(s), Key(nil).AppendString(other)); c != strings.Compare(s, other) {
			t.Fatalf("keys of %q and %q compare %d", s, other, c)
		}
		if s != other && bytes.HasPrefix(Key(nil).AppendString(other), Key(nil).AppendString(s)) {
			t.Fatalf("key of %q starts with the key of %q", other, s)
		}
	})
}
