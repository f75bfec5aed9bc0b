package recording

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRetention purges oldest first by age, by quota and by the free-space
// floor, logs every purge with its reason, and never touches a recording in
// progress.
func TestRetention(t *testing.T) {
	clk := &clock{t: t0}
	var logs logBuf
	// A partition of capacity bytes holding only the recordings.
	var capacity atomic.Int64
	capacity.Store(1 << 40)
	free := func(dir string) (int64, error) { return capacity.Load() - du(dir), nil }
	r := newRecorder(t, Config{Now: clk.Now, Log: logs.logger(), FreeSpace: free})
	c := newCall(t, 500, 1300)
	var recs []Record
	for i := range 6 {
		recs = append(recs, c.record(t, r, Meta{CallID: string(rune('a' + i))}, 100)) // 1 s: 16 kB + header
		clk.Add(24 * time.Hour)
	}
	// One in progress since before them all would be older than anything.
	live, err := r.Begin(Meta{CallID: "live"})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Stop()
	left := func() (ids string) {
		all, _ := r.Search(Query{From: t0.Add(-time.Hour), Limit: 100})
		for i := len(all) - 1; i >= 0; i-- {
			ids += all[i].CallID
		}
		return ids
	}
	size := recs[0].Size

	// SetSettings starts a pass in the background too; Purge waits for it,
	// so what is left is known but not which pass removed it.

	// Age: now is t0+6d; older than 4.5 days are a and b.
	if err := r.SetSettings(Settings{MaxAge: 108 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if p, err := r.Purge(); err != nil || left() != "cdeflive" {
		t.Fatalf("by age: %+v %v, left %q", p, err, left())
	}
	// Quota: room for two and a half recordings keeps the newest two.
	r.SetSettings(Settings{Quota: 5 * size / 2})
	if p, err := r.Purge(); err != nil || left() != "eflive" {
		t.Fatalf("by quota: %+v %v, left %q", p, err, left())
	}
	// Floor: a recording short of the floor purges one more.
	capacity.Store(64<<20 + du(r.cfg.Dir) - size/2)
	r.SetSettings(Settings{MinFree: 64 << 20})
	if p, err := r.Purge(); err != nil || left() != "flive" {
		t.Fatalf("by free space: %+v %v, left %q", p, err, left())
	}
	if _, ok := r.Alarm(); ok {
		t.Fatal("an alarm while the floor is kept")
	}
	// Nothing left to purge but the floor is not met: the alarm, and the
	// recording in progress is kept.
	capacity.Store(40 << 20)
	if p, err := r.Purge(); err != nil || left() != "live" {
		t.Fatalf("down to the live one: %+v %v, left %q", p, err, left())
	}
	if a, ok := r.Alarm(); !ok || a.Code != AlarmLow {
		t.Fatalf("alarm %+v %v", a, ok)
	}
	purges := logs.lines("recording purged")
	if len(purges) != 6 {
		t.Fatalf("%d purges logged:\n%s", len(purges), strings.Join(purges, "\n"))
	}
	for i, want := range []string{"older than", "older than", "over the quota", "over the quota", "free", "free"} {
		if !strings.Contains(purges[i], want) || !strings.Contains(purges[i], "call="+string(rune('a'+i))) {
			t.Errorf("purge %d logged as %q", i, purges[i])
		}
	}
	for _, rec := range recs {
		if _, err := os.Stat(filepath.Join(r.cfg.Dir, rec.File)); !os.IsNotExist(err) {
			t.Errorf("%s's file is still there: %v", rec.CallID, err)
		}
	}
	// The empty day directories went with their files.
	days, _ := filepath.Glob(filepath.Join(r.cfg.Dir, "*", "*", "*"))
	if len(days) != 1 {
		t.Errorf("directories left: %v", days)
	}
	// Usage lists the removals newest first with their reasons, and
	// counts what is left (the live one, not yet in the total).
	u, err := r.Usage()
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, p := range u.Purges {
		reasons = append(reasons, p.CallID+":"+p.Reason)
		if p.Bytes != size || !p.At.Equal(clk.Now()) {
			t.Errorf("purge %+v: want %d bytes at %v", p, size, clk.Now())
		}
	}
	if got := strings.Join(reasons, " "); got != "f:floor e:floor d:quota c:quota b:age a:age" || u.Count != 1 || u.Bytes != 0 || u.Total == 0 {
		t.Errorf("usage: %d recordings, %d bytes, total %d, purges %s", u.Count, u.Bytes, u.Total, got)
	}
}

// TestRetentionTotalsSurviveRestart: the quota's total is read back at
// start from the index, so a restart purges as the running box would.
func TestRetentionTotalsSurviveRestart(t *testing.T) {
	clk := &clock{t: t0}
	st := newMemStore()
	dir := t.TempDir() + "/recordings"
	r := newRecorder(t, Config{Dir: dir, Store: st, Now: clk.Now})
	c := newCall(t, 500, 1300)
	var size int64
	for i := range 4 {
		size = c.record(t, r, Meta{CallID: string(rune('a' + i))}, 100).Size
		clk.Add(time.Minute)
	}
	r.Close()
	r2 := newRecorder(t, Config{Dir: dir, Store: st, Now: clk.Now, Settings: Settings{Quota: 3 * size}})
	if _, err := r2.Purge(); err != nil {
		t.Fatal(err)
	}
	all, err := r2.Search(Query{From: t0.Add(-time.Hour)})
	if err != nil || len(all) != 3 || all[2].CallID != "b" {
		t.Fatalf("after a restart the quota kept %d recordings (want b, c, d): %v", len(all), err)
	}
}

// du adds up the sizes of the files under dir.
func du(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
