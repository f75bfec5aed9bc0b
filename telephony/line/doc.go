// Package line is the channel logic of the box's analog ports: FXS ports,
// where phones plug in, and FXO ports, on PSTN lines. It drives them through
// the port interfaces it defines (FXSPort, FXOPort: hook and line events,
// line feed, ringing, seizing, and 10 ms audio frames), which firmware/app
// satisfies with the board's drivers; telephony never imports board.
//
// Each channel is a state machine driven by its port's events and by frame
// ticks from the media clock, with an injected Clock for its timers, so
// tests run in virtual time. A channel belongs to one goroutine (the frame
// clock's): Tick and every other method are called from it, and handler
// callbacks come from inside Tick. Steady-state ticks allocate nothing.
//
// # Wiring
//
// firmware/app adapts each board port to FXSPort or FXOPort (queueing the
// driver's events for NextEvent, passing PCM frames through ReadFrame and
// WriteFrame) and the switch owns the channels:
//
//	fxs, err := line.NewFXS(line.FXSConfig{Name: "fxs1", Country: "CN"}, port, clock, dialPlan, sw)
//	fxo, err := line.NewFXO(line.FXOConfig{Name: "fxo1", AnswerAfterRings: 2}, daa, clock, sw)
//	every 10 ms, on the frame clock's goroutine:
//		fxs.Tick(); fxo.Tick()
//	switch requests, from the same goroutine:
//		fxs.Ring(line.Caller{Number: "201"}); fxs.Connect(voice); fxo.Dial("95566")
//
// A Pipe joins a channel's Voice to the media engine's endpoints.
//
// # FXS
//
// Off hook gives the country's dial tone (dsp/tone plans, CN by default);
// DTMF digits (dsp/dtmf) and pulse digits the port reports are matched one
// by one against the switch's DialPlan, with a first-digit and an
// inter-digit timeout. Ring presents an incoming call with the country's
// ringing cadence and caller ID per the port's callerid.Preset: Bell 202 or
// V.23 FSK after the first ring (Bellcore) or before it after a polarity
// reversal, a dual-tone alert or a ring pulse (ETSI), or DTMF, all sent in
// on-hook transmission. The switch plays progress tones (Progress),
// connects audio (Connect, through a Voice), ends calls with busy or
// congestion (Disconnect) and signals call waiting (CallWaiting, a tone
// mixed into the call). Hook flashes become features (FXSHandler.Feature):
// hold with a second dial tone, then transfer by hanging up or a three-way
// conference by flashing again.
//
// # FXO
//
// The idle line is monitored for caller ID (FSK and DTMF, through the
// on-hook line monitor) and ringing; the call is offered to the switch
// (FXOHandler.Inbound) on the configured ring and answered with Answer.
// Dial seizes the line, waits for dial tone (dsp/tone), dials DTMF and
// reports Answered (at the answer polarity reversal with AnswerSupervision).
// During calls the line's audio passes through an echo canceller (dsp/echo,
// on by default) and the far end's hang-up is recognised by busy or
// congestion tone, polarity reversal, loop current drop or battery loss.
package line
