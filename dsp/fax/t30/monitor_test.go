package t30

import (
	"fmt"
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
		testMonitor(t, doc, noECM)
	}
}

func testMonitor(t *testing.T, doc []*t4.Page, noECM bool) {
	sent, back := recordCall(t, Config{NoECM: noECM})
	both := make([]int16, len(sent))
	for k := range sent {
		both[k] = sent[k]/2 + back[k]/2
	}
	for name, rec := range map[string][]int16{"both": faxtest.G711(both, faxtest.Alaw), "sender": sent} {
		name = fmt.Sprintf("%s, no ECM %v", name, noECM)
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
	}
}
