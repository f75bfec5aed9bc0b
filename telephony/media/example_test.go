package media_test

import (
	"fmt"

	"callbox/telephony/media"
)

// port stands in for an analog port on the PCM highway or an RTP stream.
type port struct {
	say   int16
	heard int16
}

func (p *port) ReadFrame(f []int16) {
	for i := range f {
		f[i] = p.say
	}
}

func (p *port) WriteFrame(f []int16) { p.heard = f[0] }

// A three-way conference: everybody hears the other two.
func Example() {
	e := media.NewEngine(media.Config{})
	a, b, c := &port{say: 100}, &port{say: 20}, &port{say: 3}
	ca, _ := e.NewChannel("fxs1", a, media.ChannelOptions{EchoTaps: 256, DetectDTMF: true})
	cb, _ := e.NewChannel("sip-201", b, media.ChannelOptions{})
	cc, _ := e.NewChannel("sip-202", c, media.ChannelOptions{})
	if _, err := e.Conference(ca, cb, cc); err != nil {
		panic(err)
	}
	// One 10 ms frame. On the board the PCM highway's tick handler calls
	// Tick; in simulation e.Start(ctx, &media.Ticker{}) does.
	e.Tick()
	fmt.Println(b.heard, c.heard)
	// Output: 103 120
}
