package recording

import (
	"slices"
	"syscall"
	"time"
)

// Purge reasons, as Usage reports them.
const (
	PurgeAge     = "age"     // older than MaxAge
	PurgeQuota   = "quota"   // over Quota
	PurgeFloor   = "floor"   // the partition under MinFree
	PurgeDeleted = "deleted" // an administrator's Delete
)

// purgeLogLen bounds the removals Usage remembers.
const purgeLogLen = 20

// PurgeEntry is one recording removed by retention or by hand.
type PurgeEntry struct {
	ID, CallID string
	Start, At  time.Time
	Bytes      int64
	// Reason is one of the Purge constants; Detail says it in words
	// ("older than 2160h0m0s", "deleted by root").
	Reason, Detail string
}

// Usage is what the recordings take and what was removed lately.
type Usage struct {
	Count int
	Bytes int64
	// Free and Total describe the data partition (0 when statfs fails).
	Free, Total int64
	// Purges are the last removals since the start, newest first.
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
	u.Purges = slices.Clone(r.purges)
	r.mu.Unlock()
	slices.Reverse(u.Purges)
	if free, err := r.cfg.FreeSpace(r.cfg.Dir); err == nil {
		u.Free = free
	}
	var st syscall.Statfs_t
	if syscall.Statfs(r.cfg.Dir, &st) == nil {
		u.Total = int64(st.Blocks) * int64(st.Bsize)
	}
	return u, nil
}

// logPurge remembers a removal for Usage, keeping the last purgeLogLen.
func (r *Recorder) logPurge(e PurgeEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.purges) == purgeLogLen {
		r.purges = slices.Delete(r.purges, 0, 1)
	}
	r.purges = append(r.purges, e)
}
