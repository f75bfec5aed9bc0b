// Package proslic drives the Silicon Labs Si3210/Si3215 ProSLIC, the SLIC
// and codec behind each FXS port (where analog phones plug in), over a
// periph.io spi.Conn and gpio pins only, so the same code runs on the board
// and on the emulator in board/sim/proslicsim.
//
// # Using a port
//
//	p, err := proslic.New(proslic.Config{
//		Name: "fxs1", Part: proslic.Si3215,
//		Conn: conn, Reset: resetPin, IRQ: irqPin, // IRQ may be nil: polling
//		Clock: vclock.Real{}, Ring: ring, Slot: 0, // ring, _ := proslic.PresetFor("CN")
//	})
//	if err := p.BringUp(); err != nil { ... } // *Error: "proslic: fxs1: bring-up: ..."
//	p.Start(ctx, func(e proslic.Event) { ... }) // OffHook, OnHook, Flash, RingPause, ...
//	defer p.Close()
//
// Probe reads the chip's identity (part and revision; reads of 0x00 or
// 0xFF mean no chip, ErrAbsent). BringUp resets, probes and initialises
// the chip in the datasheet's order (see its doc); each failure is an
// *Error naming the port and the step, for example
//
//	proslic: fxs1: bring-up: vbat did not rise above 40 V within 500ms (read 1.1 V)
//	proslic: fxs2: bring-up: calibration did not complete within 2s (reg 96 reads 0x5f)
//
// and leaves that port failed (Failed, ErrFailed) without touching others.
// Every Port is independent: one per chip, with its own Conn.
//
// # Line states, ringing and caller ID
//
// SetLinefeed selects open, forward or reverse active, on-hook transmission
// (OHT) and the tip/ring open states; SetPolarity reverses the line (ETSI
// caller ID, answer supervision). Ring(cycles) rings with the port's Ring
// (frequency, peak voltage and cadence; PresetFor gives a country's from
// the country table, dsp/country: CN 25 Hz 1/4 s, US 20 Hz 2/4 s, UK
// 25 Hz double ring, EU and JP). The driver times
// the cadence itself: the chip's ring oscillator makes the waveform, and
// Service switches the linefeed between ringing and OHT at the cadence's
// boundaries on the port's clock, just as the chip's own ring timers would
// (they turn OHT on in pauses too) but testable on a virtual clock. At the
// start of each cycle's last pause Service reports RingPause with Cycle and
// the pause length; RingPause with Cycle 1 is the Bellcore caller ID window:
// the line is already in OHT, so the line code writes the FSK (dsp/callerid)
// to the PCM path then (calling SetLinefeed(ForwardOHT) there is allowed and
// keeps the ring going). An answer (ring trip) stops the ring and reports
// OffHook; StopRing or any other SetLinefeed stops it too.
//
// # Hook, flash and power events
//
// Service reads and clears the interrupt registers (18-20), debounces the
// hook (register 68, default 30 ms), and reports OffHook; an on-hook break
// inside the Flash window (default 100-800 ms) as Flash; longer breaks as
// OnHook once the window has passed (so OnHook comes 800 ms after the
// hang-up). Breaks shorter than the window that pass the debounce are
// pulse-dialling pulses (a 10 pps rotary dial breaks the loop for about
// 60 ms, with 40 ms makes, confirmed after a shorter 10 ms debounce): once
// the loop stays closed for InterDigit (default 300 ms) they are reported as
// one PulseDigit, ten pulses being 0. Power alarms
// (transistors overheating: register 19 bits Q1-Q6, or the line found open
// by the chip's protection) are reported as PowerAlarm and recovered from by
// restoring the linefeed (ringing is not resumed); MaxPowerAlarms within
// AlarmWindow leave the line open and report PortFailed. A battery
// collapse (VBAT below VBATMin, checked every HealthInterval) is VBATLoss;
// hook changes are ignored meanwhile and the converter kept enabled, and
// VBATRestored follows when the battery is back, with the linefeed
// restored.
//
// Start runs Service in one goroutine: on each falling edge of the IRQ pin,
// and at least every PollInterval while something is timed (ringing,
// debounce, flash window, battery lost) or IdleInterval otherwise (the
// polling fallback, and the only trigger without an IRQ pin). Close stops
// and waits for it. Tests on a virtual clock call Service themselves.
//
// # Diagnostics
//
// Diagnose returns the commanded and actual linefeed, hook state, tip, ring
// and battery voltages (registers 80-82, 376 mV/LSB, reported as negative
// volts) and loop current (register 79, 1.1 mA/LSB).
//
// # Not done
//
// Pulse dialling, the chip's DTMF decoder and tone generators, daisy-chained
// chip selects and the Si3210's manual calibration are not used: callbox
// does DTMF and tones in dsp on the PCM audio.
package proslic
