// Package proslicsim emulates a Si3210/Si3215 ProSLIC at register level,
// with an analog phone on its line, so that board/proslic runs unchanged in
// simulation and in tests.
//
// A Chip implements periph's spi.Conn: it takes the ProSLIC's byte stream
// (control byte with bit 7 for read, then a data byte) and models the
// register file, the indirect registers behind 28/29/30 with the busy flag
// in 31, the part and revision (register 0, and register 1 bit 7 on a
// Si3215), the after-reset values the driver checks, interrupts (18-20,
// write 1 to clear, masked by 21-23) on an active-low interrupt pin whose
// falling edges wake WaitForEdge, and a reset pin (both simpin.Pin).
// Time-dependent state comes from the configured clock's Now: the DC-DC
// converter's VBAT ramp (RampTime) after register 14 enables it,
// calibration completing (CalTime) after register 96 starts it, and the
// line's voltages and loop current (registers 78-83) from the linefeed
// state, battery, on-hook voltage (72), current limit (71) and the phone's
// hook, so a driver that polls with Sleep on a virtual clock sees the chip
// progress.
//
// Faults on demand (SetFault, PowerAlarm): the chip absent (reads 0xFF or
// 0x00), calibration that never completes, a battery that never rises, a
// battery lost while running, and transistor power alarms that open the
// line (once, or stuck so that every attempt to power the line re-trips).
//
// The Phone goes off and on hook, flashes, dials DTMF (dsp/dtmf) into the
// audio the line sends (PCMRead) or pulses (DialPulse: loop breaks on the
// chip's clock), hears what the box sends (PCMWrite) into a
// bounded 20 s buffer with helpers naming the DTMF digits (dsp/dtmf) and
// call-progress tones (dsp/tone) in it, rings when the line rings with at
// least 40 V peak (Rings lists the bursts with their times), and decodes
// caller ID (dsp/callerid: FSK, or DTMF after SetCallerID("dtmf")) from
// audio it receives on hook while the line is in on-hook transmission, and
// only then. Status is what its user perceives: the hook, the bell, the
// tone its ear (board/sim/listen, the plan of SetCountry) names, the digits
// heard, the caller ID display and a log of events.
//
// PCMRead and PCMWrite are the line side of the PCM path (80-sample frames
// at 8 kHz, linear): the codec passes audio only in the active and OHT
// states with the battery up, as the chip does.
package proslicsim
