package callswitch

import (
	"net/netip"
	"testing"
	"time"

	"callbox/telephony/media"
)

// fullStream offers every optional interface the engine and the switch
// look for in a leg's endpoint.
type fullStream struct{ sent string }

func (*fullStream) ReadFrame(f []int16)                                  { clear(f) }
func (*fullStream) WriteFrame([]int16)                                   {}
func (*fullStream) IndependentEndpoint()                                 {}
func (*fullStream) ReadAhead([]int16) bool                               { return false }
func (*fullStream) PacketRoom() int                                      { return 1 }
func (*fullStream) ReadDigits(dst []media.DigitEvent) []media.DigitEvent { return dst }
func (s *fullStream) SendDigit(d byte, _ time.Duration) error {
	s.sent += string(d)
	return nil
}
func (*fullStream) SetRemote(_, _ netip.AddrPort) {}
func (*fullStream) SetDirection(_, _ bool)        {}

// capability finds one optional interface through a wrapper chain, as
// the engine and the switch do.
type capability struct {
	name string
	find func(media.Endpoint) (any, bool)
}

func capOf[T any](name string) capability {
	return capability{name, func(ep media.Endpoint) (any, bool) { return media.As[T](ep) }}
}

var capabilities = []capability{
	capOf[media.Independent]("Independent"),
	capOf[media.AheadReader]("AheadReader"),
	capOf[media.PacketWriter]("PacketWriter"),
	capOf[media.DigitReader]("DigitReader"),
	capOf[media.DigitWriter]("DigitWriter"),
	capOf[MediaUpdater]("MediaUpdater"),
}

// Every wrapper the switch puts around a leg's endpoint passes on each
// capability of what it wraps, except those it implements itself on
// purpose: analogDigits reports its own detected digits and withholds
// look-ahead (a frame read ahead would skip its DTMF muting).
func TestWrappersKeepCapabilities(t *testing.T) {
	inner := &fullStream{}
	swap := &swapEndpoint{}
	swap.set(inner)
	for _, w := range []struct {
		name string
		ep   media.Endpoint
		own  map[string]bool // capabilities the wrapper answers itself
	}{
		{"sip leg (swapEndpoint)", swap, nil},
		{"analog leg (analogDigits)", newAnalogDigits(inner), map[string]bool{"DigitReader": true, "AheadReader": true}},
	} {
		if _, ok := w.ep.(media.Wrapper); !ok {
			t.Errorf("%s is not a media.Wrapper", w.name)
		}
		for _, c := range capabilities {
			got, ok := c.find(w.ep)
			switch {
			case !ok:
				t.Errorf("%s loses %s", w.name, c.name)
			case w.own[c.name] && got != any(w.ep):
				t.Errorf("%s: %s is the wrapped endpoint's, want the wrapper's own", w.name, c.name)
			case !w.own[c.name] && got != any(inner):
				t.Errorf("%s: %s is not the wrapped endpoint's (%T)", w.name, c.name, got)
			}
		}
	}
	// Before its stream opens a SIP leg has none.
	for _, c := range capabilities {
		if _, ok := c.find(&swapEndpoint{}); ok {
			t.Errorf("a SIP leg without a stream has %s", c.name)
		}
	}
}

// The engine looks a SIP leg's capabilities up again when its stream
// arrives after the leg joined: digits go in band before, out of band to
// the stream after.
func TestSwapRefreshReachesEngine(t *testing.T) {
	e := media.NewEngine(media.Config{})
	swap := &swapEndpoint{}
	c, err := e.NewChannel("sip/x", swap, media.ChannelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inner := &fullStream{}
	swap.set(inner)
	if err := e.SendDigits(c, "1", 0); err != nil || inner.sent != "" {
		t.Fatalf("before Refresh: %v, stream sent %q (the engine looked up once)", err, inner.sent)
	}
	e.Refresh(c)
	if err := e.SendDigits(c, "2", 0); err != nil || inner.sent != "2" {
		t.Fatalf("after Refresh: %v, stream sent %q", err, inner.sent)
	}
}
