package store

import (
	"path/filepath"
	"testing"
	"time"
)

// A version 5 file gains the media service buckets and keeps its CDRs.
func TestMigrationV5ToV6(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v5.db")
	old, err := open(path, migrations[:5], time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Update(func(tx *Tx) error { return tx.Put(CDRs, []byte("k"), []byte("cdr")) }); err != nil {
		t.Fatal(err)
	}
	if err := old.Update(func(tx *Tx) error { return tx.Put(Recordings, []byte("k"), []byte("v")) }); err == nil {
		t.Fatal("a v5 file took a recording")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range []Records{Recordings, Voicemail, Conference} {
		if err := db.Update(func(tx *Tx) error { return tx.Put(r, []byte("k"), []byte(r)) }); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
	}
	err = db.View(func(tx *Tx) error {
		v, err := tx.Get(CDRs, []byte("k"))
		if err != nil || string(v) != "cdr" {
			t.Errorf("the cdr after the migration: %q %v", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
