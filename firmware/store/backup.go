package store

import (
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// WriteTo writes a consistent copy of the whole store file to w from one
// read transaction, so writers go on meanwhile (a backup of the running
// box).
func (db *DB) WriteTo(w io.Writer) (n int64, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: backup: %w", err)
	}
	return n, nil
}
