package proslicsim

import (
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/callerid/fsk"
	"callbox/dsp/dtmf"
	"callbox/dsp/tone"
)

// heardCap bounds what a phone remembers hearing: 20 s at 8 kHz.
const heardCap = 20 * 8000

// Phone is an analog telephone on an emulated chip's line: it goes off and
// on hook, flashes, dials DTMF into the audio it sends, records the audio
// it hears (a bounded buffer of the last 20 s), rings when the line rings
// and decodes FSK caller ID sent while it is on hook and the line is in
// on-hook transmission (as a phone's caller ID receiver does).
type Phone struct {
	c *Chip // the phone's state is guarded by c.mu

	offHook bool
	gen     *dtmf.Generator
	heard   [heardCap]int16
	nHeard  int64
	cid     *callerid.Receiver
	cidMsgs []callerid.Message
	cidErrs []error
}

func newPhone(c *Chip) *Phone {
	gen, err := dtmf.NewGenerator(dtmf.DefaultGeneratorConfig())
	if err != nil {
		panic(err) // the default configuration is valid
	}
	cid, err := callerid.NewReceiver(fsk.Bell202)
	if err != nil {
		panic(err)
	}
	return &Phone{c: c, gen: gen, cid: cid}
}

// OffHook lifts the handset.
func (p *Phone) OffHook() { p.setHook(true) }

// OnHook hangs up.
func (p *Phone) OnHook() { p.setHook(false) }

func (p *Phone) setHook(off bool) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.offHook = off
	p.c.update()
}

// IsOffHook reports the handset's position.
func (p *Phone) IsOffHook() bool {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return p.offHook
}

// Flash goes on hook for d and off hook again, sleeping on the chip's
// clock. The driver must be serviced meanwhile (a real clock with Start);
// on a virtual clock, step OnHook, Service and OffHook instead.
func (p *Phone) Flash(d time.Duration) {
	p.OnHook()
	p.c.cfg.Clock.Sleep(d)
	p.OffHook()
}

// Dial queues DTMF digits (100 ms tone, 100 ms pause, -10 dBm0) into the
// audio the phone sends while off hook.
func (p *Phone) Dial(digits string) error {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return p.gen.Send(digits)
}

// Dialling reports whether queued digits are still being sent.
func (p *Phone) Dialling() bool {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return p.gen.Pending() > 0
}

// Ringing reports whether the bell rings now: the line is in the ringing
// state with at least 40 V peak of ringing signal.
func (p *Phone) Ringing() bool {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	_, vpk := p.c.ringSignal()
	return p.c.lf() == lfRinging && vpk >= 40
}

// Burst is one ring: when the line entered and left the ringing state
// (End is zero while it still rings).
type Burst struct{ Start, End time.Time }

// Duration returns the burst's length (0 while it rings).
func (b Burst) Duration() time.Duration {
	if b.End.IsZero() {
		return 0
	}
	return b.End.Sub(b.Start)
}

// Rings returns the ring bursts in the chip's recent linefeed changes, so a
// test can check the cadence on the clock.
func (p *Phone) Rings() []Burst {
	var out []Burst
	for _, ch := range p.c.Changes() {
		n := len(out)
		switch {
		case ch.Linefeed == lfRinging && (n == 0 || !out[n-1].End.IsZero()):
			out = append(out, Burst{Start: ch.At})
		case ch.Linefeed != lfRinging && n > 0 && out[n-1].End.IsZero():
			out[n-1].End = ch.At
		}
	}
	return out
}

// hear records audio reaching the earpiece.
func (p *Phone) hear(x []int16) {
	for _, s := range x {
		p.heard[p.nHeard%heardCap] = s
		p.nHeard++
	}
}

// Heard returns the last audio heard off hook (up to 20 s, oldest first).
func (p *Phone) Heard() []int16 {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	n := p.nHeard
	if n > heardCap {
		n = heardCap
	}
	out := make([]int16, n)
	for i := range out {
		out[i] = p.heard[(p.nHeard-n+int64(i))%heardCap]
	}
	return out
}

// ClearHeard forgets the audio heard so far.
func (p *Phone) ClearHeard() {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.nHeard = 0
}

// HeardDigits returns the DTMF digits in the audio heard (dsp/dtmf).
func (p *Phone) HeardDigits() string {
	d := dtmf.NewDetector(dtmf.DetectorConfig{})
	ev := d.Process(p.Heard(), nil)
	ev = d.Flush(ev)
	var s []byte
	for _, e := range ev {
		if e.Kind == dtmf.DigitStart {
			s = append(s, e.Digit)
		}
	}
	return string(s)
}

// HeardTones returns the call-progress tones of a country's plan (dsp/tone)
// recognised in the audio heard, in order.
func (p *Phone) HeardTones(country string) ([]string, error) {
	plan, err := tone.PlanFor(country)
	if err != nil {
		return nil, err
	}
	d := tone.NewDetector(plan, tone.DetectorConfig{})
	d.Process(p.Heard())
	d.Finish()
	var names []string
	for {
		e, ok := d.Poll()
		if !ok {
			return names, nil
		}
		if e.Kind == tone.ToneStart {
			names = append(names, e.Tone)
		}
	}
}

// SetCallerIDModem selects the FSK modem of the phone's caller ID receiver
// (fsk.Bell202 by default; fsk.V23 for ETSI).
func (p *Phone) SetCallerIDModem(m fsk.Modem) error {
	r, err := callerid.NewReceiver(m)
	if err != nil {
		return err
	}
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.cid = r
	return nil
}

// CallerID returns the caller ID messages received so far.
func (p *Phone) CallerID() []callerid.Message {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return append([]callerid.Message(nil), p.cidMsgs...)
}

// listen feeds on-hook audio to the caller ID receiver.
func (p *Phone) listen(x []int16) {
	for len(x) > 0 {
		n, ok := p.cid.Process(x)
		x = x[n:]
		if ok {
			m, err := p.cid.Message()
			if err != nil {
				p.cidErrs = append(p.cidErrs, err)
				continue
			}
			p.cidMsgs = append(p.cidMsgs, m)
		}
		if n == 0 && !ok {
			return
		}
	}
}

// passesAudio reports whether the chip's codec connects the PCM highway to
// the line: in the active and on-hook transmission states, with battery.
func (c *Chip) passesAudio() bool {
	switch c.lf() {
	case lfFwd, lfFwdOHT, lfRev, lfRevOHT:
		return c.powered()
	}
	return false
}

// PCMWrite takes a frame the box sends towards the line. An off-hook phone
// hears it if the codec passes audio (silence otherwise); an on-hook phone
// only listens for caller ID, and only in on-hook transmission. It
// allocates nothing (except when a caller ID message completes).
func (c *Chip) PCMWrite(frame []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.phone
	pass := c.passesAudio()
	switch {
	case p.offHook && pass:
		p.hear(frame)
	case p.offHook:
		for range frame {
			p.hear(silence[:1])
		}
	case pass && (c.lf() == lfFwdOHT || c.lf() == lfRevOHT):
		p.listen(frame)
	}
}

var silence [1]int16

// PCMRead fills frame with what the line sends towards the box: the off-hook
// phone's DTMF digits and silence between them, or silence when the phone
// is on hook or the codec does not pass audio. It allocates nothing.
func (c *Chip) PCMRead(frame []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.phone.offHook && c.passesAudio() {
		c.phone.gen.Generate(frame)
		return
	}
	clear(frame)
}
