package fax_test

import (
	"context"
	"runtime"
	"testing"

	"callbox/dsp/fax/t30"
	"callbox/telephony/fax"
	"callbox/telephony/fax/faxtest"
	"callbox/telephony/media"
)

// BenchmarkFaxCall is a whole fax call through the box's media path: two
// legs of the engine joined by an A-law line, a terminal on each (the
// sender of a two-page document and its receiver, no ECM, V.29 at 9600
// bit/s), the engine ticked as fast as the terminals keep up. ns/sample is
// per fax channel (wall time over both terminals' samples, the goroutine
// hand-offs included), so make bench's table shows fax channels per core.
func BenchmarkFaxCall(b *testing.B) {
	doc := faxtest.Document(2)
	samples := 0
	for b.Loop() {
		e := media.NewEngine(media.Config{Workers: 1})
		x, y := &wire{}, &wire{}
		x.far, y.far = y, x
		snd, err := fax.NewTerminal(t30.Config{Calling: true, Pages: doc, NoECM: true})
		if err != nil {
			b.Fatal(err)
		}
		rcv, _ := fax.NewTerminal(t30.Config{NoECM: true})
		for _, l := range []struct {
			ep   media.Endpoint
			term *fax.Terminal
		}{{x, snd}, {y, rcv}} {
			ch, err := e.NewChannel("leg", l.ep, media.ChannelOptions{})
			if err != nil {
				b.Fatal(err)
			}
			e.Play(ch, l.term)
			e.SetTap(ch, l.term.Tap())
			l.term.Start(context.Background())
		}
		ticks := 0
		for !(snd.Done() && rcv.Done()) && ticks < 120*100 {
			e.Tick()
			ticks++
			for !snd.Idle() || !rcv.Idle() {
				runtime.Gosched()
			}
		}
		snd.Close()
		rcv.Close()
		if r := rcv.Result(); r.Err != nil || r.Pages != 2 {
			b.Fatalf("receiver %+v", r)
		}
		samples += 2 * ticks * media.FrameSamples
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(samples), "ns/sample")
}
