package store

import (
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// A file from before the media services' migration gains their buckets
// and keeps its CDRs.
func TestMigrationMedia(t *testing.T) {
	at := slices.IndexFunc(migrations, func(m migration) bool { return m.name == "create media service buckets" })
	if at < 0 {
		t.Fatal("no media services' migration")
	}
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := open(path, migrations[:at], time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Update(func(tx *Tx) error { return tx.Put(CDRs, []byte("k"), []byte("cdr")) }); err != nil {
		t.Fatal(err)
	}
	if err := old.Update(func(tx *Tx) error { return tx.Put(Recordings, []byte("k"), []byte("v")) }); err == nil {
		t.Fatal("a file before the migration took a recording")
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
