package media

import (
	"testing"
	"time"
)

// rtpLike is an endpoint with optional interfaces: Independent, and a
// DigitReader that reports one digit when asked.
type rtpLike struct{ digit byte }

func (*rtpLike) ReadFrame(f []int16)  { clear(f) }
func (*rtpLike) WriteFrame([]int16)   {}
func (*rtpLike) IndependentEndpoint() {}
func (r *rtpLike) ReadDigits(dst []DigitEvent) []DigitEvent {
	if r.digit == 0 {
		return dst
	}
	d := r.digit
	r.digit = 0
	return append(dst, DigitEvent{Kind: DigitEnd, Digit: d, Duration: 100 * time.Millisecond, OutOfBand: true})
}

// late wraps an endpoint that may come later.
type late struct{ ep Endpoint }

func (l *late) ReadFrame(f []int16) {
	if l.ep == nil {
		clear(f)
		return
	}
	l.ep.ReadFrame(f)
}

func (l *late) WriteFrame(f []int16) {
	if l.ep != nil {
		l.ep.WriteFrame(f)
	}
}

func (l *late) Unwrap() Endpoint { return l.ep }

// loopy wraps itself.
type loopy struct{ late }

func (l *loopy) Unwrap() Endpoint { return l }

// muting wraps an endpoint and answers DigitReader itself.
type muting struct{ late }

func (*muting) ReadDigits(dst []DigitEvent) []DigitEvent { return dst }

func TestAs(t *testing.T) {
	inner := &rtpLike{}
	two := &late{ep: &late{ep: inner}}
	if ind, ok := As[Independent](two); !ok || ind != Independent(inner) {
		t.Errorf("Independent through two wrappers: %v %v", ind, ok)
	}
	if _, ok := As[AheadReader](two); ok {
		t.Error("found an AheadReader nobody implements")
	}
	if _, ok := As[Independent](&late{}); ok {
		t.Error("found Independent in a wrapper of nothing")
	}
	if _, ok := As[Independent](&loopy{}); ok {
		t.Error("found Independent in a wrapper of itself")
	}
	m := &muting{late{ep: inner}}
	if dr, ok := As[DigitReader](m); !ok || dr != DigitReader(m) {
		t.Error("a wrapper's own DigitReader does not hide the wrapped one")
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = As[DigitReader](two) }); n != 0 {
		t.Errorf("As allocates %v", n)
	}
}

// A channel whose wrapper gets its endpoint after joining the engine
// keeps the capabilities found at NewChannel until Refresh: then it moves
// to the workers' share (Independent) and its digits are read.
func TestRefresh(t *testing.T) {
	e := NewEngine(Config{})
	w := &late{}
	c, err := e.NewChannel("sip", w, ChannelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inner := &rtpLike{digit: '7'}
	w.ep = inner
	e.Tick()
	if len(e.par) != 0 || len(e.Events()) != 0 {
		t.Fatalf("before Refresh: %d independent, %d events", len(e.par), len(e.Events()))
	}
	e.Refresh(c)
	e.Tick()
	if len(e.par) != 1 {
		t.Fatalf("after Refresh: %d independent channels", len(e.par))
	}
	select {
	case ev := <-e.Events():
		if ev.Digit != '7' || ev.Channel != c {
			t.Fatalf("event %+v", ev)
		}
	default:
		t.Fatal("the stream's digit was not read after Refresh")
	}
	// Back to nothing: off the workers' share.
	w.ep = nil
	e.Refresh(c)
	if len(e.par) != 0 {
		t.Fatalf("%d independent once the wrapper holds nothing", len(e.par))
	}
	w.ep = inner
	e.Remove(c)
	e.Refresh(c) // a removed channel stays out
	if len(e.par) != 0 || len(e.chans) != 0 {
		t.Fatalf("%d independent, %d channels", len(e.par), len(e.chans))
	}
}
