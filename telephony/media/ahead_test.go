package media

import (
	"testing"
	"time"
)

// aheadLeg says frame n (every sample n) on its n-th ReadFrame and can
// hand frame n+1 over early when it is "in the buffer" (here: when n is
// odd, the first half of a two-frame packet having been played).
type aheadLeg struct {
	n         int16
	haveAhead bool
	aheads    int
}

func (l *aheadLeg) ReadFrame(f []int16) {
	if !l.haveAhead {
		l.n++
	}
	l.haveAhead = false
	for i := range f {
		f[i] = l.n
	}
}

func (l *aheadLeg) ReadAhead(f []int16) bool {
	if l.haveAhead || l.n%2 == 0 {
		return false
	}
	l.n++
	l.haveAhead = true
	l.aheads++
	for i := range f {
		f[i] = l.n
	}
	return true
}

func (*aheadLeg) WriteFrame([]int16) {}

// packetLeg packetises two frames and records, per packet, its frames and
// the tick it went on.
type packetLeg struct {
	tick   *int
	fill   []int16
	sent   [][2]int16
	sentAt []int
}

func (*packetLeg) ReadFrame(f []int16) { clear(f) }

func (p *packetLeg) WriteFrame(f []int16) {
	p.fill = append(p.fill, f[0])
	if len(p.fill) == 2 {
		p.sent = append(p.sent, [2]int16{p.fill[0], p.fill[1]})
		p.sentAt = append(p.sentAt, *p.tick)
		p.fill = p.fill[:0]
	}
}

func (p *packetLeg) PacketRoom() int { return 2 - len(p.fill) }

// TestAheadBridge: a packetising leg bridged to a leg that can read ahead
// sends each packet on the tick its first frame is heard, with every frame
// once and in order; a DTMF detector on the talker, a player or in-band
// digits on the listener stop it (their audio is only known on its tick).
func TestAheadBridge(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opt       ChannelOptions
		play, dig bool
		ahead     bool
	}{
		{"plain bridge", ChannelOptions{}, false, false, true},
		{"talker detects DTMF", ChannelOptions{DetectDTMF: true}, false, false, false},
		{"player", ChannelOptions{}, true, false, false},
		{"in-band digits", ChannelOptions{}, false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEngine(Config{})
			defer e.Close()
			tick := 0
			a, b := &aheadLeg{}, &packetLeg{tick: &tick}
			ca, _ := e.NewChannel("a", a, tc.opt)
			cb, _ := e.NewChannel("b", b, ChannelOptions{})
			if _, err := e.Bridge(ca, cb); err != nil {
				t.Fatal(err)
			}
			if tc.play {
				e.Play(cb, loopLeg{v: 5})
			}
			if tc.dig {
				if err := e.SendDigits(cb, "1234567890", time.Second); err != nil {
					t.Fatal(err)
				}
			}
			for tick = 1; tick <= 20; tick++ {
				e.Tick()
			}
			if len(b.sent) < 9 {
				t.Fatalf("%d packets in 20 ticks", len(b.sent))
			}
			for i, p := range b.sent {
				if tc.ahead {
					// Frames 2i+1 and 2i+2, sent on the tick frame 2i+1 was played.
					if p != [2]int16{int16(2*i + 1), int16(2*i + 2)} || b.sentAt[i] != 2*i+1 {
						t.Fatalf("packet %d: frames %v at tick %d", i, p, b.sentAt[i])
					}
				} else if b.sentAt[i] != 2*i+2 {
					t.Fatalf("packet %d at tick %d, want %d (no read-ahead)", i, b.sentAt[i], 2*i+2)
				}
			}
			if !tc.ahead && a.aheads != 0 {
				t.Errorf("%d reads ahead", a.aheads)
			}
		})
	}
}
