package kv

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestMemRollback(t *testing.T) {
	m := NewMem()
	if err := m.Update(func(tx Tx) error {
		return tx.Put("b", []byte("a"), []byte("1"))
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := m.Update(func(tx Tx) error {
		tx.Put("b", []byte("a"), []byte("2"))
		tx.Put("b", []byte("c"), []byte("3"))
		tx.Delete("b", []byte("a"))
		tx.NextSeq("b")
		return boom
	})
	if err != boom {
		t.Fatal(err)
	}
	m.View(func(tx Tx) error {
		v, err := tx.Get("b", []byte("a"))
		if err != nil || string(v) != "1" {
			t.Errorf("a = %q, %v after rollback", v, err)
		}
		if _, err := tx.Get("b", []byte("c")); !errors.Is(err, ErrNotFound) {
			t.Errorf("c survived the rollback: %v", err)
		}
		if err := tx.Put("b", []byte("x"), nil); err == nil {
			t.Error("Put in View succeeded")
		}
		return nil
	})
	m.Update(func(tx Tx) error {
		if n, _ := tx.NextSeq("b"); n != 1 {
			t.Errorf("sequence %d after rollback, want 1", n)
		}
		return nil
	})
}

func TestMemEachPrefix(t *testing.T) {
	m := NewMem()
	m.Update(func(tx Tx) error {
		for _, k := range []string{"b2", "a1", "b1", "c", "b"} {
			tx.Put("x", []byte(k), []byte(k))
		}
		return nil
	})
	var got []string
	m.View(func(tx Tx) error {
		return tx.Each("x", []byte("b"), func(k, v []byte) error {
			got = append(got, string(k))
			return nil
		})
	})
	if want := "b b1 b2"; joinStr(got) != want {
		t.Fatalf("Each(b) = %q, want %q", joinStr(got), want)
	}
}

func joinStr(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}

func TestKeyOrder(t *testing.T) {
	t0 := time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 5, time.UTC)
	keys := [][]byte{
		Key(nil).Str("a").Time(t0),
		Key(nil).Str("a").Time(t1),
		Key(nil).Str("ab").U64(1),
		Key(nil).Str("b").U64(0),
	}
	for i := 1; i < len(keys); i++ {
		if bytes.Compare(keys[i-1], keys[i]) >= 0 {
			t.Errorf("key %d does not sort before key %d", i-1, i)
		}
	}
	s, rest, err := CutStr(keys[1])
	if err != nil || s != "a" {
		t.Fatal(s, err)
	}
	tt, rest, err := CutTime(rest)
	if err != nil || !tt.Equal(t1) || len(rest) != 0 {
		t.Fatal(tt, err)
	}
}
