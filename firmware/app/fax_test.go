package app

import (
	"bytes"
	"image/png"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"callbox/dsp/fax/t4"
	"callbox/dsp/fax/tiff"
	"callbox/firmware/mail/mailtest"
	"callbox/telephony/fax"
	"callbox/telephony/fax/faxtest"
	"callbox/telephony/pbxconf"
)

// faxRecord is a fax as the API serves it.
type faxRecord struct {
	ID, Direction, Number, Ident, Status, Error, Trunk string
	Pages, Document, Rate                              int
}

// A fax from one box to another over a SIP trunk, each box's whole
// wiring, in real time: the administrator of box A posts a two-page
// document to the web API for number 7001; A dials it through its route
// and trunk to box B, whose fax settings make 7001 a fax number; B answers
// with its receiver, and the pages come through G.711 RTP both ways. B's
// inbox then holds a finished fax with A's identity whose TIFF, decoded,
// is the document pixel for pixel, and whose page preview is a PNG; A's
// outbox holds the fax sent, both pages confirmed, with B's identity.
func TestFaxBetweenTwoBoxesOverSIP(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs two daemons in real time with sockets")
	}
	if raceEnabled {
		t.Skip("app: a fax in real time through two daemons; make test-full runs it without the race detector")
	}
	t.Parallel() // each test has its own daemons, ports and RTP ranges
	trunk := func(port int) pbxconf.Trunk {
		return pbxconf.Trunk{Name: "faxline", Kind: pbxconf.KindSIP, Host: "127.0.0.1", Port: port,
			Transport: pbxconf.TransportUDP, Username: "faxbox"}
	}
	// B first (its trunk's port is A's, known once A runs).
	confB := testPBX()
	confB.Trunks = append(confB.Trunks, trunk(9))
	b := bootTelephonyWith(t, 28200, confB)
	portB := sipPort(t, b)
	confA := testPBX()
	confA.Trunks = append(confA.Trunks, trunk(portB))
	confA.Routes = append(confA.Routes, pbxconf.Route{Name: "fax", Patterns: []string{"7XXX"}, Trunks: []string{"faxline"}})
	a := bootTelephonyWith(t, 28600, confA)
	adminA, adminB := newWebAdmin(t, a), newWebAdmin(t, b)
	adminB.doJSON(http.MethodPut, "/api/v1/trunks/faxline", trunk(sipPort(t, a)), http.StatusOK)
	adminA.doJSON(http.MethodPut, "/api/v1/fax/settings", fax.Settings{Ident: "+86 21 5555 0101"}, http.StatusOK)
	// B mails what 7001 receives, through its mail settings.
	smtpB := &mailtest.Server{}
	adminB.doJSON(http.MethodPut, "/api/v1/mail/settings", map[string]any{"host": "127.0.0.1", "port": smtpB.Start(t, false),
		"security": "none", "from": "fax@example.com"}, http.StatusOK)
	adminB.doJSON(http.MethodPut, "/api/v1/fax/settings", fax.Settings{Ident: "+86 10 5555 0202", Numbers: []string{"7001"}, Mail: map[string]string{"7001": "orders@example.com"}}, http.StatusOK)
	adminB.doJSON(http.MethodPut, "/api/v1/fax/settings", fax.Settings{Numbers: []string{"7001"}, Mail: map[string]string{"7002": "orders@example.com"}}, http.StatusBadRequest)
	// A refused document and number lose nothing.
	adminA.do(http.MethodPost, "/api/v1/fax/outbox?to=7001", "image/png", bytes.NewReader([]byte("not a picture")), http.StatusBadRequest, nil)
	adminA.do(http.MethodPost, "/api/v1/fax/outbox?to=70a1", "image/png", bytes.NewReader([]byte("x")), http.StatusBadRequest, nil)

	doc := faxtest.Document(2)
	tf, err := tiff.Encode(doc, tiff.WriteOptions{Coding: t4.MR})
	if err != nil {
		t.Fatal(err)
	}
	var sent faxRecord
	adminA.do(http.MethodPost, "/api/v1/fax/outbox?to=7001", "image/tiff", bytes.NewReader(tf), http.StatusAccepted, &sent)
	if sent.Status != fax.StatusActive || sent.Document != 2 || sent.Direction != fax.Out {
		t.Fatalf("fax posted: %+v", sent)
	}
	var in []faxRecord
	eventually(t, 90*time.Second, "a fax in B's inbox", func() bool {
		var list struct{ Faxes []faxRecord }
		adminB.do(http.MethodGet, "/api/v1/fax?direction=in", "", nil, http.StatusOK, &list)
		in = list.Faxes
		return len(in) == 1 && in[0].Status != fax.StatusActive
	})
	got := in[0]
	if got.Status != fax.StatusDone || got.Pages != 2 || got.Ident != "+86 21 5555 0101" || got.Trunk != "faxline" {
		t.Fatalf("B received %+v", got)
	}
	tiffB := adminB.get("/api/v1/fax/" + got.ID + "/tiff")
	faxtest.SamePages(t, faxPages(t, tiffB), doc)
	// The fax mailed to 7001's address, the TIFF attached as kept.
	eventually(t, 30*time.Second, "the fax mailed", func() bool { return len(smtpB.Received()) > 0 })
	if m := smtpB.Received(); len(m) != 1 || len(m[0].Rcpt) != 1 || m[0].Rcpt[0] != "orders@example.com" {
		t.Fatalf("B's SMTP server got %+v", m)
	}
	if att, ctype := attachmentOf(t, smtpB.Received()[0].Data, "fax-"+got.ID+".tif"); !bytes.Equal(att, tiffB) || !strings.HasPrefix(ctype, "image/tiff") {
		t.Errorf("the mailed fax: %s, %d bytes, want the kept TIFF's %d", ctype, len(att), len(tiffB))
	}
	prev, err := png.Decode(bytes.NewReader(adminB.get("/api/v1/fax/" + got.ID + "/pages/2.png")))
	if err != nil || prev.Bounds().Dx() != t4.WidthA4/2 {
		t.Fatalf("page 2's preview: %v, %v", prev, err)
	}
	adminB.do(http.MethodGet, "/api/v1/fax/"+got.ID+"/pages/3.png", "", nil, http.StatusNotFound, nil)

	var out faxRecord
	eventually(t, 10*time.Second, "A's outbox record finished", func() bool {
		adminA.do(http.MethodGet, "/api/v1/fax/"+sent.ID, "", nil, http.StatusOK, &out)
		return out.Status != fax.StatusActive
	})
	if out.Status != fax.StatusDone || out.Pages != 2 || out.Ident != "+86 10 5555 0202" || out.Rate < 7200 {
		t.Fatalf("A sent %+v", out)
	}
	// What A sent is kept too: the document as posted.
	if _, err := tiff.Decode(adminA.get("/api/v1/fax/" + sent.ID + "/tiff")); err != nil {
		t.Fatal(err)
	}
}

// sipPort is the port a running box's SIP listens on.
func sipPort(t *testing.T, a *App) int {
	t.Helper()
	_, p, err := net.SplitHostPort(a.TelephonyStatus().SIPUDP)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n == 0 {
		t.Fatalf("sip port %q", p)
	}
	return n
}

// get fetches path's body, which must come with 200.
func (w *webAdmin) get(path string) []byte {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodGet, w.base+path, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("GET %s: %s: %s", path, resp.Status, buf.Bytes())
	}
	return buf.Bytes()
}

// A fax job scheduled through the web API for later is kept in the store:
// after an in-process restart the fax service has it again, with its
// numbers pending at the time asked.
func TestFaxJobSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	t.Parallel() // each test has its own daemon, ports and RTP range
	a := bootTelephony(t, 29000)
	admin := newWebAdmin(t, a)
	tf, err := tiff.Encode(faxtest.Document(1), tiff.WriteOptions{Coding: t4.MH})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	type job struct {
		ID      string
		At      time.Time
		Pages   int
		Results []fax.JobResult
	}
	var made job
	admin.do(http.MethodPost, "/api/v1/fax/jobs?numbers=7001,7002&retries=2&at="+at.Format(time.RFC3339), "image/tiff",
		bytes.NewReader(tf), http.StatusCreated, &made)
	first := a.faxRunning()
	if err := (consoleHost{a}).Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the fax service running again", func() bool {
		r := a.faxRunning()
		return r != nil && r != first && a.WebAddr() != ""
	})
	admin.relogin(a)
	var list struct{ Jobs []job }
	admin.do(http.MethodGet, "/api/v1/fax/jobs", "", nil, http.StatusOK, &list)
	if len(list.Jobs) != 1 {
		t.Fatalf("jobs after the restart: %+v", list.Jobs)
	}
	j := list.Jobs[0]
	if j.ID != made.ID || !j.At.Equal(at) || j.Pages != 1 || len(j.Results) != 2 ||
		j.Results[0].Status != fax.JobPending || j.Results[1].Number != "7002" || j.Results[1].Attempts != 0 {
		t.Fatalf("job after the restart %+v, made %+v", j, made)
	}
}

// The fax settings name an FXO trunk as the PBX configuration does
// ("pstn1"); the service also takes the line the switch reports its
// calls on (fxo1), and the API gives the settings back as stored.
func TestFaxLinesByTrunkName(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	t.Parallel() // each test has its own daemon, ports and RTP range
	a := bootTelephony(t, 29400)
	admin := newWebAdmin(t, a)
	st := fax.Settings{Ident: "1", Trunks: []string{"pstn1"}}
	admin.doJSON(http.MethodPut, "/api/v1/fax/settings", st, http.StatusOK)
	var got fax.Settings
	admin.do(http.MethodGet, "/api/v1/fax/settings", "", nil, http.StatusOK, &got)
	if len(got.Trunks) != 1 || got.Trunks[0] != "pstn1" {
		t.Fatalf("settings read back %+v", got)
	}
	if tr := a.faxRunning().svc.Settings().Trunks; len(tr) != 2 || tr[1] != "fxo1" {
		t.Fatalf("the service's lines %v", tr)
	}
	admin.doJSON(http.MethodPut, "/api/v1/fax/settings", fax.Settings{Ident: "12a"}, http.StatusBadRequest)
}
