// Package kv is the storage the customer-service record packages (crm,
// crm/kb, crm/workorder) consume: named buckets of byte keys in byte
// order, read and written in transactions. The packages keep their own
// records and indexes in it, so the index logic is theirs and tested with
// Mem; the firmware adapts its store to Store (one bucket each).
package kv

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// ErrNotFound: Get found no record under the key.
var ErrNotFound = errors.New("kv: not found")

// Bucket names a bucket. The firmware creates every bucket a package
// declares before handing the store over.
type Bucket string

// Tx is a transaction. It is valid only inside the closure it was given
// to; the write methods fail in a View.
type Tx interface {
	// Get returns a copy of the value under key, or an error wrapping
	// ErrNotFound.
	Get(b Bucket, key []byte) ([]byte, error)
	// Put stores value under key (1 to 32768 bytes), replacing what was
	// there. The store copies both.
	Put(b Bucket, key, value []byte) error
	// Delete removes key; a missing key is not an error.
	Delete(b Bucket, key []byte) error
	// Each calls fn for every record whose key starts with prefix, in key
	// order. key and value are valid only during the call; fn must not
	// write to b. An error from fn stops the walk and is returned.
	Each(b Bucket, prefix []byte, fn func(key, value []byte) error) error
	// NextSeq returns the next number of b's sequence, from 1, used up
	// only if the transaction commits.
	NextSeq(b Bucket) (uint64, error)
}

// Store runs transactions. Update commits (durably) before it returns nil;
// if f fails nothing f did is kept.
type Store interface {
	View(f func(Tx) error) error
	Update(f func(Tx) error) error
}

// Mem is a Store in memory, for tests.
// Updates are serialised and undone on error, as a real store's are.
type Mem struct {
	mu      sync.RWMutex
	buckets map[Bucket]*memBucket
}

type memBucket struct {
	m      map[string][]byte
	keys   []string // sorted; nil when stale
	seq    uint64
	frozen bool
}

// NewMem returns an empty Mem.
func NewMem() *Mem { return &Mem{buckets: map[Bucket]*memBucket{}} }

func (m *Mem) bucket(b Bucket) *memBucket {
	mb := m.buckets[b]
	if mb == nil {
		mb = &memBucket{m: map[string][]byte{}}
		m.buckets[b] = mb
	}
	return mb
}

// View implements Store.
func (m *Mem) View(f func(Tx) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return f(&memTx{m: m})
}

// Update implements Store.
func (m *Mem) Update(f func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{m: m, write: true}
	if err := f(tx); err != nil {
		tx.rollback()
		return err
	}
	return nil
}

type undo struct {
	b     Bucket
	key   string
	old   []byte
	had   bool
	seq   uint64
	isSeq bool
}

type memTx struct {
	m     *Mem
	write bool
	log   []undo
}

var errReadOnly = errors.New("kv: write in a read-only transaction")

func checkKey(key []byte) error {
	if len(key) == 0 || len(key) > 32768 {
		return fmt.Errorf("kv: key of %d bytes: must be 1-32768", len(key))
	}
	return nil
}

func (t *memTx) Get(b Bucket, key []byte) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	mb := t.m.buckets[b]
	if mb == nil {
		return nil, fmt.Errorf("kv: %s %q: %w", b, key, ErrNotFound)
	}
	v, ok := mb.m[string(key)]
	if !ok {
		return nil, fmt.Errorf("kv: %s %q: %w", b, key, ErrNotFound)
	}
	return slices.Clone(v), nil
}

// writable returns b's bucket for a write of key.
func (t *memTx) writable(b Bucket, key []byte) (*memBucket, error) {
	if !t.write {
		return nil, errReadOnly
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	mb := t.m.bucket(b)
	if mb.frozen {
		return nil, fmt.Errorf("kv: %s: write during Each", b)
	}
	return mb, nil
}

func (t *memTx) Put(b Bucket, key, value []byte) error {
	mb, err := t.writable(b, key)
	if err != nil {
		return err
	}
	old, had := mb.m[string(key)]
	t.log = append(t.log, undo{b: b, key: string(key), old: old, had: had})
	if !had {
		mb.keys = nil
	}
	mb.m[string(key)] = append([]byte{}, value...)
	return nil
}

func (t *memTx) Delete(b Bucket, key []byte) error {
	mb, err := t.writable(b, key)
	if err != nil {
		return err
	}
	old, had := mb.m[string(key)]
	if !had {
		return nil
	}
	t.log = append(t.log, undo{b: b, key: string(key), old: old, had: true})
	delete(mb.m, string(key))
	mb.keys = nil
	return nil
}

func (t *memTx) Each(b Bucket, prefix []byte, fn func(key, value []byte) error) error {
	mb := t.m.buckets[b]
	if mb == nil {
		return nil
	}
	if mb.keys == nil {
		if !t.write {
			// A reader may not sort in place while other readers walk.
			keys := make([]string, 0, len(mb.m))
			for k := range mb.m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return walk(mb, keys, prefix, fn)
		}
		mb.keys = make([]string, 0, len(mb.m))
		for k := range mb.m {
			mb.keys = append(mb.keys, k)
		}
		sort.Strings(mb.keys)
	}
	if t.write {
		mb.frozen = true
		defer func() { mb.frozen = false }()
	}
	return walk(mb, mb.keys, prefix, fn)
}

func walk(mb *memBucket, keys []string, prefix []byte, fn func(key, value []byte) error) error {
	p := string(prefix)
	for i := sort.SearchStrings(keys, p); i < len(keys); i++ {
		k := keys[i]
		if len(k) < len(p) || k[:len(p)] != p {
			break
		}
		if err := fn([]byte(k), mb.m[k]); err != nil {
			return err
		}
	}
	return nil
}

func (t *memTx) NextSeq(b Bucket) (uint64, error) {
	if !t.write {
		return 0, errReadOnly
	}
	mb := t.m.bucket(b)
	t.log = append(t.log, undo{b: b, seq: mb.seq, isSeq: true})
	mb.seq++
	return mb.seq, nil
}

func (t *memTx) rollback() {
	for i := len(t.log) - 1; i >= 0; i-- {
		u := t.log[i]
		mb := t.m.bucket(u.b)
		switch {
		case u.isSeq:
			mb.seq = u.seq
		case u.had:
			if _, ok := mb.m[u.key]; !ok {
				mb.keys = nil
			}
			mb.m[u.key] = u.old
		default:
			delete(mb.m, u.key)
			mb.keys = nil
		}
	}
}

// GetJSON decodes the value under key into v; false (and no error) when
// there is none.
func GetJSON(tx Tx, b Bucket, key []byte, v any) (bool, error) {
	raw, err := tx.Get(b, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("kv: %s %x: damaged record: %w", b, key, err)
	}
	return true, nil
}

// PutJSON stores v as JSON under key.
func PutJSON(tx Tx, b Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(b, key, raw)
}

// EachJSON decodes every record under prefix, in key order.
func EachJSON[T any](tx Tx, b Bucket, prefix []byte) ([]T, error) {
	out := []T{}
	err := tx.Each(b, prefix, func(k, v []byte) error {
		var t T
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("kv: %s %x: damaged record: %w", b, k, err)
		}
		out = append(out, t)
		return nil
	})
	return out, err
}
