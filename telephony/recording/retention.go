package recording

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// retain is the retention goroutine: a pass at start, every PurgeEvery,
// and soon after a recording ends or the settings change.
func (r *Recorder) retain(ctx context.Context) {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.PurgeEvery)
	defer t.Stop()
	for {
		if _, err := r.Purge(); err != nil {
			r.log.Warn("recording retention pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.purgeNow:
		}
	}
}

func (r *Recorder) pokePurge() {
	select {
	case r.purgeNow <- struct{}{}:
	default:
	}
}

// Purged says what a retention pass removed.
type Purged struct {
	Count int
	Bytes int64
	floor int // of them for the free-space floor
}

// purgeBatch bounds the records one walk of the index collects.
const purgeBatch = 64

// Purge applies the retention settings once, oldest recordings first:
// those older than MaxAge, then as many as it takes to bring the total
// under Quota and the data partition's free space over MinFree.
// Recordings in progress are never purged. Every removal is logged with
// its reason. When nothing more can go and the partition is still under
// its floor, the alarm is raised.
func (r *Recorder) Purge() (Purged, error) {
	r.purgeMu.Lock()
	defer r.purgeMu.Unlock()
	r.mu.Lock()
	set := r.set
	r.mu.Unlock()
	now := r.cfg.Now()
	var out Purged
	for {
		r.mu.Lock()
		total := r.total
		busy := make(map[string]bool, len(r.active))
		for id := range r.active {
			busy[id] = true
		}
		r.mu.Unlock()
		free, ferr := r.cfg.FreeSpace(r.cfg.Dir)
		lowSpace := func() bool { return set.MinFree > 0 && ferr == nil && free < set.MinFree }
		type victim struct {
			rec          Record
			code, reason string
		}
		var batch []victim
		floorLeft := 0 // recordings purged for the floor
		if _, err := r.idx.each(time.Time{}, time.Time{}, func(rec Record) bool {
			if busy[rec.ID] || rec.State == Recording {
				return true
			}
			var code, reason string
			switch {
			case set.MaxAge > 0 && now.Sub(rec.Start) > set.MaxAge:
				code, reason = PurgeAge, "older than "+set.MaxAge.String()
			case set.Quota > 0 && total > set.Quota:
				code, reason = PurgeQuota, fmt.Sprintf("over the quota of %d bytes", set.Quota)
			case lowSpace():
				code, reason = PurgeFloor, fmt.Sprintf("under %d bytes free", set.MinFree)
				floorLeft++
			default:
				return false // the rest are younger and fit
			}
			batch = append(batch, victim{rec, code, reason})
			total -= rec.Size
			free += rec.Size
			return len(batch) < purgeBatch
		}); err != nil {
			return out, err
		}
		for _, v := range batch {
			if err := r.remove(v.rec, v.code, v.reason, ""); err != nil {
				return out, err
			}
			out.Count++
			out.Bytes += v.rec.Size
		}
		out.floor += floorLeft
		if len(batch) < purgeBatch {
			break
		}
	}
	r.checkAlarms(set, out.floor > 0)
	r.trimPurges()
	return out, nil
}

// checkAlarms raises or clears the alarms after a pass. Running out of
// room is raised where it stops a recording (Begin, a write); a pass
// raises the low-space alarm only when it purged for the floor and could
// not reach it (the recordings are being eaten up), and clears the space
// alarms once there is room again.
func (r *Recorder) checkAlarms(set Settings, purgedForFloor bool) {
	free, err := r.cfg.FreeSpace(r.cfg.Dir)
	_, derr := os.Stat(r.cfg.Dir)
	r.mu.Lock()
	defer r.mu.Unlock()
	code := ""
	if r.alarm != nil {
		code = r.alarm.Code
	}
	switch {
	case derr != nil:
		r.raise(AlarmDir, fmt.Sprintf("%s: %v", r.cfg.Dir, derr))
	case err != nil:
	case set.MinFree > 0 && free < set.MinFree:
		if purgedForFloor && code != AlarmFull {
			r.raise(AlarmLow, fmt.Sprintf("%d bytes free, under the floor of %d, and nothing left to purge", free, set.MinFree))
		}
	case free < FullMargin:
	case code == AlarmFull || code == AlarmLow || code == AlarmDir:
		r.clear()
	}
}

// remove deletes a recording's file and its entry and logs why (code is
// one of the Purge constants, reason its words, who the user removing it
// by hand).
func (r *Recorder) remove(rec Record, code, reason, who string) error {
	path := filepath.Join(r.cfg.Dir, rec.File)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("recording: purge %s: %w", rec.ID, err)
	}
	if err := r.idx.remove(rec.ID); err != nil {
		return err
	}
	if rec.State != Recording {
		r.mu.Lock()
		r.total -= rec.Size
		r.mu.Unlock()
	}
	// Empty day, month and year directories go too (Remove refuses the
	// others).
	for dir := filepath.Dir(path); dir != r.cfg.Dir && len(dir) > len(r.cfg.Dir); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	r.log.Info("recording purged", "id", rec.ID, "call", rec.CallID, "service", rec.ServiceID,
		"start", rec.Start, "bytes", rec.Size, "reason", reason)
	r.logPurge(PurgeEntry{ID: rec.ID, CallID: rec.CallID, File: rec.File, Start: rec.Start, At: r.cfg.Now(), Bytes: rec.Size,
		Reason: code, Detail: reason, Who: who})
	return nil
}
