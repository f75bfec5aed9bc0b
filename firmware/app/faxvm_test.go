package app

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"callbox/dsp/fax/t4"
	"callbox/dsp/fax/tiff"
	"callbox/telephony/ccconf"
	"callbox/telephony/fax"
	"callbox/telephony/fax/faxtest"
)

// Issue 14's voicemail case: a fax machine (box A's fax sender, over a
// SIP trunk in real time) calls a number of box B whose inbound route
// leaves a voicemail message in box 201. B hears the machine's calling
// tone while the greeting plays and the message would be recorded, and
// hands the call to its fax receiver: B's inbox holds both pages, pixel
// for pixel, linked to the call, A's outbox says they were confirmed, and
// the box holds no message made of fax tones.
func TestFaxCNGInVoicemail(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs two daemons in real time with sockets")
	}
	if raceEnabled {
		t.Skip("app: a fax in real time through two daemons; make test-full runs it without the race detector")
	}
	t.Parallel()
	adminA, adminB := faxBoxes(t, 33800, 34200, ccconf.InboundRoute{Name: "messages", Source: ccconf.SourceTrunk,
		Trunk: "faxline", DID: "7003", Target: ccconf.Target{Kind: ccconf.TargetVoicemail, Mailbox: "201"}})
	adminB.doJSON(http.MethodPut, "/api/v1/voicemail/boxes/201", map[string]any{"kind": "agent", "pin": "1234"}, http.StatusOK)
	doc := faxtest.Document(2)
	tf, err := tiff.Encode(doc, tiff.WriteOptions{Coding: t4.MR})
	if err != nil {
		t.Fatal(err)
	}
	var sent faxRecord
	adminA.do(http.MethodPost, "/api/v1/fax/outbox?to=7003", "image/tiff", bytes.NewReader(tf), http.StatusAccepted, &sent)
	var in []faxRecord
	eventually(t, 120*time.Second, "a fax in B's inbox", func() bool {
		var list struct{ Faxes []faxRecord }
		adminB.do(http.MethodGet, "/api/v1/fax?direction=in", "", nil, http.StatusOK, &list)
		in = list.Faxes
		return len(in) == 1 && in[0].Status != fax.StatusActive
	})
	var got struct {
		faxRecord
		CallID string `json:"call_id"`
	}
	adminB.do(http.MethodGet, "/api/v1/fax/"+in[0].ID, "", nil, http.StatusOK, &got)
	if got.Status != fax.StatusDone || got.Pages != 2 || got.Ident != "+86 21 5555 0101" || got.CallID == "" {
		t.Fatalf("B received %+v", got)
	}
	faxtest.SamePages(t, faxPages(t, adminB.get("/api/v1/fax/"+got.ID+"/tiff")), doc)
	var out faxRecord
	eventually(t, 20*time.Second, "A's outbox record finished", func() bool {
		adminA.do(http.MethodGet, "/api/v1/fax/"+sent.ID, "", nil, http.StatusOK, &out)
		return out.Status != fax.StatusActive
	})
	if out.Status != fax.StatusDone || out.Pages != 2 {
		t.Fatalf("A sent %+v", out)
	}
	var msgs struct{ Messages []map[string]any }
	adminB.do(http.MethodGet, "/api/v1/voicemail/boxes/201/messages", "", nil, http.StatusOK, &msgs)
	if len(msgs.Messages) != 0 {
		t.Fatalf("box 201 kept the fax call as a message: %v", msgs.Messages)
	}
}
