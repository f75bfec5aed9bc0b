package line_test

import (
	"slices"
	"testing"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/callerid/fsk"
	"callbox/dsp/tone"
	"callbox/telephony/line"
)

// lastMWI is the last message waiting message the phone decoded.
func lastMWI(msgs []callerid.Message) (callerid.Message, int) {
	n := 0
	var last callerid.Message
	for _, m := range msgs {
		if m.Format == callerid.MDMFMWI || m.Format == callerid.SDMFMWI {
			last, n = m, n+1
		}
	}
	return last, n
}

// Message waiting reaches the virtual phone: its caller ID receiver
// (dsp/callerid) decodes the indicator sent in on-hook transmission
// without ringing, in each preset's form; lifted, the phone hears the
// stutter dial tone (named by dsp/tone); cleared, the indicator goes off
// and the dial tone is the plain one again.
func TestSimFXSMessageWaiting(t *testing.T) {
	for _, tc := range []struct {
		preset   *callerid.Preset
		modem    fsk.Modem
		format   callerid.Format
		reversed bool // the ETSI alert reverses the line
	}{
		{preset: &callerid.Bellcore, modem: fsk.Bell202},
		{preset: &callerid.Bellcore, modem: fsk.Bell202, format: callerid.SDMFMWI},
		{preset: &callerid.ETSIDTAS, modem: fsk.V23, reversed: true},
		{preset: &callerid.ETSIReversal, modem: fsk.V23, reversed: true},
		{preset: &callerid.ETSIRingPulse, modem: fsk.V23},
	} {
		name := tc.preset.Name
		if tc.format != 0 {
			name += "-" + tc.format.String()
		}
		t.Run(name, func(t *testing.T) {
			r := newFXSRig(t, line.FXSConfig{CallerID: tc.preset, VMWIFormat: tc.format})
			ph := r.s.phone
			if err := ph.SetCallerIDModem(tc.modem); err != nil {
				t.Fatal(err)
			}
			r.ch.MessageWaiting(true, 3)
			sawReverse := false
			r.run(3*time.Second, func() { sawReverse = sawReverse || r.s.port.Reversed() })
			m, n := lastMWI(ph.CallerID())
			want := callerid.Message{Format: callerid.MDMFMWI, Time: "11211230", Waiting: callerid.IndicatorOn, Messages: 3}
			if tc.format == callerid.SDMFMWI {
				want = callerid.Message{Format: callerid.SDMFMWI, Waiting: callerid.IndicatorOn}
			}
			if n != 1 || m != want {
				t.Fatalf("the phone decoded %+v, want %+v", ph.CallerID(), want)
			}
			if sawReverse != tc.reversed || r.s.port.Reversed() {
				t.Fatalf("reversal seen %v (want %v), reversed at the end %v", sawReverse, tc.reversed, r.s.port.Reversed())
			}
			for _, b := range ph.Rings() {
				if b.Duration() > 300*time.Millisecond || b.Duration() == 0 {
					t.Fatalf("the phone rang %v for a message waiting indicator", b.Duration())
				}
			}
			ph.OffHook()
			r.run(2*time.Second, nil)
			if tones, _ := ph.HeardTones("CN"); len(tones) == 0 || tones[0] != tone.Stutter {
				t.Fatalf("with messages waiting the phone heard %v, want the stutter dial tone", tones)
			}
			ph.OnHook()
			r.run(time.Second, nil)
			r.rec.take()

			r.ch.MessageWaiting(false, 0)
			r.run(3*time.Second, nil)
			if m, n := lastMWI(ph.CallerID()); n != 2 || m.Waiting != callerid.IndicatorOff {
				t.Fatalf("after clearing the phone decoded %+v", ph.CallerID())
			}
			ph.ClearHeard()
			ph.OffHook()
			r.run(2*time.Second, nil)
			if tones, _ := ph.HeardTones("CN"); len(tones) == 0 || tones[0] != tone.Dial {
				t.Fatalf("without messages the phone heard %v, want dial tone", tones)
			}
		})
	}
}

// A call interrupts the indicator (the phone lifted while it goes out, or a
// ring): it is sent again once the line is idle; a DTMF caller ID preset
// has no indicator, only the stutter dial tone.
func TestSimFXSMessageWaitingInterrupted(t *testing.T) {
	r := newFXSRig(t, line.FXSConfig{})
	ph := r.s.phone
	r.ch.MessageWaiting(true, 1)
	r.run(250*time.Millisecond, nil) // into the data
	ph.OffHook()
	r.run(time.Second, nil)
	if _, n := lastMWI(ph.CallerID()); n != 0 {
		t.Fatalf("decoded %+v before the phone was lifted", ph.CallerID())
	}
	ph.OnHook()
	r.run(3*time.Second, nil)
	if m, n := lastMWI(ph.CallerID()); n != 1 || m.Waiting != callerid.IndicatorOn {
		t.Fatalf("after the call the phone decoded %+v", ph.CallerID())
	}
	r.rec.take()

	// A ring during the indicator: the call rings with its caller ID, the
	// indicator follows the call.
	r.ch.MessageWaiting(true, 2)
	r.run(250*time.Millisecond, nil)
	if err := r.ch.Ring(line.Caller{Number: "13800138000"}); err != nil {
		t.Fatal(err)
	}
	r.run(7*time.Second, nil)
	r.ch.StopRinging()
	r.run(3*time.Second, nil)
	var kinds []callerid.Format
	for _, m := range ph.CallerID()[1:] {
		kinds = append(kinds, m.Format)
	}
	if !slices.Equal(kinds, []callerid.Format{callerid.MDMF, callerid.MDMFMWI}) {
		t.Fatalf("after the ring the phone decoded %+v", ph.CallerID())
	}

	d := newFXSRig(t, line.FXSConfig{CallerID: &callerid.DTMFBeforeRing})
	d.ch.MessageWaiting(true, 1)
	d.run(3*time.Second, nil)
	d.s.phone.OffHook()
	d.run(2*time.Second, nil)
	if tones, _ := d.s.phone.HeardTones("CN"); len(tones) == 0 || tones[0] != tone.Stutter || len(d.s.phone.Rings()) != 0 {
		t.Fatalf("DTMF preset: heard %v, rings %v", tones, d.s.phone.Rings())
	}
}
