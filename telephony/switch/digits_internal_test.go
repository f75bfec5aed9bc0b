package callswitch

import (
	"testing"
	"time"

	"callbox/dsp/dtmf"
	"callbox/telephony/media"
)

// loop is an analog port in a test: it plays samples in a loop.
type loop struct {
	x   []int16
	pos int
}

func (l *loop) ReadFrame(f []int16) {
	for i := range f {
		f[i] = l.x[l.pos]
		l.pos = (l.pos + 1) % len(l.x)
	}
}

func (l *loop) WriteFrame([]int16) {}

// An analog leg's endpoint passes DTMF untouched while relaying is off,
// and while it is on reports each digit once and mutes it.
func TestAnalogDigitsMute(t *testing.T) {
	x, err := dtmf.Synthesize("19#", dtmf.DefaultGeneratorConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		relay  bool
		digits string
	}{{false, ""}, {true, "19#"}} {
		a := newAnalogDigits(&loop{x: append(x, make([]int16, 800)...)})
		a.relay.Store(c.relay)
		det := dtmf.NewDetector(dtmf.DetectorConfig{})
		var evs []dtmf.Event
		var heard, got string
		f := make([]int16, media.FrameSamples)
		var digs []media.DigitEvent
		for range (len(x) + 800) / media.FrameSamples {
			a.ReadFrame(f)
			evs = det.Process(f, evs[:0])
			for _, e := range evs {
				if e.Kind == dtmf.DigitStart {
					heard += string(e.Digit)
				}
			}
			for _, d := range a.ReadDigits(digs[:0]) {
				if d.Kind == media.DigitEnd {
					if d.Duration < 40*time.Millisecond || d.OutOfBand {
						t.Errorf("digit %c: %+v", d.Digit, d)
					}
					got += string(d.Digit)
				}
			}
		}
		wantHeard := "19#"
		if c.relay {
			wantHeard = ""
		}
		if got != c.digits || heard != wantHeard {
			t.Errorf("relay %v: reported %q, %q left in the audio; want %q and %q", c.relay, got, heard, c.digits, wantHeard)
		}
	}
}

// BenchmarkAnalogRelay is the per-frame cost of an analog leg bridged to
// a SIP leg: DTMF detection and muting on its audio.
func BenchmarkAnalogRelay(b *testing.B) {
	x, err := dtmf.Synthesize("5", dtmf.DefaultGeneratorConfig())
	if err != nil {
		b.Fatal(err)
	}
	a := newAnalogDigits(&loop{x: append(x, make([]int16, 1600)...)})
	a.relay.Store(true)
	f := make([]int16, media.FrameSamples)
	digs := make([]media.DigitEvent, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		a.ReadFrame(f)
		digs = a.ReadDigits(digs[:0])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/media.FrameSamples, "ns/sample")
}
