package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Records are opaque key/value pairs kept for the call-centre engines
// (telephony/acd, telephony/ivr). The store does not know their types: the
// engines define small storage interfaces, and firmware/app adapts these
// accessors to them, choosing keys and encoding values (JSON). Keys sort
// bytewise, so an adapter builds them with Key so that a prefix selects one
// owner (an agent, a flow) and a range selects a span of time or versions.

// Records names a bucket of records. Every bucket is created by a migration;
// only the names below are accepted.
type Records string

// The record buckets (schema version 2).
const (
	// ACDConfig holds the ACD configuration under one key.
	ACDConfig Records = "acd_config"
	// ACDStatus is the agent status log, keyed by agent, time and a
	// sequence number so one agent's time range is one cursor seek.
	ACDStatus Records = "acd_status"
	// ACDCallbacks holds pending callbacks, keyed by call id.
	ACDCallbacks Records = "acd_callbacks"
	// IVRFlows holds every saved version of every IVR flow, keyed by flow id
	// and big-endian version.
	IVRFlows Records = "ivr_flows"
)

// The call centre's buckets (schema version 5).
const (
	// CCFacts holds one fact row per queue call, keyed by call id.
	CCFacts Records = "cc_facts"
	// CCDevices holds each agent's device binding, keyed by agent.
	CCDevices Records = "cc_devices"
)

// Migration 5 also made "cc_config", for an interim record of the call
// centre's configuration that the ccconf document (kept in ACDConfig)
// replaced: it stays empty and is no longer a record bucket.

var recordBuckets = append([]Records{ACDConfig, ACDStatus, ACDCallbacks, IVRFlows, CDRs, CCFacts, CCDevices, Fax, FaxJobs,
	Recordings, Voicemail, Conference}, CustomerRecords...)

// The fax buckets (schema version 7); the pages are TIFF files in the
// data directory.
const (
	// Fax holds the fax inbox and outbox, one record per fax keyed by its
	// id.
	Fax Records = "fax"
	// FaxJobs holds the scheduled fax jobs, keyed by job id.
	FaxJobs Records = "fax_jobs"
)

// records returns the bucket for r, refusing names no migration created.
func (t *Tx) records(r Records) (*bolt.Bucket, error) {
	for _, known := range recordBuckets {
		if r == known {
			return t.bucket([]byte(r))
		}
	}
	return nil, invalid("record", "bucket", fmt.Sprintf("%q is not a record bucket", string(r)))
}

func checkKey(r Records, key []byte) error {
	if len(key) == 0 || len(key) > bolt.MaxKeySize {
		return invalid("record", "key", fmt.Sprintf("%s: must be 1-%d bytes", r, bolt.MaxKeySize))
	}
	return nil
}

// Put stores value under key in r, replacing what was there. The key must
// be 1 to 32768 bytes. The store copies both, so the caller may reuse them.
func (t *Tx) Put(r Records, key, value []byte) error {
	b, err := t.records(r)
	if err != nil {
		return err
	}
	if err := checkKey(r, key); err != nil {
		return err
	}
	// Copies: bbolt keeps the slices it is given until the commit, and a
	// caller reusing its buffer would change what is written.
	return put(b, string(r)+" record", bytes.Clone(key), append([]byte{}, value...))
}

// Get returns a copy of the value stored under key in r, or an error
// wrapping ErrNotFound.
func (t *Tx) Get(r Records, key []byte) ([]byte, error) {
	b, err := t.records(r)
	if err != nil {
		return nil, err
	}
	if err := checkKey(r, key); err != nil {
		return nil, err
	}
	// A cursor rather than b.Get: it tells an empty value from a missing key.
	k, v := b.Cursor().Seek(key)
	if !bytes.Equal(k, key) {
		return nil, fmt.Errorf("store: %s record %q: %w", r, key, ErrNotFound)
	}
	return append([]byte{}, v...), nil
}

// Delete removes key from r; a missing key is not an error, so a retried
// delete is harmless.
func (t *Tx) Delete(r Records, key []byte) error {
	b, err := t.records(r)
	if err != nil {
		return err
	}
	if err := checkKey(r, key); err != nil {
		return err
	}
	if err := b.Delete(key); err != nil {
		return fmt.Errorf("store: delete %s record: %w", r, err)
	}
	return nil
}

// Each calls fn for every record in r whose key starts with prefix (all of
// them for an empty prefix), in ascending key order. key and value are valid
// only during the call: copy what is kept. An error from fn stops the walk
// and is returned as is. fn must not write to r.
func (t *Tx) Each(r Records, prefix []byte, fn func(key, value []byte) error) error {
	b, err := t.records(r)
	if err != nil {
		return err
	}
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Range calls fn for every record in r with from <= key < to, in ascending
// key order; a nil to means to the end of r. It seeks to from, so the cost
// is that of the records visited, not of r's size. The rules for fn are
// those of Each.
func (t *Tx) Range(r Records, from, to []byte, fn func(key, value []byte) error) error {
	b, err := t.records(r)
	if err != nil {
		return err
	}
	c := b.Cursor()
	for k, v := c.Seek(from); k != nil && (to == nil || bytes.Compare(k, to) < 0); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// DeleteRange removes every record in r with from <= key < to (a nil to
// means to the end of r) and returns how many it removed.
func (t *Tx) DeleteRange(r Records, from, to []byte) (int, error) {
	b, err := t.records(r)
	if err != nil {
		return 0, err
	}
	// Keys first, deletes after: deleting under a moving cursor can make
	// bbolt's Next skip a key.
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(from); k != nil && (to == nil || bytes.Compare(k, to) < 0); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, fmt.Errorf("store: delete %s records: %w", r, err)
		}
	}
	return len(keys), nil
}

// Count returns the number of records in r. It walks r's pages: for
// reports and tests, not for every call.
func (t *Tx) Count(r Records) (int, error) {
	b, err := t.records(r)
	if err != nil {
		return 0, err
	}
	return b.Stats().KeyN, nil
}

// NextSeq returns the next number of r's sequence, starting at 1: unique
// within r for the life of the file, so it orders records written in the
// same instant. Only in an Update; the number is used up only if the
// transaction commits.
func (t *Tx) NextSeq(r Records) (uint64, error) {
	b, err := t.records(r)
	if err != nil {
		return 0, err
	}
	n, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("store: %s sequence: %w", r, err)
	}
	return n, nil
}

// Key builds a composite record key from parts whose bytewise order is the
// order of the values: comparing two keys built from the same kinds of parts
// compares their parts in turn. Strings are escaped and terminated, so no
// string's key is a prefix of another's: Key(nil).AppendString("a") selects
// agent "a" and never agent "ab" or "a\x00b".
type Key []byte

// Encoding of strings in keys: 0x00 becomes 0x00 0xFF, and the string ends
// with 0x00 0x01. A terminator sorts below every escaped or ordinary byte
// that could follow, so shorter strings sort first, as in Go.
const (
	keyEsc  = 0x00
	keyNul  = 0xFF
	keyTerm = 0x01
)

// AppendString appends s, order-preserving and self-delimiting.
func (k Key) AppendString(s string) Key {
	for i := 0; i < len(s); i++ {
		if s[i] == keyEsc {
			k = append(k, keyEsc, keyNul)
		} else {
			k = append(k, s[i])
		}
	}
	return append(k, keyEsc, keyTerm)
}

// AppendUint64 appends v as 8 big-endian bytes.
func (k Key) AppendUint64(v uint64) Key { return binary.BigEndian.AppendUint64(k, v) }

// AppendTime appends t as 12 bytes: Unix seconds with the sign bit flipped
// (so times before 1970 sort first) and nanoseconds, both big-endian. Every
// time.Time is represented exactly, to the nanosecond; the location is not
// kept.
func (k Key) AppendTime(t time.Time) Key {
	k = binary.BigEndian.AppendUint64(k, uint64(t.Unix())^1<<63)
	return binary.BigEndian.AppendUint32(k, uint32(t.Nanosecond()))
}

// errKey reports a key part that does not decode.
var errKey = errors.New("store: malformed key")

// CutString decodes a string appended by AppendString at the start of k
// and returns it with the rest of k. It accepts only what AppendString
// writes, so a decoded key re-encodes to the same bytes.
func CutString(k []byte) (s string, rest []byte, err error) {
	var buf []byte
	for i := 0; i < len(k); i++ {
		if k[i] != keyEsc {
			continue
		}
		if i+1 == len(k) {
			break
		}
		buf = append(buf, k[:i]...)
		switch k[i+1] {
		case keyTerm:
			return string(buf), k[i+2:], nil
		case keyNul:
			buf = append(buf, 0)
			k = k[i+2:]
			i = -1
		default:
			return "", nil, fmt.Errorf("%w: byte %#x after 0x00 in a string", errKey, k[i+1])
		}
	}
	return "", nil, fmt.Errorf("%w: unterminated string", errKey)
}

// CutUint64 decodes a number appended by AppendUint64.
func CutUint64(k []byte) (v uint64, rest []byte, err error) {
	if len(k) < 8 {
		return 0, nil, fmt.Errorf("%w: %d bytes left for a uint64", errKey, len(k))
	}
	return binary.BigEndian.Uint64(k), k[8:], nil
}

// CutTime decodes a time appended by AppendTime, in UTC.
func CutTime(k []byte) (t time.Time, rest []byte, err error) {
	if len(k) < 12 {
		return time.Time{}, nil, fmt.Errorf("%w: %d bytes left for a time", errKey, len(k))
	}
	sec := int64(binary.BigEndian.Uint64(k) ^ 1<<63)
	nsec := binary.BigEndian.Uint32(k[8:])
	if nsec >= 1e9 {
		return time.Time{}, nil, fmt.Errorf("%w: %d nanoseconds", errKey, nsec)
	}
	return time.Unix(sec, int64(nsec)).UTC(), k[12:], nil
}
