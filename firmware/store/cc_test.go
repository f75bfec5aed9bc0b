package store

import (
	"path/filepath"
	"testing"
	"time"
)

// A version 4 file gains the call centre's buckets and keeps its CDRs.
func TestMigrationV4ToV5(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v4.db")
	old, err := open(path, migrations[:4], time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Update(func(tx *Tx) error { return tx.Put(CDRs, []byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if err := old.Update(func(tx *Tx) error { return tx.Put(CCFacts, []byte("k"), []byte("v")) }); err == nil {
		t.Fatal("a v4 file took a fact record")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range []Records{CCFacts, CCDevices} {
		if err := db.Update(func(tx *Tx) error { return tx.Put(r, []byte("k"), []byte("v")) }); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
	}
	// The interim configuration record is gone: nothing may write it.
	if err := db.Update(func(tx *Tx) error { return tx.Put("cc_config", []byte("k"), []byte("v")) }); err == nil {
		t.Fatal("cc_config took a record")
	}
	err = db.View(func(tx *Tx) error {
		if v, err := schemaVersion(tx.tx); err != nil || v < 5 {
			t.Errorf("schema version %d, %v", v, err)
		}
		v, err := tx.Get(CDRs, []byte("k"))
		if err != nil || string(v) != "v" {
			t.Errorf("cdr after the migration: %q %v", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
