package t30

import (
	"path/filepath"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/fax/t4"
)

// When the partial page keeps arriving damaged, the sender asks four times
// (PPR), then continues at the next rate down (CTC, CTR); with no rate left
// it ends the partial page as it is (EOR, ERR) and goes on with the next
// page. Here every burst of the first page is drowned in noise after its
// first 400 ms, at 9600 bit/s of V.29 (ctc), 14400 of V.17 (ctc v17: the
// bursts after CTC train short at the new rate) or at every rate (eor).
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
		{"ctc v17", AllModems, 14400, []string{"tx CTC", "rx CTR"}, 3, 12000},
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

// tallDoc is a page of noise 400 rows tall (about 150 KB of MMR: three
// partial pages of 256-octet frames, ten of 64) between two short ones.
func tallDoc(t testing.TB) []*t4.Page {
	doc := testDoc(t)
	noise := doc[1]
	tall, err := t4.NewPage(noise.Width, 10*noise.Height, t4.XRes, t4.YResFine)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 10 {
		copy(tall.Pix[k*len(noise.Pix):], noise.Pix)
	}
	return []*t4.Page{doc[0], tall, doc[2]}
}

// A page of several partial pages, with 256- and 64-octet frames: ours to
// ours, ours to spandsp and spandsp to ours, pixel for pixel.
func TestECMPartialPages(t *testing.T) {
	doc := tallDoc(t)
	bin := faxtest.Harness(t)
	dir := t.TempDir()
	src := docFile(t, bin, dir, doc)
	lineA := line{gainDB: -10, noise: -60, law: faxtest.Alaw}
	for _, small := range []bool{false, true} {
		name := map[bool]string{false: "256", true: "64"}[small]
		t.Run("ours-to-ours "+name, func(t *testing.T) {
			snd, _ := New(Config{Calling: true, Pages: doc, SmallFrames: small})
			rcv, _ := New(Config{})
			connect(t, snd, rcv, lineA, lineA, 900)
			if sr, rr := snd.Result(), rcv.Result(); sr.Err != nil || rr.Err != nil || !hasEvent(snd, "tx page 2 partial page 2") {
				logEvents(t, "snd", snd)
				logEvents(t, "rcv", rcv)
				t.Fatalf("sender %+v, receiver %+v", sr, rr)
			}
			checkPages(t, "received", rcv.Received(), doc)
		})
		t.Run("ours-to-spandsp "+name, func(t *testing.T) {
			out := filepath.Join(dir, "rx-"+name+".tif")
			peer := faxtest.StartPeer(t, bin, "fax-rx", out, "v29+v27ter", "mh+mr+mmr+ecm")
			s, _ := New(Config{Calling: true, Pages: doc, SmallFrames: small})
			r := withPeer(t, s, peer, lineA, lineA, 900, nil)
			if s.Result().Err != nil || r.code != 0 || r.pagesRx != len(doc) || !hasEvent(s, "tx page 2 partial page 2") {
				logEvents(t, "ours", s)
				t.Fatalf("ours %+v, spandsp %+v", s.Result(), r)
			}
			checkPages(t, "spandsp received", readTIFF(t, bin, out), doc)
		})
	}
	t.Run("spandsp-to-ours 256", func(t *testing.T) {
		peer := faxtest.StartPeer(t, bin, "fax-tx", src, "v29+v27ter", "mh+mr+mmr+ecm")
		s, _ := New(Config{})
		r := withPeer(t, s, peer, lineA, lineA, 900, nil)
		if s.Result().Err != nil || r.code != 0 || s.Result().Pages != len(doc) || !s.Result().ECM {
			logEvents(t, "ours", s)
			t.Fatalf("ours %+v, spandsp %+v", s.Result(), r)
		}
		checkPages(t, "we received", s.Received(), doc)
	})
}
