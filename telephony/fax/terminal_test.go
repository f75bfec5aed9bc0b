package fax_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"callbox/dsp/fax/t30"
	"callbox/dsp/g711"
	"callbox/telephony/fax"
	"callbox/telephony/fax/faxtest"
	"callbox/telephony/media"
)

// wire is one end of a line between two legs of the engine: what one end
// is sent, the other hears on the next tick, through A-law.
type wire struct {
	heard [media.FrameSamples]int16
	far   *wire
	enc   [media.FrameSamples]byte
}

func (w *wire) ReadFrame(f []int16) { copy(f, w.heard[:]) }
func (w *wire) WriteFrame(f []int16) {
	g711.EncodeAlaw(w.enc[:], f)
	g711.DecodeAlaw(w.far.heard[:], w.enc[:])
}

// machine is a leg whose far end is the spandsp fax machine, in lockstep:
// what the leg is sent the machine hears, and what it sends the leg hears
// on the next tick, through A-law both ways.
type machine struct {
	p     *faxtest.Peer
	heard [media.FrameSamples]int16
	enc   [media.FrameSamples]byte
}

func (m *machine) ReadFrame(f []int16) { copy(f, m.heard[:]) }
func (m *machine) WriteFrame(f []int16) {
	g711.EncodeAlaw(m.enc[:], f)
	var x [media.FrameSamples]int16
	g711.DecodeAlaw(x[:], m.enc[:])
	out, ok := m.p.Exchange(x[:])
	if !ok {
		clear(m.heard[:])
		return
	}
	g711.EncodeAlaw(m.enc[:], out)
	g711.DecodeAlaw(m.heard[:], m.enc[:])
}

// leg adds a channel for ep with a terminal on it, as an app call's leg
// in fax mode has: the terminal played into it and tapping it.
func leg(t *testing.T, e *media.Engine, name string, ep media.Endpoint, term *fax.Terminal) {
	t.Helper()
	ch, err := e.NewChannel(name, ep, media.ChannelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.Play(ch, term)
	e.SetTap(ch, term.Tap())
	term.Start(context.Background())
	t.Cleanup(func() { term.Close() })
}

// step ticks the engine until done (or limit ticks), letting the
// terminals handle each frame before the next, as a virtual clock does.
func step(t *testing.T, e *media.Engine, limit int, done func() bool, terms ...*fax.Terminal) int {
	t.Helper()
	for n := range limit {
		if done() {
			return n
		}
		e.Tick()
		for _, term := range terms {
			deadline := time.Now().Add(5 * time.Second)
			for !term.Idle() {
				if time.Now().After(deadline) {
					t.Fatal("a terminal never took its frame")
				}
				time.Sleep(20 * time.Microsecond)
			}
		}
	}
	t.Fatalf("not done after %d ticks", limit)
	return limit
}

// Two terminals on two legs of the engine, a line between them: the
// sender's three pages reach the receiver pixel for pixel, with and
// without error correction, and both sessions end well with their
// identities exchanged; no frame was late or trimmed.
func TestTerminalsOverTheEngine(t *testing.T) {
	doc := faxtest.Document(3)
	for _, ecm := range []bool{true, false} {
		t.Run(map[bool]string{true: "ECM", false: "NoECM"}[ecm], func(t *testing.T) {
			e := media.NewEngine(media.Config{Workers: 1})
			a, b := &wire{}, &wire{}
			a.far, b.far = b, a
			snd, err := fax.NewTerminal(t30.Config{Calling: true, Pages: doc, Ident: "+86 21 5555 0101", NoECM: !ecm})
			if err != nil {
				t.Fatal(err)
			}
			rcv, err := fax.NewTerminal(t30.Config{Ident: "+86 21 5555 0202", NoECM: !ecm})
			if err != nil {
				t.Fatal(err)
			}
			leg(t, e, "a", a, snd)
			leg(t, e, "b", b, rcv)
			step(t, e, 120*100, func() bool { return snd.Done() && rcv.Done() }, snd, rcv)
			rs, rr := snd.Result(), rcv.Result()
			if rs.Err != nil || rr.Err != nil || rs.Pages != 3 || rr.Pages != 3 || rs.ECM != ecm {
				t.Fatalf("sender %+v, receiver %+v", rs, rr)
			}
			if rs.RemoteIdent != "+86 21 5555 0202" || rr.RemoteIdent != "+86 21 5555 0101" {
				t.Errorf("identities: the sender saw %q, the receiver %q", rs.RemoteIdent, rr.RemoteIdent)
			}
			faxtest.SamePages(t, rcv.Received(), doc)
			for _, term := range []*fax.Terminal{snd, rcv} {
				if st := term.Stats(); st != (fax.Stats{}) {
					t.Errorf("stats %+v, want no underrun, trim or drop on a virtual clock", st)
				}
			}
		})
	}
}

// A terminal against spandsp's fax machine on the far side of an A-law
// call, both ways: our sender to its receiver and its sender to our
// receiver, with and without ECM, and V.27ter only; the pages received
// are the pages sent, pixel for pixel.
func TestTerminalWithSpandsp(t *testing.T) {
	bin := faxtest.Build(t)
	doc := faxtest.Document(2)
	for _, tc := range []struct {
		name             string
		weSend, ecm, v27 bool
	}{
		{"send", true, false, false},
		{"send ECM", true, true, false},
		{"send V.27ter", true, false, true},
		{"receive", false, false, false},
		{"receive ECM", false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			role := faxtest.Role{Calling: !tc.weSend, Send: !tc.weSend, ECM: tc.ecm, V27: tc.v27,
				File: filepath.Join(dir, "received.tif")}
			cfg := t30.Config{Ident: "+86 10 1234 5678", NoECM: !tc.ecm}
			if tc.weSend {
				cfg.Calling, cfg.Pages = true, doc
			} else {
				role.File = faxtest.WriteDocument(t, dir, doc)
			}
			term, err := fax.NewTerminal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			peer := faxtest.Start(t, bin, role)
			e := media.NewEngine(media.Config{Workers: 1})
			leg(t, e, "line", &machine{p: peer}, term)
			step(t, e, 120*100, func() bool { return term.Done() && peer.Done() }, term)
			res, pres := term.Result(), peer.Close()
			if res.Err != nil || res.Pages != 2 || !pres.OK() {
				t.Fatalf("ours %+v; spandsp's: %s", res, pres)
			}
			if tc.v27 && res.Rate > 4800 {
				t.Errorf("rate %d with a V.27ter-only machine", res.Rate)
			}
			if pres.Ident != "+86 10 1234 5678" {
				t.Errorf("spandsp saw our identity as %q", pres.Ident)
			}
			if tc.weSend {
				faxtest.SamePages(t, faxtest.ReadPages(t, role.File), doc)
			} else {
				faxtest.SamePages(t, term.Received(), doc)
			}
		})
	}
}
