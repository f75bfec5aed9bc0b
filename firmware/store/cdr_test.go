package store

import (
	"path/filepath"
	"testing"
	"time"
)

// A version 3 file gains the cdr bucket and keeps its PBX configuration;
// records keyed by time come back in time order from a range seek.
func TestMigrationV3ToV4(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	old, err := open(path, migrations[:3], time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Update(func(tx *Tx) error { return tx.SetPBXConfig([]byte(`{"version":1}`)) }); err != nil {
		t.Fatal(err)
	}
	if err := old.Update(func(tx *Tx) error { return tx.Put(CDRs, []byte("k"), []byte("v")) }); err == nil {
		t.Fatal("a v3 file took a cdr record")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	err = db.Update(func(tx *Tx) error {
		for i, id := range []string{"c", "a", "b"} {
			k := Key(nil).AppendTime(t0.Add(time.Duration(i) * time.Minute)).AppendString(id)
			if err := tx.Put(CDRs, k, []byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	err = db.View(func(tx *Tx) error {
		if v, err := schemaVersion(tx.tx); err != nil || v < 4 {
			t.Errorf("schema version %d, %v", v, err)
		}
		if doc, err := tx.PBXConfig(); err != nil || string(doc) != `{"version":1}` {
			t.Errorf("pbx config after migration: %q %v", doc, err)
		}
		from := Key(nil).AppendTime(t0.Add(time.Minute))
		return tx.Range(CDRs, from, nil, func(k, v []byte) error { got += string(v); return nil })
	})
	if err != nil || got != "ab" {
		t.Errorf("range from the second minute: %q %v, want \"ab\"", got, err)
	}
}
