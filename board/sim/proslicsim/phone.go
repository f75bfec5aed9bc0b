package proslicsim

import (
	"time"

	"callbox/board/sim/listen"
	"callbox/dsp/callerid"
	"callbox/dsp/callerid/fsk"
	"callbox/dsp/country"
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
	cidDTMF *callerid.DTMFReceiver // set when the caller ID preset is DTMF
	cidMsgs []callerid.Message
	cidErrs []error
	cidAt   time.Time // when the last message arrived

	// ear names what the phone hears (tones, digits) and logs what
	// happens on its side of the line, for Status.
	ear      *listen.Ear
	country  string
	alerting bool // a call is being presented: ringing or on-hook transmission
	pulses   pulseTrain
	voice    []int16 // audio the phone says (Speak), sent after what is queued
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
	plan, err := tone.PlanFor(country.Default)
	if err != nil {
		panic(err) // the default country has a plan
	}
	return &Phone{c: c, gen: gen, cid: cid, ear: listen.New(plan), country: plan.Country}
}

// OffHook lifts the handset.
func (p *Phone) OffHook() { p.setHook(true) }

// OnHook hangs up.
func (p *Phone) OnHook() { p.setHook(false) }

func (p *Phone) setHook(off bool) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	if off == p.offHook {
		return
	}
	now := p.c.now()
	p.offHook = off
	p.pulses = pulseTrain{}
	if off {
		p.ear.Reset(now)
		p.ear.Note(now, listen.OffHook, "")
	} else {
		p.ear.Silence(now)
		p.ear.Note(now, listen.OnHook, "")
	}
	p.c.update()
}

// IsOffHook reports the handset's position.
func (p *Phone) IsOffHook() bool {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return p.offHook
}

// Flash breaks the loop for d (a hook flash), sleeping on the chip's
// clock. The driver must be serviced meanwhile (a real clock with Start);
// on a virtual clock, step OnHook, Service and OffHook instead. An on-hook
// phone does nothing.
func (p *Phone) Flash(d time.Duration) {
	p.c.mu.Lock()
	if !p.offHook {
		p.c.mu.Unlock()
		return
	}
	now := p.c.now()
	p.pulses = pulseTrain{start: now, breaks: [][2]time.Duration{{0, d}}, end: now.Add(d)}
	p.ear.Note(now, listen.Flash, d.String())
	p.c.update()
	p.c.mu.Unlock()
	p.c.cfg.Clock.Sleep(d)
	p.c.mu.Lock()
	p.c.update()
	p.c.mu.Unlock()
}

// Dial queues DTMF digits (100 ms tone, 100 ms pause, -10 dBm0) into the
// audio the phone sends while off hook.
func (p *Phone) Dial(digits string) error {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	if err := p.gen.Send(digits); err != nil {
		return err
	}
	p.ear.Note(p.c.now(), listen.Dialled, digits)
	return nil
}

// Speak queues audio (8 kHz) that the phone sends while off hook, mixed
// with any digits it dials: a person talking, or a test tone.
func (p *Phone) Speak(samples []int16) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.voice = append(p.voice, samples...)
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
	if p.cidDTMF != nil {
		p.cidDTMF.Process(x)
		for {
			s, _, ok := p.cidDTMF.Poll()
			if !ok {
				break
			}
			m, _, _, err := callerid.ParseDTMF(s)
			p.received(m, err)
		}
		return
	}
	for len(x) > 0 {
		n, ok := p.cid.Process(x)
		x = x[n:]
		if ok {
			p.received(p.cid.Message())
		}
		if n == 0 && !ok {
			return
		}
	}
}

// received records a caller ID message, or why one did not decode.
func (p *Phone) received(m callerid.Message, err error) {
	if err != nil {
		p.cidErrs = append(p.cidErrs, err)
		return
	}
	p.cidMsgs = append(p.cidMsgs, m)
	p.cidAt = p.c.now()
	p.ear.Note(p.cidAt, listen.CallerID, FormatCallerID(m))
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
		p.ear.Hear(c.now(), frame)
	case p.offHook:
		for len(frame) > 0 {
			n := min(len(frame), len(silence))
			p.hear(silence[:n])
			p.ear.Hear(c.now(), silence[:n])
			frame = frame[n:]
		}
	case pass && (c.lf() == lfFwdOHT || c.lf() == lfRevOHT):
		p.listen(frame)
	}
}

var silence [80]int16

// PCMRead fills frame with what the line sends towards the box: the off-hook
// phone's DTMF digits and silence between them, or silence when the phone
// is on hook or the codec does not pass audio. It allocates nothing.
func (c *Chip) PCMRead(frame []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A pulse train's breaks happen on the clock: the frame tick brings
	// the loop closure (and its interrupt) up to date.
	if c.phone.pulses.active() {
		c.update()
	}
	if c.phone.offHook && c.passesAudio() {
		c.phone.gen.Generate(frame)
		if v := c.phone.voice; len(v) > 0 {
			n := min(len(v), len(frame))
			for i, x := range v[:n] {
				frame[i] = int16(max(-32768, min(32767, int32(frame[i])+int32(x))))
			}
			c.phone.voice = v[n:]
		}
		return
	}
	clear(frame)
}
