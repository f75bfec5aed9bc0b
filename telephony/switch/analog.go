package callswitch

import (
	"fmt"

	"callbox/dsp/tone"
	"callbox/telephony/line"
	"callbox/telephony/media"
)

// fxsChan is the Channel of an FXS port and the FXSHandler its line
// logic reports to.
type fxsChan struct {
	s    *Switch
	fxs  *line.FXS
	pipe line.Pipe
	dig  *analogDigits // the pipe, as the engine sees it
	cs   *chanState
}

// AddFXS adds an FXS port: its line channel (dial tone, digits against the
// switch's dial plan, ringing with caller ID) and its place in the media
// engine. The extension whose Port is cfg.Name is the phone's number.
// Call it before the clock runs, or through Do.
func (s *Switch) AddFXS(cfg line.FXSConfig, port line.FXSPort) error {
	fc := &fxsChan{s: s}
	ch, err := line.NewFXS(cfg, port, s.clk, fc, fc)
	if err != nil {
		return fmt.Errorf("callswitch: %w", err)
	}
	fc.fxs = ch
	fc.dig = newAnalogDigits(&fc.pipe)
	cs, err := s.addChannel(fc, s.extByPort(cfg.Name), media.ChannelOptions{})
	if err != nil {
		return err
	}
	fc.cs = cs
	s.fxs = append(s.fxs, fc)
	return nil
}

// FXS returns the line channel of an FXS port, for status pages.
func (s *Switch) FXS(name string) *line.FXS {
	for _, c := range s.fxs {
		if c.fxs.Name() == name {
			return c.fxs
		}
	}
	return nil
}

func (c *fxsChan) Name() string             { return c.fxs.Name() }
func (c *fxsChan) Tech() Tech               { return FXS }
func (c *fxsChan) Endpoint() media.Endpoint { return c.dig }
func (c *fxsChan) setRelay(on bool)         { c.dig.relay.Store(on) }
func (c *fxsChan) Answer() error            { return nil }
func (c *fxsChan) Connect() error           { return c.fxs.Connect(&c.pipe) }

func (c *fxsChan) Call(_ string, from Party) error {
	return c.fxs.Ring(line.Caller{Number: from.Number, Name: from.Name})
}

// Hangup: a ringing phone stops; an off-hook one hears why the call ended
// until it hangs up (busy after a normal end, as Chinese exchanges do).
func (c *fxsChan) Hangup(cause Cause) error {
	switch c.fxs.State() {
	case line.FXSIdle:
		return nil
	case line.FXSAlerting:
		c.fxs.StopRinging()
		return nil
	}
	return c.fxs.Disconnect(toneFor(cause))
}

func toneFor(cause Cause) string {
	switch cause {
	case CauseNormal, CauseBusy, CauseNoAnswer, CauseCancelled, CauseTransferred, CausePickedUp:
		return tone.Busy
	case CauseFeature:
		return tone.Stutter
	}
	return tone.Congestion
}

func (c *fxsChan) Indicate(ind Indication) error {
	switch ind {
	case Ringback:
		if st := c.fxs.State(); st == line.FXSRouting || st == line.FXSConnected {
			return c.fxs.Progress(tone.Ringback)
		}
	case Busy, Congestion, Confirm:
		cause := map[Indication]Cause{Busy: CauseBusy, Congestion: CauseCongestion, Confirm: CauseFeature}[ind]
		return c.fxs.Disconnect(toneFor(cause))
	case WaitingOn:
		return c.fxs.CallWaiting(true)
	case WaitingOff:
		if c.fxs.State() == line.FXSConnected {
			return c.fxs.CallWaiting(false)
		}
	}
	return nil
}

func (c *fxsChan) SendDigits(digits string) error {
	return c.s.engine.SendDigits(c.cs.mch, digits, 0)
}

// Match implements line.DialPlan with the switch's current plan; digits
// no number starts with are refused by the line at once (congestion), and
// leave a failed CDR here, since the line tells the switch no more.
func (c *fxsChan) Match(digits string) line.Match {
	m := c.s.plan.Match(digits)
	if m == line.MatchInvalid {
		c.s.rejected(c.cs, digits)
	}
	return m
}

// Dialled implements line.FXSHandler.
func (c *fxsChan) Dialled(_ *line.FXS, number string) { c.s.originate(c.cs, number) }

// Answered implements line.FXSHandler.
func (c *fxsChan) Answered(*line.FXS) { c.s.answered(c.cs) }

// HungUp implements line.FXSHandler.
func (c *fxsChan) HungUp(*line.FXS) { c.s.partyGone(c.cs, CauseNormal) }

// Feature implements line.FXSHandler.
func (c *fxsChan) Feature(_ *line.FXS, f line.Feature) { c.s.flashFeature(c.cs, f) }

// fxoChan is the Channel of an FXO port and its FXOHandler.
type fxoChan struct {
	s    *Switch
	fxo  *line.FXO
	pipe line.Pipe
	dig  *analogDigits // the pipe, as the engine sees it
	cs   *chanState
}

// AddFXO adds an FXO port: inbound calls ring the extension Config.Inbound
// names for it; routes name it as a trunk.
func (s *Switch) AddFXO(cfg line.FXOConfig, port line.FXOPort) error {
	fc := &fxoChan{s: s}
	ch, err := line.NewFXO(cfg, port, s.clk, fc)
	if err != nil {
		return fmt.Errorf("callswitch: %w", err)
	}
	fc.fxo = ch
	fc.dig = newAnalogDigits(&fc.pipe)
	cs, err := s.addChannel(fc, "", media.ChannelOptions{})
	if err != nil {
		return err
	}
	fc.cs = cs
	s.fxo = append(s.fxo, fc)
	return nil
}

func (c *fxoChan) Name() string                      { return c.fxo.Name() }
func (c *fxoChan) Tech() Tech                        { return FXO }
func (c *fxoChan) Endpoint() media.Endpoint          { return c.dig }
func (c *fxoChan) setRelay(on bool)                  { c.dig.relay.Store(on) }
func (c *fxoChan) Answer() error                     { return c.fxo.Answer() }
func (c *fxoChan) Connect() error                    { return c.fxo.Connect(&c.pipe) }
func (c *fxoChan) Call(number string, _ Party) error { return c.fxo.Dial(number) }
func (c *fxoChan) SendDigits(digits string) error    { return c.fxo.SendDigits(digits) }
func (c *fxoChan) Hangup(Cause) error                { return c.fxo.Hangup() }

// Indicate: the PSTN gives its own progress tones; a line is only told
// nothing here.
func (c *fxoChan) Indicate(Indication) error { return nil }

func (c *fxoChan) idle() bool { return c.fxo.State() == line.FXOIdle }

// Inbound implements line.FXOHandler.
func (c *fxoChan) Inbound(_ *line.FXO, from line.Caller) {
	c.s.inbound(c.cs, Party{Number: from.Number, Name: from.Name})
}

// Answered implements line.FXOHandler.
func (c *fxoChan) Answered(*line.FXO) { c.s.answered(c.cs) }

// HungUp implements line.FXOHandler.
func (c *fxoChan) HungUp(_ *line.FXO, cause line.Cause) {
	var k Cause
	switch cause {
	case line.CauseRingingStopped:
		k = CauseCancelled
	case line.CauseBusyTone:
		k = CauseNormal
		if l := c.cs.cur; l != nil && l.call.answer.IsZero() {
			k = CauseBusy
		}
	case line.CauseCongestionTone:
		k = CauseNormal
		if l := c.cs.cur; l != nil && l.call.answer.IsZero() {
			k = CauseCongestion
		}
	case line.CauseNoDialTone, line.CauseSeizeFailed, line.CauseBatteryLost:
		k = CauseFailed
	default:
		k = CauseNormal
	}
	c.s.partyGone(c.cs, k)
}

// rejected records a number the dial plan refused digit by digit.
func (s *Switch) rejected(cs *chanState, digits string) {
	now := s.clk.Now()
	c := &call{id: s.nextID(), origin: cs.ch.Name(), from: Party{Number: cs.ext}, fromEx: cs.ext,
		to: digits, start: now, cause: CauseNotFound}
	c.a = c.addLeg(cs, cs.ext, "", now)
	c.a.ended, c.a.end, c.a.cause = true, now, CauseNotFound
	s.writeCDR(c)
}

// inbound: an FXO line rang with a call for the box.
func (s *Switch) inbound(cs *chanState, from Party) {
	if s.offerApp(cs, Incoming{Kind: FromLine, Trunk: cs.ch.Name(), From: from}) {
		return
	}
	dest := s.cfg.Inbound[cs.ch.Name()]
	if dest == "" && len(s.cfg.Extensions) > 0 {
		dest = s.cfg.Extensions[0].Number
	}
	c := s.newCall(cs, from, dest)
	c.trunk = cs.ch.Name()
	c.a.trunk = c.trunk
	s.ringExt(c, dest, 0)
}
