package t30

import (
	"testing"

	"callbox/dsp/fax/internal/faxtest"
)

// When the partial page keeps arriving damaged, the sender asks four times
// (PPR), then continues at the next rate down (CTC, CTR); with no rate left
// it ends the partial page as it is (EOR, ERR) and goes on with the next
// page. Here every burst of the first page is drowned in noise after its
// first 400 ms, at 9600 bit/s (ctc) or at every rate (eor).
func TestECMGivesUp(t *testing.T) {
	doc := testDoc(t)
	quiet := line{law: faxtest.Alaw}
	for _, c := range []struct {
		name   string
		modems Modems
		hitAt  int      // bit/s: hit bursts at this rate (0: all)
		events []string // the sender's
		want   int      // pages the receiver gets whole, from the second
		rate   int      // where the call ends
	}{
		{"ctc", 0, 9600, []string{"tx CTC", "rx CTR"}, 3, 7200},
		{"eor", V27ter, 0, []string{"tx CTC", "tx EOR", "rx ERR"}, 2, 2400},
	} {
		t.Run(c.name, func(t *testing.T) {
			snd, _ := New(Config{Calling: true, Pages: doc, Modems: c.modems})
			rcv, _ := New(Config{Modems: c.modems})
			seen := 0
			tamper := func(x []int16) {
				if snd.st != stSendECM || snd.page != 0 || c.hitAt != 0 && snd.p.rate.bps != c.hitAt {
					seen = 0
					return
				}
				if seen++; seen > 20 {
					burst(x, uint64(seen))
				}
			}
			connectTampered(t, snd, rcv, quiet, quiet, 600, tamper)
			sr, rr := snd.Result(), rcv.Result()
			ok := sr.Err == nil && rr.Err == nil && snd.Done() && rcv.Done() && sr.Rate == c.rate && rr.Pages == c.want
			for _, e := range c.events {
				ok = ok && hasEvent(snd, e)
			}
			if !ok {
				logEvents(t, "snd", snd)
				logEvents(t, "rcv", rcv)
				t.Fatalf("sender %+v, receiver %+v", sr, rr)
			}
			got := rcv.Received()
			checkPages(t, "received", got, doc[len(doc)-len(got):])
		})
	}
}
