package t30

import (
	"fmt"
	"strings"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/fax/t4"
)

// A recording of a whole call (both directions mixed, as a tap hears it,
// or the sender's alone), with error correction or without, decodes
// passively to the pages sent.
func TestMonitor(t *testing.T) {
	doc := testDoc(t)
	for _, noECM := range []bool{false, true} {
		testMonitor(t, doc, noECM, 0)
	}
	// V.17: a long training for the TCF, short ones for the pages.
	testMonitor(t, doc, true, AllModems)
}

func testMonitor(t *testing.T, doc []*t4.Page, noECM bool, modems Modems) {
	sent, back := recordCall(t, Config{NoECM: noECM, Modems: modems})
	both := make([]int16, len(sent))
	for k := range sent {
		both[k] = sent[k]/2 + back[k]/2
	}
	for name, rec := range map[string][]int16{"both": faxtest.G711(both, faxtest.Alaw), "sender": sent} {
		name = fmt.Sprintf("%s, no ECM %v, modems %d", name, noECM, modems)
		m := NewMonitor()
		for i := 0; i < len(rec); i += 160 {
			m.Process(rec[i:min(i+160, len(rec))])
		}
		m.Finish()
		pages, _ := m.Pages()
		if len(pages) != len(doc) {
			for _, e := range m.Events() {
				t.Logf("%6dms %s", e.At/8, e.Text)
			}
			t.Fatalf("%s: %d pages", name, len(pages))
		}
		checkPages(t, name, pages, doc)
		if modems == AllModems && !monitorSaw(m, "rx DCS 14400") {
			t.Errorf("%s: not at V.17 14400", name)
		}
	}
}

// monitorSaw reports whether the monitor logged an event starting with text.
func monitorSaw(m *Monitor, text string) bool {
	for _, e := range m.Events() {
		if strings.HasPrefix(e.Text, text) {
			return true
		}
	}
	return false
}
