// Package memkv is an ordered key/value store in memory for the tests of
// the media services: the same contract as firmware/app's adapter over the
// box's store (keys in byte order, values copied in and out), which their
// Store interfaces describe.
package memkv

import (
	"bytes"
	"sort"
	"sync"
)

// Store is safe for concurrent use; its zero value is empty and ready.
type Store struct {
	mu sync.Mutex
	m  map[string][]byte
}

// New returns an empty Store.
func New() *Store { return &Store{} }

// Put stores a copy of v under k.
func (s *Store) Put(k, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[string(k)] = bytes.Clone(v)
	return nil
}

// Get returns a copy of k's value and whether it is there.
func (s *Store) Get(k []byte) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[string(k)]
	return bytes.Clone(v), ok, nil
}

// Delete removes k.
func (s *Store) Delete(k []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, string(k))
	return nil
}

// Range calls fn for the keys in [from, to) in order (to nil: to the
// end), on a snapshot, so fn may change the store; fn's error stops it.
func (s *Store) Range(from, to []byte, fn func(k, v []byte) error) error {
	s.mu.Lock()
	var keys []string
	for k := range s.m {
		if k >= string(from) && (to == nil || k < string(to)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = bytes.Clone(s.m[k])
	}
	s.mu.Unlock()
	for i, k := range keys {
		if err := fn([]byte(k), vals[i]); err != nil {
			return err
		}
	}
	return nil
}
