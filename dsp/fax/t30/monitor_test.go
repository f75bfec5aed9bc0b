package t30

import (
	"testing"

	"callbox/dsp/fax/internal/faxtest"
)

// A recording of a whole call (both directions mixed, as a tap hears it,
// or the sender's alone) decodes passively to the pages sent.
func TestMonitor(t *testing.T) {
	doc := testDoc(t)
	snd, _ := New(Config{Calling: true, Pages: doc})
	rcv, _ := New(Config{})
	var both, sent []int16
	in, out := make([]int16, 160), make([]int16, 160)
	rin, rout := make([]int16, 160), make([]int16, 160)
	for i := 0; i < 200*50 && !(snd.Done() && rcv.Done()); i++ {
		snd.Process(in, out)
		rcv.Process(rin, rout)
		copy(rin, out)
		copy(in, rout)
		for k := range out {
			both = append(both, out[k]/2+rout[k]/2)
		}
		sent = append(sent, out...)
	}
	for name, rec := range map[string][]int16{"both": faxtest.G711(both, faxtest.Alaw), "sender": sent} {
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
