// Package jsonkv is the store shape the media services share (recording's
// index, voicemail's boxes and messages, conference's rooms): values of one
// type kept as JSON under one key prefix of an ordered key/value store,
// which firmware/app backs with a bucket of the box's store.
package jsonkv

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Store holds ordered key/value pairs. Keys sort bytewise. Range calls fn
// for from <= key < to (nil to: to the end) in ascending order; fn must not
// write. Get reports a missing key with found false and no error.
type Store interface {
	Put(key, value []byte) error
	Get(key []byte) (value []byte, found bool, err error)
	Delete(key []byte) error
	Range(from, to []byte, fn func(key, value []byte) error) error
}

// Table is the values of type T stored as JSON under keys Prefix + id.
type Table[T any] struct {
	St     Store
	Prefix []byte
	// Name starts every error ("conference: room").
	Name string
	// NotFound is what Get wraps for a missing id.
	NotFound error
}

// Key is id's key.
func (t Table[T]) Key(id string) []byte { return append(slices.Clip(t.Prefix), id...) }

// end is the first key after every key with the prefix.
func (t Table[T]) end() []byte {
	e := slices.Clone(t.Prefix)
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] < 0xff {
			e[i]++
			return e[:i+1]
		}
	}
	return nil
}

// Get returns id's value; a missing id is an error wrapping NotFound.
func (t Table[T]) Get(id string) (T, error) {
	var v T
	b, ok, err := t.St.Get(t.Key(id))
	if err != nil {
		return v, fmt.Errorf("%s %s: %w", t.Name, id, err)
	}
	if !ok {
		return v, fmt.Errorf("%w: %s", t.NotFound, id)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("%s %s: stored value: %w", t.Name, id, err)
	}
	return v, nil
}

// Put stores v under id.
func (t Table[T]) Put(id string, v T) error {
	b, err := json.Marshal(v)
	if err == nil {
		err = t.St.Put(t.Key(id), b)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", t.Name, id, err)
	}
	return nil
}

// Delete removes id (a missing id is no error).
func (t Table[T]) Delete(id string) error {
	if err := t.St.Delete(t.Key(id)); err != nil {
		return fmt.Errorf("%s %s: %w", t.Name, id, err)
	}
	return nil
}

// List returns every value in key order, skipping any that no longer
// decodes (one bad value does not hide the others).
func (t Table[T]) List() ([]T, error) {
	var out []T
	_, err := t.Each("", "", func(_ string, v T) bool {
		out = append(out, v)
		return true
	})
	return out, err
}

// errStop ends a Range early.
var errStop = errors.New("jsonkv: stop")

// Each calls fn with the ids and values from id from up to id to (empty:
// no bound) in key order until fn returns false. Values that do not
// decode are skipped and counted in bad.
func (t Table[T]) Each(from, to string, fn func(id string, v T) bool) (bad int, err error) {
	lo, hi := t.Key(from), t.end()
	if to != "" {
		hi = t.Key(to)
	}
	err = t.St.Range(lo, hi, func(k, b []byte) error {
		var v T
		if json.Unmarshal(b, &v) != nil {
			bad++
			return nil
		}
		if !fn(string(k[len(t.Prefix):]), v) {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return bad, fmt.Errorf("%s: %w", t.Name, err)
	}
	return bad, nil
}
