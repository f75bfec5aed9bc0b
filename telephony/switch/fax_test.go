package callswitch_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/dtmf"
	"callbox/telephony/media"
	callswitch "callbox/telephony/switch"
)

// A line call in fax mode passes its audio untouched: a DTMF digit the
// exchange sends reaches the application's tap whole and is no digit
// event (in voice mode it was detected, muted in the audio and reported);
// back in voice mode digits are the application's again. Before SetFax
// there was no way to keep the detector's muting out of a modem signal.
func TestAppFaxModeOnLine(t *testing.T) {
	r := newRig(t, rigOpt{inbound: map[string]string{"fxo1": "201"}})
	app := newTestApp()
	r.sw.SetApplication(app)
	co := r.co("fxo1")
	if err := co.Ring(siCall(&callerid.Message{Format: callerid.MDMF, Number: "13800138000"})); err != nil {
		t.Fatal(err)
	}
	r.until("the offer", func() bool { c, _ := app.call(0); return c != nil })
	ac, caller := app.call(0)
	ac.Answer(caller)
	r.run(time.Second)
	digitsIn := func(mode string, fax bool) ([]string, string) {
		t.Helper()
		ac.SetFax(caller, fax)
		tap := media.NewTap(400)
		ac.SetTap(caller, tap)
		r.run(20 * time.Millisecond)
		app.events()
		if err := co.SendDTMF("7"); err != nil {
			t.Fatal(err)
		}
		r.run(time.Second)
		ac.SetTap(caller, nil)
		r.run(20 * time.Millisecond)
		var heard []int16
		var f media.TapFrame
		for tap.Read(&f) {
			heard = append(heard, f.Rx[:]...)
		}
		d := dtmf.NewDetector(dtmf.DetectorConfig{})
		var got string
		for _, ev := range d.Process(heard, nil) {
			if ev.Kind == dtmf.DigitEnd {
				got += string(ev.Digit)
			}
		}
		return app.events(), got
	}
	ev, inAudio := digitsIn("voice", false)
	if !slices.Equal(ev, []string{fmt.Sprint(caller, " digit 7")}) || inAudio != "" {
		t.Fatalf("voice mode: events %v, digits left in the audio %q; want the digit reported and muted", ev, inAudio)
	}
	ev, inAudio = digitsIn("fax", true)
	if len(ev) != 0 || inAudio != "7" {
		t.Fatalf("fax mode: events %v, digits in the audio %q; want none reported and the tone untouched", ev, inAudio)
	}
	ev, inAudio = digitsIn("voice again", false)
	if !slices.Equal(ev, []string{fmt.Sprint(caller, " digit 7")}) || inAudio != "" {
		t.Fatalf("back to voice: events %v, digits in the audio %q", ev, inAudio)
	}
	ac.End(callswitch.CauseNormal)
	r.run(100 * time.Millisecond)
}
