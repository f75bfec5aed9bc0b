package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"callbox/firmware/store"
	"callbox/telephony/ivr"
)

// flowVariant returns a test flow from telephony/ivr/testdata with its name
// changed, so that every saved version differs.
func flowVariant(t *testing.T, file string, n int) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "telephony", "ivr", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	must(t, json.Unmarshal(data, &m))
	m["name"] = fmt.Sprintf("%s #%d", m["name"], n)
	out, err := json.Marshal(m)
	must(t, err)
	return out
}

// flowJSON is a repository's version of a flow as JSON, for comparison.
func flowJSON(t *testing.T, r *ivr.Repository, id string, version int) string {
	t.Helper()
	f, err := r.Flow(id, version)
	must(t, err)
	data, err := json.Marshal(f)
	must(t, err)
	return string(data)
}

// TestIVRRepositoryReloadsAfterRestart saves versions of several flows
// through an ivr.Repository on the store, closes and reopens the file, and
// loads them into a new repository: every version comes back, the same.
func TestIVRRepositoryReloadsAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callbox.db")
	db := openStore(t, path)
	r := &ivr.Repository{Store: NewIVRStore(db)}
	saves := map[string]int{"daynight": 12, "survey": 3, "verify": 1} // 12: versions 9 and 10 must not swap
	for id, n := range saves {
		for i := range n {
			v, err := r.SaveJSON(flowVariant(t, id+".json", i))
			if err != nil || v != i+1 {
				t.Fatalf("save %s #%d: version %d, %v", id, i, v, err)
			}
		}
	}
	must(t, db.Close())

	db = openStore(t, path)
	r2 := &ivr.Repository{Store: NewIVRStore(db)}
	must(t, r2.Load())
	if !slices.Equal(r2.IDs(), r.IDs()) {
		t.Fatalf("flows after restart %q, want %q", r2.IDs(), r.IDs())
	}
	for id, n := range saves {
		if vs := r2.Versions(id); len(vs) != n {
			t.Fatalf("%s: %d versions after restart, want %d", id, len(vs), n)
		}
		for v := 1; v <= n; v++ {
			if got, want := flowJSON(t, r2, id, v), flowJSON(t, r, id, v); got != want {
				t.Errorf("%s version %d after restart:\n got %s\nwant %s", id, v, got, want)
			}
		}
	}
	// The reloaded repository continues the numbering, on the same file.
	if v, err := r2.SaveJSON(flowVariant(t, "survey.json", 99)); err != nil || v != 4 {
		t.Fatalf("save after reload: version %d, %v", v, err)
	}
	// One that forgot to Load would reuse version 1: refused, history kept.
	r3 := &ivr.Repository{Store: NewIVRStore(db)}
	if _, err := r3.SaveJSON(flowVariant(t, "survey.json", 100)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("overwriting version 1: %v, want a conflict", err)
	}
	r4 := &ivr.Repository{Store: NewIVRStore(db)}
	must(t, r4.Load())
	if got, want := flowJSON(t, r4, "survey", 1), flowJSON(t, r, "survey", 1); got != want {
		t.Errorf("version 1 changed by a refused save:\n got %s\nwant %s", got, want)
	}
}

func TestIVRStorePutAndEach(t *testing.T) {
	db := openStore(t, filepath.Join(t.TempDir(), "callbox.db"))
	s := NewIVRStore(db)
	for _, tc := range []struct {
		id      string
		version int
		data    string
		want    error // nil, ErrInvalid or ErrConflict
	}{
		{"main", 2, `{"v":2}`, nil}, // written out of order: read back in order
		{"main", 10, `{"v":10}`, nil},
		{"main", 1, `{"v":1}`, nil},
		{"main", 9, `{"v":9}`, nil},
		{"ma", 1, `{"x":1}`, nil},   // an id that is a prefix of another
		{"main\x00", 1, `{}`, nil},  // one with a NUL after it
		{"夜间", 3, `{"n":3}`, nil},   // not ASCII; versions may have gaps
		{"main", 2, `{"v":2}`, nil}, // the same again: a retried save
		{"main", 2, `{"v":3}`, store.ErrConflict},
		{"main", 0, `{}`, store.ErrInvalid},
		{"main", -1, `{}`, store.ErrInvalid},
		{"", 1, `{}`, store.ErrInvalid},
		{"x", 1, `{"v":`, store.ErrInvalid},
		{"x", 1, ``, store.ErrInvalid},
	} {
		err := s.PutFlow(tc.id, tc.version, []byte(tc.data))
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("PutFlow(%q, %d, %s) = %v, want %v", tc.id, tc.version, tc.data, err, tc.want)
		}
	}
	var got []string
	must(t, s.EachFlow(func(id string, version int, data []byte) error {
		got = append(got, fmt.Sprintf("%q %d %s", id, version, data))
		return nil
	}))
	want := []string{`"ma" 1 {"x":1}`, `"main" 1 {"v":1}`, `"main" 2 {"v":2}`, `"main" 9 {"v":9}`, `"main" 10 {"v":10}`,
		`"main\x00" 1 {}`, `"夜间" 3 {"n":3}`}
	if !slices.Equal(got, want) {
		t.Errorf("EachFlow:\n got %q\nwant %q", got, want)
	}

	// fn's error stops the walk and comes back as is; fn may write.
	stop := errors.New("stop")
	calls := 0
	err := s.EachFlow(func(id string, version int, data []byte) error {
		calls++
		if err := s.PutFlow("written-by-fn", calls, []byte(`{}`)); err != nil {
			return err
		}
		if calls == 3 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 3 {
		t.Errorf("EachFlow with a failing fn: %v after %d calls", err, calls)
	}

	// A record whose key is not a flow id and version is reported.
	must(t, db.Update(func(tx *store.Tx) error {
		return tx.Put(store.IVRFlows, store.Key(nil).AppendString("bad"), []byte(`{}`))
	}))
	if err := s.EachFlow(func(string, int, []byte) error { return nil }); err == nil {
		t.Error("EachFlow accepted a key without a version")
	}
}
