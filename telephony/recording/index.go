package recording

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"callbox/telephony/internal/jsonkv"
)

// Store holds the index as ordered key/value pairs (firmware/app backs it
// with a bucket of the box's store); the contract is jsonkv's.
type Store = jsonkv.Store

// Direction says who called whom.
type Direction string

// Directions of a recorded call.
const (
	Inbound  Direction = "in"
	Outbound Direction = "out"
	Internal Direction = "internal"
)

// Meta is what a recording is about; the call-centre service fills it in.
type Meta struct {
	// CallID is the switch's call id of the recorded leg's call.
	CallID string `json:"call_id"`
	// ServiceID links the recordings of one service: the consultation,
	// three-way and transfer legs carry the id of the call the customer
	// made, so the whole conversation is found from any of its records.
	// Empty means CallID.
	ServiceID string    `json:"service_id"`
	Agent     string    `json:"agent,omitempty"`
	Group     string    `json:"group,omitempty"`
	Customer  string    `json:"customer,omitempty"`
	Direction Direction `json:"direction,omitempty"`
	// Kind says what was recorded: "service" (a queue call), "outbound"
	// (an agent's call), "demand" (started by hand), "conference".
	Kind string `json:"kind,omitempty"`
	// WorkOrder is the records issue's work-order reference.
	WorkOrder string `json:"work_order,omitempty"`
}

// State is where a recording is in its life.
type State string

// Recording states.
const (
	// Recording: the file is being written (or was, when the box stopped;
	// the next start repairs it).
	Recording State = "recording"
	// Done: the recording ended normally.
	Done State = "done"
	// Repaired: the box stopped during the recording; the file was
	// repaired at the next start and holds what was written.
	Repaired State = "repaired"
	// Failed: writing stopped early (a full disk, a vanished directory);
	// the file holds what was written before, Error says why.
	Failed State = "failed"
)

// Record is a recording's entry in the index.
type Record struct {
	ID string `json:"id"`
	Meta
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	Size     int64         `json:"size"`
	Encoding string        `json:"encoding"`
	Channels int           `json:"channels"`
	// File is the path of the WAV file under the recording directory.
	File  string `json:"file"`
	State State  `json:"state"`
	// Dropped counts 10 ms frames the writer could not keep (they were
	// replaced by silence, so the timing stays true).
	Dropped uint64 `json:"dropped,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Errors a caller may branch on.
var (
	// ErrNotFound: no recording has that id.
	ErrNotFound = errors.New("recording: not found")
	// ErrFull: the data partition has no room for recordings; calls go on
	// unrecorded and an alarm is raised.
	ErrFull = errors.New("recording: no space for recordings")
	// ErrNoDirectory: the recording directory is missing (an unmounted
	// data partition); nothing is recorded until it is back.
	ErrNoDirectory = errors.New("recording: the recording directory is missing")
	// ErrFileMissing: a recording's entry is in the index but its file is
	// gone.
	ErrFileMissing = errors.New("recording: the file is missing")
	// ErrBusy: the recording is still in progress.
	ErrBusy = errors.New("recording: still being recorded")
)

// Keys: "r" + id for records, "p" + id for the markers of recordings in
// progress (so a restart finds them without walking every record), "s" +
// id for each finished recording's size (so the quota's total is summed at
// start without decoding every record), and "c" for the settings.
const (
	prefixRecord   = 'r'
	prefixProgress = 'p'
	prefixSize     = 's'
	keySettings    = "c"
)

func recordKey(id string) []byte   { return append([]byte{prefixRecord}, id...) }
func progressKey(id string) []byte { return append([]byte{prefixProgress}, id...) }
func sizeKey(id string) []byte     { return append([]byte{prefixSize}, id...) }

// idTime is the layout of the time at the start of an id: ids sort by
// start time (to the microsecond, so calls starting in the same second keep
// their order), so a time range is a key range.
const idTime = "20060102T150405.000000Z"

// newID returns an id for a recording started at t.
func newID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format(idTime) + "-" + hex.EncodeToString(b[:])
}

// ValidID reports whether id has the shape newID gives, so that an id from
// a URL can name a file safely.
func ValidID(id string) bool {
	if len(id) != len(idTime)+9 || id[len(idTime)] != '-' {
		return false
	}
	if _, err := time.Parse(idTime, id[:len(idTime)]); err != nil {
		return false
	}
	_, err := hex.DecodeString(id[len(idTime)+1:])
	return err == nil
}

// index is the recordings' index over a Store.
type index struct{ st Store }

// records is the table of the records: "r" + id.
func (x index) records() jsonkv.Table[Record] {
	return jsonkv.Table[Record]{St: x.st, Prefix: []byte{prefixRecord}, Name: "recording: index", NotFound: ErrNotFound}
}

func (x index) put(r Record) error { return x.records().Put(r.ID, r) }

func (x index) get(id string) (Record, error) { return x.records().Get(id) }

func (x index) markProgress(id string, on bool) error {
	var err error
	if on {
		err = x.st.Put(progressKey(id), nil)
	} else {
		err = x.st.Delete(progressKey(id))
	}
	if err != nil {
		return fmt.Errorf("recording: index %s: %w", id, err)
	}
	return nil
}

// settings returns the stored settings, if any.
func (x index) settings() (Settings, bool, error) {
	v, ok, err := x.st.Get([]byte(keySettings))
	if err != nil || !ok {
		return Settings{}, false, err
	}
	var set Settings
	if err := json.Unmarshal(v, &set); err != nil {
		return Settings{}, false, fmt.Errorf("recording: stored settings: %w", err)
	}
	return set, true, nil
}

func (x index) putSettings(set Settings) error {
	v, err := json.Marshal(set)
	if err == nil {
		err = x.st.Put([]byte(keySettings), v)
	}
	if err != nil {
		return fmt.Errorf("recording: settings: %w", err)
	}
	return nil
}

// putSize records a finished recording's size.
func (x index) putSize(id string, size int64) error {
	if err := x.st.Put(sizeKey(id), binary.BigEndian.AppendUint64(nil, uint64(size))); err != nil {
		return fmt.Errorf("recording: index %s: %w", id, err)
	}
	return nil
}

// remove deletes a recording's keys, the record last: a crash half way
// leaves a record that the next purge removes again.
func (x index) remove(id string) error {
	for _, k := range [][]byte{sizeKey(id), progressKey(id), recordKey(id)} {
		if err := x.st.Delete(k); err != nil {
			return fmt.Errorf("recording: index %s: %w", id, err)
		}
	}
	return nil
}

// totalSize adds up the finished recordings' sizes.
func (x index) totalSize() (int64, error) {
	var total int64
	err := x.st.Range([]byte{prefixSize}, []byte{prefixSize + 1}, func(_, v []byte) error {
		if len(v) == 8 {
			total += int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("recording: index: %w", err)
	}
	return total, nil
}

// inProgress lists the ids marked as being recorded.
func (x index) inProgress() ([]string, error) {
	var ids []string
	err := x.st.Range([]byte{prefixProgress}, []byte{prefixProgress + 1}, func(k, _ []byte) error {
		ids = append(ids, string(k[1:]))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recording: index: %w", err)
	}
	return ids, nil
}

// each calls fn for the records from from to to (zero: no bound) in start
// order; fn returns false to stop. Unreadable records are skipped and
// counted in bad.
func (x index) each(from, to time.Time, fn func(Record) bool) (bad int, err error) {
	var lo, hi string
	if !from.IsZero() {
		lo = from.UTC().Format(idTime)
	}
	if !to.IsZero() {
		hi = to.UTC().Format(idTime)
	}
	return x.records().Each(lo, hi, func(_ string, r Record) bool { return fn(r) })
}

// Query selects recordings. The zero Query lists the newest.
type Query struct {
	// From and To bound the start time (From <= start < To); zero To is
	// now, zero From is 31 days before To.
	From, To time.Time
	// Agent, Group and Service match exactly; Customer matches a part of
	// the customer's number.
	Agent, Group, Customer, Service string
	// Limit caps the answer (default 100, at most 1000).
	Limit int
}

// MaxLimit is the largest Query.Limit.
const MaxLimit = 1000

// search returns the matching records, newest first. It walks the range a
// day at a time from its end, so a limited answer reads few records.
func (x index) search(q Query, now time.Time) ([]Record, error) {
	if q.To.IsZero() {
		q.To = now.Add(time.Second)
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-31 * 24 * time.Hour)
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, MaxLimit)
	out := []Record{}
	for hi := q.To; hi.After(q.From) && len(out) < q.Limit; {
		lo := hi.Add(-24 * time.Hour)
		if lo.Before(q.From) {
			lo = q.From
		}
		var day []Record
		if _, err := x.each(lo, hi, func(r Record) bool {
			if q.match(r) {
				day = append(day, r)
			}
			return true
		}); err != nil {
			return nil, err
		}
		for i := len(day) - 1; i >= 0 && len(out) < q.Limit; i-- {
			out = append(out, day[i])
		}
		hi = lo
	}
	return out, nil
}

func (q Query) match(r Record) bool {
	switch {
	case q.Agent != "" && r.Agent != q.Agent,
		q.Group != "" && r.Group != q.Group,
		q.Service != "" && r.ServiceID != q.Service,
		q.Customer != "" && !strings.Contains(r.Customer, q.Customer):
		return false
	}
	return true
}
