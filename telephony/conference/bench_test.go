package conference

import (
	"fmt"
	"testing"

	"callbox/telephony/media"
)

// loopVoice says a precomputed second of a tone (so the benchmark
// measures the room, not math.Sin) and discards what it hears.
type loopVoice struct {
	x   []int16
	pos int
}

func newLoopVoice(hz float64) *loopVoice {
	v := &voice{hz: hz}
	x := make([]int16, media.SampleRate)
	for i := 0; i < len(x); i += media.FrameSamples {
		v.ReadFrame(x[i : i+media.FrameSamples])
	}
	return &loopVoice{x: x}
}

func (v *loopVoice) ReadFrame(f []int16) {
	copy(f, v.x[v.pos:])
	v.pos = (v.pos + len(f)) % len(v.x)
}

func (*loopVoice) WriteFrame([]int16) {}

// BenchmarkRoom ticks the media engine with whole rooms of talking parties
// (EngineAudio: dsp/mix in the engine's conference): one room of 50, and
// five rooms of 10 at once. ns/op is one 10 ms tick of everything;
// ns/party the share of each party; ns/sample per party-sample, for make
// bench's table (channels per core); a tick allocates nothing.
func BenchmarkRoom(b *testing.B) {
	for _, shape := range []struct{ rooms, parties int }{{1, 50}, {5, 10}, {1, 10}} {
		b.Run(fmt.Sprintf("rooms=%dx%d", shape.rooms, shape.parties), func(b *testing.B) {
			e := media.NewEngine(media.Config{Workers: 1})
			defer e.Close()
			for r := range shape.rooms {
				a, err := NewEngineAudio(e, nil, fmt.Sprintf("room%d", r))
				if err != nil {
					b.Fatal(err)
				}
				for p := range shape.parties {
					v := newLoopVoice(300 + 37*float64(p))
					ch, err := e.NewChannel(fmt.Sprintf("r%dp%d", r, p), v, media.ChannelOptions{})
					if err != nil {
						b.Fatal(err)
					}
					a.Attach(PartyID(p+1), ch)
					a.Add(PartyID(p+1), p%7 != 3) // a few listen only
				}
			}
			for range 10 {
				e.Tick()
			}
			b.ReportAllocs()
			for b.Loop() {
				e.Tick()
			}
			n := float64(b.N * shape.rooms * shape.parties)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/party")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(n*media.FrameSamples), "ns/sample")
		})
	}
}
