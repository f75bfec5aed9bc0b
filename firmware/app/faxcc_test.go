package app

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"callbox/dsp/fax/t4"
	"callbox/dsp/fax/tiff"
	"callbox/telephony/ccconf"
	"callbox/telephony/fax"
	"callbox/telephony/fax/faxtest"
	"callbox/telephony/pbxconf"
)

// A fax machine (box A's fax sender, over a SIP trunk in real time) calls
// a number of box B that is not a fax number: B's call centre routes it
// to its IVR flow (the main menu, whose fallback is the sales queue). B
// hears the machine's calling tone in the flow and hands the call to its
// fax receiver: B's inbox holds the fax, pixel for pixel, with the call's
// id, and A's outbox says both pages were confirmed. Before the call
// centre listened for CNG the machine sat in the menu and then the queue,
// and A's fax failed.
func TestFaxCNGInFlowBetweenTwoBoxes(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs two daemons in real time with sockets")
	}
	if raceEnabled {
		t.Skip("app: a fax in real time through two daemons; make test-full runs it without the race detector")
	}
	t.Parallel()
	adminA, adminB := faxBoxes(t, 29000, 29400, ccconf.InboundRoute{Name: "orders", Source: ccconf.SourceTrunk,
		Trunk: "faxline", DID: "7002", Target: ccconf.Target{Kind: ccconf.TargetFlow, Flow: "main"}})
	doc := faxtest.Document(2)
	tf, err := tiff.Encode(doc, tiff.WriteOptions{Coding: t4.MR})
	if err != nil {
		t.Fatal(err)
	}
	var sent faxRecord
	adminA.do(http.MethodPost, "/api/v1/fax/outbox?to=7002", "image/tiff", bytes.NewReader(tf), http.StatusAccepted, &sent)
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
	// The call's faxes, as the service record and the desk look them up.
	var ofCall struct{ Faxes []faxRecord }
	adminB.do(http.MethodGet, "/api/v1/fax?call="+url.QueryEscape(got.CallID), "", nil, http.StatusOK, &ofCall)
	if len(ofCall.Faxes) != 1 || ofCall.Faxes[0].ID != got.ID {
		t.Fatalf("the faxes of call %s: %+v", got.CallID, ofCall.Faxes)
	}
	var out faxRecord
	eventually(t, 20*time.Second, "A's outbox record finished", func() bool {
		adminA.do(http.MethodGet, "/api/v1/fax/"+sent.ID, "", nil, http.StatusOK, &out)
		return out.Status != fax.StatusActive
	})
	if out.Status != fax.StatusDone || out.Pages != 2 {
		t.Fatalf("A sent %+v", out)
	}
}

// faxBoxes boots box B (the call centre, with route on the SIP trunk
// "faxline") and box A (a plain PBX whose 7XXX go out on that trunk to B),
// with their fax idents set, and returns their administrators.
func faxBoxes(t *testing.T, rtpB, rtpA int, route ccconf.InboundRoute) (adminA, adminB *webAdmin) {
	t.Helper()
	trunk := func(port int) pbxconf.Trunk {
		return pbxconf.Trunk{Name: "faxline", Kind: pbxconf.KindSIP, Host: "127.0.0.1", Port: port,
			Transport: pbxconf.TransportUDP, Username: "faxbox"}
	}
	confB := ccTestPBX()
	confB.Trunks = append(confB.Trunks, trunk(9))
	ccB := ccTestConfig(t)
	ccB.InboundRoutes = append(ccB.InboundRoutes, route)
	b := bootCC(t, rtpB, confB, ccB)
	confA := testPBX()
	confA.Trunks = append(confA.Trunks, trunk(sipPort(t, b)))
	confA.Routes = append(confA.Routes, pbxconf.Route{Name: "fax", Patterns: []string{"7XXX"}, Trunks: []string{"faxline"}})
	a := bootTelephonyWith(t, rtpA, confA)
	adminA, adminB = newWebAdmin(t, a), newWebAdmin(t, b)
	adminB.doJSON(http.MethodPut, "/api/v1/trunks/faxline", trunk(sipPort(t, a)), http.StatusOK)
	adminA.doJSON(http.MethodPut, "/api/v1/fax/settings", fax.Settings{Ident: "+86 21 5555 0101"}, http.StatusOK)
	adminB.doJSON(http.MethodPut, "/api/v1/fax/settings", fax.Settings{Ident: "+86 10 5555 0202"}, http.StatusOK)
	return adminA, adminB
}

// faxPages decodes a fax's TIFF as the API serves it.
func faxPages(t *testing.T, b []byte) []*t4.Page {
	t.Helper()
	imgs, err := tiff.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	var pages []*t4.Page
	for _, img := range imgs {
		pages = append(pages, img.(*t4.Page))
	}
	return pages
}

// A fax document that an IVR flow sends cannot be deleted: the answer is
// 409 naming the flow and its node, and the document stays. Once the
// flow's new version no longer sends it, it goes. Before the refusal the
// delete succeeded and the flow failed at its fax node on every call.
func TestFaxDocumentSentByFlowStays(t *testing.T) {
	if testing.Short() {
		t.Skip("app: boots the daemon with sockets")
	}
	t.Parallel()
	a := bootCC(t, 31740, ccTestPBX(), ccTestConfig(t))
	admin := newWebAdmin(t, a)
	tf, err := tiff.Encode(faxtest.Document(1), tiff.WriteOptions{Coding: t4.MH})
	if err != nil {
		t.Fatal(err)
	}
	admin.do(http.MethodPut, "/api/v1/fax/documents/price-list", "image/tiff", bytes.NewReader(tf), http.StatusNoContent, nil)
	flow := func(send bool) map[string]any {
		n := map[string]any{"id": "prices", "type": "fax", "send": "price-list"}
		if !send {
			n = map[string]any{"id": "prices", "type": "hangup"}
		}
		return map[string]any{"id": "faxback", "entry": "prices", "nodes": []any{n}}
	}
	admin.doJSON(http.MethodPost, "/api/v1/flows", flow(true), http.StatusCreated)

	var refused map[string]any
	admin.do(http.MethodDelete, "/api/v1/fax/documents/price-list", "", nil, http.StatusConflict, &refused)
	if msg, _ := refused["error"].(string); !strings.Contains(msg, `"faxback"`) || !strings.Contains(msg, `"prices"`) {
		t.Fatalf("the refusal does not name the flow and node: %v", refused)
	}
	var docs struct{ Documents []string }
	admin.do(http.MethodGet, "/api/v1/fax/documents", "", nil, http.StatusOK, &docs)
	if len(docs.Documents) != 1 || docs.Documents[0] != "price-list" {
		t.Fatalf("documents after the refusal: %v", docs.Documents)
	}

	admin.doJSON(http.MethodPut, "/api/v1/flows/faxback", flow(false), http.StatusCreated)
	admin.do(http.MethodDelete, "/api/v1/fax/documents/price-list", "", nil, http.StatusNoContent, nil)
	admin.do(http.MethodDelete, "/api/v1/fax/documents/price-list", "", nil, http.StatusNotFound, nil)
}
