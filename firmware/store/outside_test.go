package store

import (
	"path/filepath"
	"testing"
	"time"
)

// A version 8 file gains the outside interfaces' buckets, and the records
// it kept are listed for the push to an outside database.
func TestMigrationV8ToV9(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v8.db")
	old, err := open(path, migrations[:8], time.Now)
	if err != nil {
		t.Fatal(err)
	}
	err = old.Update(func(tx *Tx) error {
		for _, k := range []string{"b", "a", "c"} {
			if err := tx.Put(CDRs, []byte(k), []byte("v")); err != nil {
				return err
			}
		}
		return tx.Put(CCFacts, []byte("f"), []byte("v"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Update(func(tx *Tx) error { return tx.Put(SMSOut, []byte("k"), []byte("v")) }); err == nil {
		t.Fatal("a v8 file took an sms record")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *Tx) error {
		for _, r := range []Records{SMSOut, SMSQueue, SMSRefs, SMSIn, SMSTemplates, APITokens, Webhooks, EventJournal, WebhookLog, ExportCursors} {
			if err := tx.Put(r, []byte("k"), []byte("v")); err != nil {
				t.Errorf("%s: %v", r, err)
			}
		}
		var listed []string
		if err := tx.Each(ExportCDR, nil, func(_, v []byte) error { listed = append(listed, string(v)); return nil }); err != nil {
			return err
		}
		if len(listed) != 3 || listed[0] != "a" || listed[2] != "c" {
			t.Errorf("cdr listed for the push: %q", listed)
		}
		if n, _ := tx.Count(ExportFacts); n != 1 {
			t.Errorf("%d facts listed", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
