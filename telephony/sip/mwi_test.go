package sip

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMWISubscribeSipp: a phone (sipp) subscribes to its message summary
// with digest authentication and receives the NOTIFYs of RFC 3842: the
// state at once, each change, and the end of the subscription.
func TestMWISubscribeSipp(t *testing.T) {
	needSipp(t)
	box := startBox(t, Config{}, directory{"201": "mwi-secret-201"}, nil)
	addr := box.UDPAddr()
	wait := sippAt(t, freeUDPPort(t), "subscribe_mwi.xml",
		"-s", "201", "-au", "201", "-ap", "mwi-secret-201", "-auth_uri", "201@"+addr.String(), addr.String())
	deadline := time.Now().Add(10 * time.Second)
	for {
		box.mwiMu.Lock()
		n := len(box.subs)
		box.mwiMu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			out, err := wait()
			t.Fatalf("no subscription: %v\n%s", err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the first NOTIFY goes first
	box.SetMessageWaiting("201", MessageSummary{New: 2, Old: 1}, false)
	if out, err := wait(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	box.mwiMu.Lock()
	defer box.mwiMu.Unlock()
	if len(box.subs) != 0 {
		t.Fatalf("subscriptions after the unsubscribe: %d", len(box.subs))
	}
}

// TestMWIUnsolicitedSipp: an extension marked unsolicited sends its
// summary to a phone that never subscribes (sipp as a server): when the
// phone registers, and at each change.
func TestMWIUnsolicitedSipp(t *testing.T) {
	needSipp(t)
	box := startBox(t, Config{}, directory{"202": "mwi-secret-202"}, nil)
	port := freeUDPPort(t)
	logFile := filepath.Join(t.TempDir(), "mwi.log")
	wait := sippAt(t, port, "notify_uas.xml", "-m", "2", "-trace_logs", "-log_file", logFile)
	waitBound(t, port)
	box.SetMessageWaiting("202", MessageSummary{New: 1, Account: "sip:8001@box"}, true)
	// The phone registers (its contact is sipp's port): it is told at once.
	ph := &authedPhone{phone: newPhone(t), box: box, ext: "202", pw: "mwi-secret-202", uri: "sip:" + box.UDPAddr().String(),
		contact: "<sip:202@127.0.0.1:" + strconv.Itoa(port) + ">", cseq: 1}
	ph.chal = ph.register(t, box.UDPAddr(), "202", ph.contact, ph.cseq, "phone-202")
	if code := ph.refresh(t); code != 200 {
		t.Fatalf("REGISTER: %d", code)
	}
	time.Sleep(300 * time.Millisecond)
	box.SetMessageWaiting("202", MessageSummary{New: 0, Old: 1}, true)
	if out, err := wait(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(logFile)
	if got := strings.TrimSpace(string(b)); got != "mwi yes 1/0\nmwi no 0/1" {
		t.Fatalf("sipp logged:\n%s", got)
	}
}

// TestMessageSummaryBody renders and reads the RFC 3842 body.
func TestMessageSummaryBody(t *testing.T) {
	s := MessageSummary{New: 3, Old: 2, Account: "sip:8001@callbox"}
	b := string(s.body())
	if b != "Messages-Waiting: yes\r\nMessage-Account: sip:8001@callbox\r\nVoice-Message: 3/2 (0/0)\r\n" {
		t.Fatalf("body %q", b)
	}
	got, waiting, err := ParseMessageSummary([]byte(b))
	if err != nil || !waiting || got != s {
		t.Fatalf("parsed %+v %v %v", got, waiting, err)
	}
	for _, bad := range []string{"", "Messages-Waiting: maybe\r\n", "Messages-Waiting: yes\r\nVoice-Message: x/1\r\n"} {
		if _, _, err := ParseMessageSummary([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzParseMessageSummary: nothing panics, and what parses renders back to
// a body that parses to the same counts.
func FuzzParseMessageSummary(f *testing.F) {
	f.Add([]byte("Messages-Waiting: yes\r\nVoice-Message: 3/2 (1/0)\r\n"))
	f.Add([]byte("messages-waiting:no\nvoice-message: 0/0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _, err := ParseMessageSummary(b)
		if err != nil {
			return
		}
		m.Account = ""
		again, _, err := ParseMessageSummary(m.body())
		if err != nil || again != m {
			t.Fatalf("%q: %+v renders to %+v, %v", b, m, again, err)
		}
	})
}
