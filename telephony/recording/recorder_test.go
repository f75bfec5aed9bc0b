package recording

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// TestRecordBothChannels records a bridged call from the customer's leg:
// the file has the customer on channel 1 and the agent on channel 2, the
// index has the call's details, its duration and size.
func TestRecordBothChannels(t *testing.T) {
	for _, e := range []Encoding{ALaw, MuLaw, PCM16} {
		t.Run(e.String(), func(t *testing.T) {
			clk := &clock{t: t0}
			r := newRecorder(t, Config{Now: clk.Now, Settings: Settings{Encoding: e}})
			c := newCall(t, 500, 1300)
			m := Meta{CallID: "c1", Agent: "1001", Group: "sales", Customer: "13800138000", Direction: Inbound, Kind: "service"}
			rec := c.record(t, r, m, 250)
			if rec.State != Done || rec.Duration != 2500*time.Millisecond || rec.ServiceID != "c1" || rec.Encoding != e.String() {
				t.Fatalf("record %+v", rec)
			}
			path := filepath.Join(r.cfg.Dir, rec.File)
			if rec.Size != fileSize(t, path) {
				t.Fatalf("index says %d bytes, file has %d", rec.Size, fileSize(t, path))
			}
			got, err := r.Get(rec.ID)
			if err != nil || got.Duration != rec.Duration || got.Agent != "1001" {
				t.Fatalf("Get: %+v %v", got, err)
			}
			cust, agent := soxChannel(t, path, 1), soxChannel(t, path, 2)
			if len(cust) != 20000 {
				t.Fatalf("sox reads %d samples, want 20000", len(cust))
			}
			if g := goertzel(cust, 500); g < 0.9 {
				t.Errorf("the customer's channel holds %.2f of the customer's tone", g)
			}
			if g := goertzel(agent, 1300); g < 0.9 {
				t.Errorf("the agent's channel holds %.2f of the agent's tone", g)
			}
		})
	}
}

// TestDroppedFramesKeepTime: a writer that falls behind (the tap's ring
// overflows) loses frames, which become silence, so the file still lasts
// as long as the call and both channels stay aligned.
func TestDroppedFramesKeepTime(t *testing.T) {
	r := newRecorder(t, Config{TapFrames: 4})
	c := newCall(t, 500, 1300)
	s, err := r.Begin(Meta{CallID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	c.e.SetTap(c.customer, s.Tap())
	for range 100 {
		c.e.Tick() // no pause: the writer cannot keep up with 4 frames
	}
	c.e.SetTap(c.customer, nil)
	rec, err := s.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Duration > time.Second || rec.Duration < 900*time.Millisecond {
		t.Fatalf("100 ticks recorded as %v (dropped %d)", rec.Duration, rec.Dropped)
	}
	t.Logf("dropped %d of 100 frames, file lasts %v", rec.Dropped, rec.Duration)
}

// TestSearch finds recordings by time range, agent, group, customer and
// service, newest first, and Legs links a service's legs.
func TestSearch(t *testing.T) {
	clk := &clock{t: t0}
	r := newRecorder(t, Config{Now: clk.Now})
	c := newCall(t, 500, 1300)
	metas := []struct {
		Meta
		after time.Duration // until the next one starts
	}{
		{Meta{CallID: "a", Agent: "1001", Group: "sales", Customer: "13800138000"}, time.Hour},
		{Meta{CallID: "b", ServiceID: "a", Agent: "1002", Group: "support", Customer: "13800138000"}, 30 * time.Hour}, // a transfer of a
		{Meta{CallID: "c", Agent: "1001", Group: "support", Customer: "02584000000"}, 30 * time.Hour},
		{Meta{CallID: "d", Agent: "1003", Group: "sales", Customer: "13900000000"}, 0},
	}
	var recs []Record
	for _, m := range metas {
		recs = append(recs, c.record(t, r, m.Meta, 10))
		clk.Add(m.after)
	}
	ids := func(rs []Record) (s []string) {
		for _, r := range rs {
			s = append(s, r.CallID)
		}
		return s
	}
	for _, tc := range []struct {
		q    Query
		want []string
	}{
		{Query{}, []string{"d", "c", "b", "a"}},
		{Query{Agent: "1001"}, []string{"c", "a"}},
		{Query{Group: "support"}, []string{"c", "b"}},
		{Query{Customer: "138001"}, []string{"b", "a"}},
		{Query{Service: "a"}, []string{"b", "a"}},
		{Query{From: t0.Add(30 * time.Minute), To: t0.Add(32 * time.Hour)}, []string{"c", "b"}},
		{Query{Limit: 1}, []string{"d"}},
		{Query{Agent: "9999"}, nil},
	} {
		got, err := r.Search(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if g := ids(got); len(g) != len(tc.want) || (len(g) > 0 && !equal(g, tc.want)) {
			t.Errorf("%+v: %v, want %v", tc.q, g, tc.want)
		}
	}
	legs, err := r.Legs(recs[1])
	if err != nil || !equal(ids(legs), []string{"a", "b"}) {
		t.Fatalf("legs of b: %v %v", ids(legs), err)
	}
	if _, err := r.Get("../../etc/passwd"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a bad id: %v", err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRecoverAfterCrash: the box stops in the middle of a recording
// without finishing it (its goroutine never got to Stop); the next start
// repairs the file and the entry, which says what survived.
func TestRecoverAfterCrash(t *testing.T) {
	st := newMemStore()
	dir := t.TempDir() + "/recordings"
	r := newRecorder(t, Config{Dir: dir, Store: st, FlushFrames: 10})
	c := newCall(t, 500, 1300)
	s, err := r.Begin(Meta{CallID: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	c.e.SetTap(c.customer, s.Tap())
	c.run(155)
	c.e.SetTap(c.customer, nil)
	// What a crash leaves: whatever the last flush wrote, plus half a
	// frame of a write the power cut interrupted.
	path := filepath.Join(dir, s.rec.File)
	waitFor(t, func() bool { return fileSize(t, path) >= int64(g711Header+150*160) })
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(make([]byte, 81))
	f.Close()

	r2 := newRecorder(t, Config{Dir: dir, Store: st})
	rec, err := r2.Get(s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != Repaired || rec.Duration < 1500*time.Millisecond || rec.Size != fileSize(t, path) {
		t.Fatalf("after the restart: %+v (file %d bytes)", rec, fileSize(t, path))
	}
	if cust := soxChannel(t, path, 1); goertzel(cust[:12000], 500) < 0.9 {
		t.Fatalf("the repaired file does not hold the customer's tone")
	}
	if ids, _ := r2.idx.inProgress(); len(ids) != 0 {
		t.Fatalf("still marked in progress: %v", ids)
	}
	s.Stop() // the first recorder's writer, for the test's cleanup
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("timed out")
}

// TestVanishedDirectory: the recording directory disappears (an unmounted
// partition, a careless rm) during a recording. That recording fails with
// a clear error and an alarm, the next ones are refused with
// ErrNoDirectory (nothing is written to the file system beneath), the
// index keeps every entry, and recording resumes once the directory is
// back.
func TestVanishedDirectory(t *testing.T) {
	clk := &clock{t: t0}
	r := newRecorder(t, Config{Now: clk.Now})
	c := newCall(t, 500, 1300)
	old := c.record(t, r, Meta{CallID: "before"}, 10)
	s, err := r.Begin(Meta{CallID: "during"})
	if err != nil {
		t.Fatal(err)
	}
	c.e.SetTap(c.customer, s.Tap())
	c.run(50)
	if err := os.RemoveAll(r.cfg.Dir); err != nil {
		t.Fatal(err)
	}
	c.run(50)
	c.e.SetTap(c.customer, nil)
	rec, err := s.Stop()
	if !errors.Is(err, ErrFileMissing) || rec.State != Failed {
		t.Fatalf("the recording whose directory vanished: %+v, %v", rec, err)
	}
	if _, err := r.Begin(Meta{CallID: "after"}); !errors.Is(err, ErrNoDirectory) {
		t.Fatalf("Begin without the directory: %v", err)
	}
	if _, err := os.Stat(r.cfg.Dir); err == nil {
		t.Fatal("Begin created the directory again")
	}
	if a, ok := r.Alarm(); !ok || a.Code != AlarmDir {
		t.Fatalf("alarm %+v %v", a, ok)
	}
	all, err := r.Search(Query{})
	if err != nil || len(all) != 2 {
		t.Fatalf("the index lost entries: %d, %v", len(all), err)
	}
	if _, _, err := r.Open(old.ID, true); !errors.Is(err, ErrFileMissing) {
		t.Fatalf("opening a vanished file: %v", err)
	}
	os.Mkdir(r.cfg.Dir, 0o750)
	c.record(t, r, Meta{CallID: "back"}, 10)
	if a, ok := r.Alarm(); ok {
		t.Fatalf("the alarm stays: %+v", a)
	}
}

// TestFullDiskRefuses: with no room left, Begin fails with ErrFull and
// raises the alarm; the call is not concerned.
func TestFullDiskRefuses(t *testing.T) {
	var free atomic.Int64
	free.Store(1 << 20)
	r := newRecorder(t, Config{FreeSpace: func(string) (int64, error) { return free.Load(), nil },
		Settings: Settings{MinFree: 64 << 20}})
	if _, err := r.Begin(Meta{CallID: "x"}); !errors.Is(err, ErrFull) {
		t.Fatalf("Begin on a full disk: %v", err)
	}
	if a, ok := r.Alarm(); !ok || a.Code != AlarmFull {
		t.Fatalf("alarm %+v %v", a, ok)
	}
	free.Store(1 << 30)
	c := newCall(t, 500, 1300)
	c.record(t, r, Meta{CallID: "y"}, 10)
	if a, ok := r.Alarm(); ok {
		t.Fatalf("the alarm stays: %+v", a)
	}
}

// TestSettingsPersist: settings saved by one recorder are the next one's.
func TestSettingsPersist(t *testing.T) {
	st := newMemStore()
	dir := t.TempDir() + "/recordings"
	r := newRecorder(t, Config{Dir: dir, Store: st})
	want := Settings{Encoding: PCM16, MaxAge: 90 * 24 * time.Hour, Quota: 1 << 30, MinFree: 256 << 20, Consent: "consent"}
	if err := r.SetSettings(want); err != nil {
		t.Fatal(err)
	}
	if err := r.SetSettings(Settings{Quota: -1}); err == nil {
		t.Fatal("a negative quota was taken")
	}
	r.Close()
	r2 := newRecorder(t, Config{Dir: dir, Store: st, Settings: Settings{Encoding: ALaw}})
	if got := r2.Settings(); got != want {
		t.Fatalf("settings after a restart: %+v, want %+v", got, want)
	}
}
