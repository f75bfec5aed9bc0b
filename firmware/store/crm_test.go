package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// A version 5 file gains the customer-record buckets and keeps its call
// records.
func TestMigrationV5CustomerRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v5.db")
	old, err := open(path, migrations[:5], time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Update(func(tx *Tx) error { return tx.Put(CDRs, []byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if err := old.Update(func(tx *Tx) error { return tx.Put(CRMCustomers, []byte("k"), []byte("v")) }); err == nil {
		t.Fatal("a v5 file took a customer record")
	}
	old.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *Tx) error {
		for _, r := range CustomerRecords {
			if err := tx.Put(r, []byte("k"), []byte(r)); err != nil {
				return err
			}
		}
		v, err := tx.Get(CDRs, []byte("k"))
		if err != nil || string(v) != "v" {
			return errors.Join(err, errors.New("the call record was lost"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
