package app

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"callbox/telephony/recording"
	"callbox/webui"
)

// TestPurgeLogRestart: a recording deleted by hand and one purged by age
// are in the purge log after the daemon restarts on the same data
// directory: GET /api/v1/recording-purges lists both, filters by reason,
// and the retention page shows them.
func TestPurgeLogRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	dir := t.TempDir()
	a, _ := newApp(t, Config{Board: "sim", DataDir: dir})
	stop := start(t, a)
	boss := newWebAdmin(t, a)
	e, cust := recordedCall(t)
	r := a.mediaServices().rec
	var ids []string
	for _, call := range []string{"old", "kept"} {
		s, err := r.Begin(recording.Meta{CallID: call})
		if err != nil {
			t.Fatal(err)
		}
		e.SetTap(cust, s.Tap())
		for range 100 {
			e.Tick()
		}
		e.SetTap(cust, nil)
		rec, err := s.Stop()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.ID)
	}
	boss.do("DELETE", "/api/v1/recordings/"+ids[1], "", nil, http.StatusNoContent, nil)
	// Age: a maximum age of a nanosecond purges what is left.
	if err := r.SetSettings(recording.Settings{MaxAge: time.Nanosecond}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Purge(); err != nil {
		t.Fatal(err)
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}

	a2, _ := newApp(t, Config{Board: "sim", DataDir: dir})
	start(t, a2)
	boss.relogin(a2)
	var page webui.PurgePage
	boss.do("GET", "/api/v1/recording-purges", "", nil, http.StatusOK, &page)
	if len(page.Purges) != 2 || page.Purges[0].ID != ids[0] || page.Purges[0].Reason != recording.PurgeAge ||
		page.Purges[1].ID != ids[1] || page.Purges[1].Reason != recording.PurgeDeleted || page.Purges[1].Who != "admin" ||
		page.Purges[1].File == "" || page.Purges[1].Bytes == 0 {
		t.Fatalf("the purge log after a restart: %+v", page)
	}
	boss.do("GET", "/api/v1/recording-purges?reason=deleted", "", nil, http.StatusOK, &page)
	if len(page.Purges) != 1 || page.Purges[0].ID != ids[1] {
		t.Fatalf("removals by hand: %+v", page)
	}
	boss.do("GET", "/api/v1/recording-purges?limit=1", "", nil, http.StatusOK, &page)
	if len(page.Purges) != 1 || page.Next == "" {
		t.Fatalf("a page of one: %+v", page)
	}
	next := page.Next
	page = webui.PurgePage{}
	boss.do("GET", "/api/v1/recording-purges?before="+next, "", nil, http.StatusOK, &page)
	if len(page.Purges) != 1 || page.Purges[0].ID != ids[1] || page.Next != "" {
		t.Fatalf("the second page: %+v", page)
	}
	boss.do("GET", "/api/v1/recording-purges?reason=bogus", "", nil, http.StatusBadRequest, nil)
	resp, err := boss.c.Get(boss.base + "/retention?reason=age")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(html), `data-purge="`+ids[0]+`"`) || strings.Contains(string(html), `data-purge="`+ids[1]+`"`) {
		t.Fatalf("the retention page filtered by age: %d\n%s", resp.StatusCode, html)
	}
}
