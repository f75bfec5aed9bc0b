package recording

import (
	"slices"
	"syscall"
	"time"

	"callbox/telephony/internal/jsonkv"
)

// Purge reasons, as Usage reports them.
const (
	PurgeAge     = "age"     // older than MaxAge
	PurgeQuota   = "quota"   // over Quota
	PurgeFloor   = "floor"   // the partition under MinFree
	PurgeDeleted = "deleted" // an administrator's Delete
)

// The purge log is kept in the Store under "l" + the removal's time +
// "-" + the recording's id (so it survives restarts and sorts by time),
// bounded: at most PurgeLogMax entries and none older than PurgeLogAge,
// the oldest dropped first.
const (
	PurgeLogMax = 1000
	PurgeLogAge = 90 * 24 * time.Hour
	// usagePurges is how many removals Usage lists.
	usagePurges = 20
	prefixPurge = 'l'
)

// PurgeEntry is one recording removed by retention or by hand.
type PurgeEntry struct {
	// Key orders the log and is the paging cursor of PurgeQuery.Before.
	Key    string `json:"key"`
	ID     string `json:"id"`
	CallID string `json:"call_id,omitempty"`
	// File is the removed file, relative to the recording directory.
	File  string    `json:"file,omitempty"`
	Start time.Time `json:"start"`
	At    time.Time `json:"at"`
	Bytes int64     `json:"bytes"`
	// Reason is one of the Purge constants; Detail says it in words
	// ("older than 2160h0m0s", "deleted by root").
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
	// Who removed it by hand (empty for retention).
	Who string `json:"who,omitempty"`
}

// PurgeQuery selects entries of the purge log, newest first.
type PurgeQuery struct {
	// Reason keeps one of the Purge constants ("": all).
	Reason string
	// Before pages on: only entries older than the one with this Key.
	Before string
	// Limit caps the answer (default 50, at most PurgeLogMax).
	Limit int
}

func (x index) purgeLog() jsonkv.Table[PurgeEntry] {
	return jsonkv.Table[PurgeEntry]{St: x.st, Prefix: []byte{prefixPurge}, Name: "recording: purge log", NotFound: ErrNotFound}
}

// Purges returns the purge log's entries that q selects, newest first, and
// whether older ones match too (ask again with Before the last Key).
func (r *Recorder) Purges(q PurgeQuery) (out []PurgeEntry, more bool, err error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, PurgeLogMax)
	// The log is bounded, so reading its range and reversing is cheap.
	var all []PurgeEntry
	if _, err := r.idx.purgeLog().Each("", q.Before, func(_ string, e PurgeEntry) bool {
		if q.Reason == "" || e.Reason == q.Reason {
			all = append(all, e)
		}
		return true
	}); err != nil {
		return nil, false, err
	}
	slices.Reverse(all)
	if len(all) > q.Limit {
		return all[:q.Limit], true, nil
	}
	return all, false, nil
}

// Usage is what the recordings take and what was removed lately.
type Usage struct {
	Count int
	Bytes int64
	// Free and Total describe the data partition (0 when statfs fails).
	Free, Total int64
	// Purges are the last removals, newest first (the whole log:
	// Recorder.Purges).
	Purges []PurgeEntry
}

// Usage reports the recordings' count and size, the partition's space and
// the last removals. It walks the index, so it is for an administrator's
// page, not a hot path.
func (r *Recorder) Usage() (Usage, error) {
	var u Usage
	if _, err := r.idx.each(time.Time{}, time.Time{}, func(rec Record) bool {
		u.Count++
		return true
	}); err != nil {
		return u, err
	}
	r.mu.Lock()
	u.Bytes = r.total
	r.mu.Unlock()
	purges, _, err := r.Purges(PurgeQuery{Limit: usagePurges})
	if err != nil {
		return u, err
	}
	u.Purges = purges
	if free, err := r.cfg.FreeSpace(r.cfg.Dir); err == nil {
		u.Free = free
	}
	var st syscall.Statfs_t
	if syscall.Statfs(r.cfg.Dir, &st) == nil {
		u.Total = int64(st.Blocks) * int64(st.Bsize)
	}
	return u, nil
}

// logPurge keeps a removal in the purge log and drops what is over its
// bounds. A failure to log is reported, not returned: the file is gone
// either way.
func (r *Recorder) logPurge(e PurgeEntry) {
	e.Key = e.At.UTC().Format(idTime) + "-" + e.ID
	log := r.idx.purgeLog()
	if err := log.Put(e.Key, e); err != nil {
		r.log.Error("recording purge not logged", "id", e.ID, "err", err)
		return
	}
	r.mu.Lock()
	r.purgeLogged++
	over := r.purgeLogged > PurgeLogMax
	r.mu.Unlock()
	if over {
		r.trimPurges()
	}
}

// trimPurges trims the purge log (at start, after each retention pass and
// when it grows past PurgeLogMax).
func (r *Recorder) trimPurges() {
	n := r.trimPurgeLog()
	r.mu.Lock()
	r.purgeLogged = n
	r.mu.Unlock()
}

// trimPurgeLog drops the entries older than PurgeLogAge and the oldest
// beyond PurgeLogMax, and returns how many are left.
func (r *Recorder) trimPurgeLog() int {
	log := r.idx.purgeLog()
	cutoff := r.cfg.Now().Add(-PurgeLogAge).UTC().Format(idTime)
	var keys []string
	_, err := log.Each("", "", func(k string, _ PurgeEntry) bool {
		keys = append(keys, k)
		return true
	})
	if err != nil {
		r.log.Error("recording purge log unreadable", "err", err)
		return len(keys)
	}
	drop := max(0, len(keys)-PurgeLogMax)
	for drop < len(keys) && keys[drop] < cutoff {
		drop++
	}
	for _, k := range keys[:drop] {
		if err := log.Delete(k); err != nil {
			r.log.Error("recording purge log not trimmed", "err", err)
			drop = 0
			break
		}
	}
	return len(keys) - drop
}
