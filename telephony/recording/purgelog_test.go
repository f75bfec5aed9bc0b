package recording

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestPurgeLogSurvivesRestart: removals by retention and by hand are in the
// store, so a recorder started again on the same store lists them, with
// who, file, size and reason, filtered by reason and paged.
func TestPurgeLogSurvivesRestart(t *testing.T) {
	clk := &clock{t: t0}
	st := newMemStore()
	dir := t.TempDir() + "/recordings"
	r := newRecorder(t, Config{Dir: dir, Store: st, Now: clk.Now})
	c := newCall(t, 500, 1300)
	var recs []Record
	for i := range 4 {
		recs = append(recs, c.record(t, r, Meta{CallID: string(rune('a' + i))}, 100))
		clk.Add(24 * time.Hour)
	}
	if err := r.Delete(recs[3].ID, "admin"); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	if err := r.SetSettings(Settings{MaxAge: 60 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Purge(); err != nil {
		t.Fatal(err)
	}
	r.Close()

	r2 := newRecorder(t, Config{Dir: dir, Store: st, Now: clk.Now})
	all, more, err := r2.Purges(PurgeQuery{})
	if err != nil || more {
		t.Fatal(err, more)
	}
	var got []string
	for _, e := range all {
		got = append(got, e.CallID+":"+e.Reason+":"+e.Who)
	}
	if want := []string{"b:age:", "a:age:", "d:deleted:admin"}; !slices.Equal(got, want) {
		t.Fatalf("after a restart the log holds %v, want %v", got, want)
	}
	if e := all[2]; e.File != recs[3].File || e.Bytes != recs[3].Size || e.ID != recs[3].ID || e.Key == "" {
		t.Errorf("the deletion logged as %+v, want file %s, %d bytes", e, recs[3].File, recs[3].Size)
	}
	byHand, _, err := r2.Purges(PurgeQuery{Reason: PurgeDeleted})
	if err != nil || len(byHand) != 1 || byHand[0].CallID != "d" {
		t.Fatalf("by hand: %+v %v", byHand, err)
	}
	page, more, err := r2.Purges(PurgeQuery{Limit: 1})
	if err != nil || !more || len(page) != 1 || page[0].CallID != "b" {
		t.Fatalf("first page: %+v %v %v", page, more, err)
	}
	page, more, err = r2.Purges(PurgeQuery{Limit: 2, Before: page[0].Key})
	if err != nil || more || len(page) != 2 || page[0].CallID != "a" || page[1].CallID != "d" {
		t.Fatalf("second page: %+v %v %v", page, more, err)
	}
	if u, err := r2.Usage(); err != nil || len(u.Purges) != 3 {
		t.Fatalf("usage lists %d purges: %v", len(u.Purges), err)
	}
}

// TestPurgeLogBounds: the log keeps at most PurgeLogMax entries and none
// older than PurgeLogAge, the oldest dropped first.
func TestPurgeLogBounds(t *testing.T) {
	clk := &clock{t: t0}
	st := newMemStore()
	r := newRecorder(t, Config{Store: st, Now: clk.Now})
	for i := range PurgeLogMax + 5 {
		r.logPurge(PurgeEntry{ID: fmt.Sprintf("id%05d", i), At: clk.Now(), Reason: PurgeQuota})
		clk.Add(time.Second)
	}
	all, _, err := r.Purges(PurgeQuery{Limit: PurgeLogMax})
	if err != nil || len(all) != PurgeLogMax {
		t.Fatalf("%d entries kept: %v", len(all), err)
	}
	if all[0].ID != fmt.Sprintf("id%05d", PurgeLogMax+4) || all[len(all)-1].ID != "id00005" {
		t.Fatalf("kept %s..%s, want the newest", all[len(all)-1].ID, all[0].ID)
	}
	r.Close()
	// 90 days on, a restart drops them all but one logged now.
	clk.Add(PurgeLogAge)
	r2 := newRecorder(t, Config{Store: st, Now: clk.Now})
	r2.logPurge(PurgeEntry{ID: "fresh", At: clk.Now(), Reason: PurgeAge})
	r2.trimPurges()
	all, _, err = r2.Purges(PurgeQuery{})
	if err != nil || len(all) != 1 || all[0].ID != "fresh" {
		t.Fatalf("after 90 days: %d entries (%v)", len(all), err)
	}
}
