package app

import (
	"errors"

	"callbox/firmware/store"
)

// bucketKV adapts one record bucket of the store to the ordered key/value
// Store the media engines define (telephony/recording, voicemail,
// conference): each call is one transaction.
type bucketKV struct {
	db *store.DB
	r  store.Records
}

// Put implements the engines' Store.
func (k bucketKV) Put(key, value []byte) error {
	return k.db.Update(func(tx *store.Tx) error { return tx.Put(k.r, key, value) })
}

// Get implements the engines' Store: a missing key is not an error.
func (k bucketKV) Get(key []byte) (value []byte, found bool, err error) {
	err = k.db.View(func(tx *store.Tx) error {
		value, err = tx.Get(k.r, key)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	return value, err == nil, err
}

// Delete implements the engines' Store.
func (k bucketKV) Delete(key []byte) error {
	return k.db.Update(func(tx *store.Tx) error { return tx.Delete(k.r, key) })
}

// Range implements the engines' Store, in one read transaction.
func (k bucketKV) Range(from, to []byte, fn func(key, value []byte) error) error {
	return k.db.View(func(tx *store.Tx) error { return tx.Range(k.r, from, to, fn) })
}
