// Package si3050 drives a Silicon Labs Si3050 voice DAA (with its Si3018 or
// Si3019 line side): an FXO port, where a PSTN line plugs in. It talks to
// the chip only through a periph.io spi.Conn and gpio pins, so the same code
// runs on the board and on the register-level emulator of package
// callbox/board/sim/si3050sim.
//
// # Using a port
//
//	cn, _ := si3050.CountryFor("CN") // the line termination of a dsp/country code
//	p, err := si3050.New(si3050.Config{Name: "fxo1", Conn: conn, IRQ: irqPin,
//		Country: cn, PCMSlot: 4})
//	if err := p.Init(); err != nil { ... } // the port is now failed: p.Err()
//	p.Start(ctx, func(e si3050.Event) { ... })  // ring, polarity, battery, loop drop
//	defer p.Close()
//	p.Seize()            // answer or start dialling; errors.Is(err, si3050.ErrNoLine)
//	p.Flash(0)           // the country's hook flash
//	p.Release()          // back on-hook, caller ID monitor on
//	d, _ := p.Diag()     // volts, milliamps, hook, polarity, revisions
//
// SPI framing is the datasheet's: a control byte (0x20 write, 0x60 read,
// the daisy-chain address in the low bits), the register number, then the
// data byte; one three-byte transaction per register.
//
// # Bring-up
//
// Init resets the chip (reset pin if wired, then register 1 = 0x80), checks
// that it answers (register 11 neither 0x00 nor 0xFF, else ErrAbsent), sets
// the PCM format, the country's termination and ringer (Country.Registers),
// the PCM timeslot and the interrupts, powers the line side up (register 6)
// and waits LinkTimeout for the isolation link (register 11 high nibble).
// It ends on-hook with the line monitor on (register 5 = 0x08), so caller ID
// sent before or between rings reaches the PCM path. Each failure is an
// error naming the port and the step ("si3050: fxo2: isolation link: line
// side did not answer within 2s (register 11 = 0x05)"); the port is then
// marked failed and every later call returns ErrFailed with that error.
//
// # Monitoring
//
// Poll reads the chip once and debounces: a ring starts when the ring
// detector (register 5 RDTP/RDTN/RDT) has been active RingMinOn and ends
// after RingOffGap of quiet; RingStart carries the silence before it and
// RingEnd the ring's length, so the line code counts rings and measures
// cadences (distinctive ring). RingingStopped follows RingSeriesTimeout
// without a ring. The signed line voltage (register 29) gives polarity
// reversals and battery loss (line disconnected); off-hook, the loop
// current (register 28) gives loop drops (disconnect supervision). Start
// runs Poll in a goroutine, woken by the interrupt pin's falling edge with
// IdlePoll (PollInterval while something is timed) as the fallback; Close
// stops it.
//
// Times come from Config.Clock (vclock.Real on hardware, a virtual clock in
// tests: waits then cost no wall time).
package si3050
