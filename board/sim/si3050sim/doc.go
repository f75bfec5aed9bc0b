// Package si3050sim emulates a Silicon Labs Si3050 DAA at register level,
// with the PSTN line behind it and a virtual central office on that line,
// so that the real driver (callbox/board/si3050) runs unchanged in
// simulation and in tests.
//
// # The chip
//
// Chip implements periph's spi.Conn with the datasheet's framing (control
// byte 0x20 write / 0x60 read with the daisy-chain address in bits 4:0,
// register, data). It models the register file and what the driver relies
// on: soft reset (register 1) and the reset pin; the revisions in registers
// 11 and 13; the line side powered down after reset (register 6) and the
// isolation link coming up LinkDelay after it is powered (register 11 high
// nibble stays 0 until then); the ring detector bits of register 5 following
// the office's ring voltage half-cycle by half-cycle (RDTP, RDTN, and RDT);
// the hook (register 5 OH) closing the loop; line voltage (register 29,
// signed, about 48 V on-hook, 6-10 V off-hook, its sign the polarity) and
// loop current (register 28, 20-30 mA off-hook) from a simple DC model;
// latched interrupts in register 4 (ring start and end, polarity, battery
// drop, drop-out, frame detect) under the mask of register 3, driving the
// active-low interrupt pin IRQ (a simpin.Pin, whose WaitForEdge wakes on
// its falling edges once the driver asked for them with In) when register
// 2 enables it.
//
// All timing (link delay, ring cadence, caller ID placement) comes from
// Config.Clock and is evaluated on every register access, PCM frame and
// Step, so a driver polling with a virtual clock sees the chip progress.
//
// Faults on demand (SetFaults): Absent (reads give 0xFF, or 0x00), NoLink
// (the isolation link never comes up); and on the office, Unplug (no
// battery: the line is disconnected).
//
// # The line side of the PCM path
//
// PCMRead fills a 10 ms frame with what the line sends towards the box and
// PCMWrite takes the box's frame; neither allocates. As on the chip, audio
// passes only with the link up and battery on the line, and only off-hook
// or in on-hook line monitor (register 5 ONHM): caller ID is heard only
// when the driver opened the monitor.
//
// # The central office
//
// CO (Chip.CO) is the exchange: Ring presents a call in the country's ring
// cadence (dsp/country: CN 25 Hz 1 s/4 s, US 20 Hz 2/4, EU 25 Hz 1/4, UK
// 0.4/0.2/0.4/2.0, JP 16 Hz 1/2) with optional caller ID placed by a
// callerid.Preset (Config.CallerID, else the country's usual one): Bell 202
// FSK after the first ring (Bellcore), V.23 FSK before it after a polarity
// reversal with or without the dual-tone alert or after a ring pulse
// (ETSI), or DTMF before the first ring. When the box seizes a ringing line
// the office stops ringing (Answered); when it seizes an idle line the
// office gives dial tone and collects the DTMF digits the box sends
// (Digits, detected with dsp/dtmf), the first digit breaking dial tone. An
// on-hook break shorter than HangupAfter is a hook flash (Flashes, recall
// dial tone); a longer one ends the call.
// PlayTone (dsp/tone plan of the country), SendDTMF and Play send audio;
// Hangup signals the far end's disconnect with busy tone, a polarity
// reversal or a loop current drop; Answer is the far end answering a call
// the box placed; Record and Heard keep what the box sent. FarEnd reports
// the office's view: its ear (board/sim/listen) names the tones and digits
// in what the box sends, and logs what happened on the line.
package si3050sim
