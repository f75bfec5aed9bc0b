package store

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteTo: the copy a running store writes opens as a store with the
// same records.
func TestWriteTo(t *testing.T) {
	db, _ := openTest(t)
	if err := db.Update(func(tx *Tx) error { return tx.SetSetting("ota.test", "kept") }); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cp, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	var v string
	if err := cp.View(func(tx *Tx) (err error) { v, err = tx.Setting("ota.test"); return err }); err != nil || v != "kept" {
		t.Fatalf("copy holds %q, %v", v, err)
	}
}
