package callswitch_test

import (
	"math"
	"testing"
	"time"

	"callbox/dsp/tone"
	"callbox/telephony/switch/cdr"
)

// share is the fraction of x's power at f Hz (Goertzel, float64: an
// independent measure of what the phone heard).
func share(x []int16, f float64) float64 {
	w := 2 * math.Pi * f / 8000
	c := 2 * math.Cos(w)
	var s1, s2, total float64
	for _, v := range x {
		s := float64(v) + c*s1 - s2
		s2, s1 = s1, s
		total += float64(v) * float64(v)
	}
	if total == 0 {
		return 0
	}
	return 2 * (s1*s1 + s2*s2 - c*s1*s2) / (float64(len(x)) * total)
}

// hearsMusic checks that a held phone hears the music on hold: sound at a
// gentle level with the tune's notes in it, and no call-progress tone.
func (r *rig) hearsMusic(ext string) {
	r.t.Helper()
	p := r.phone(ext)
	p.ClearHeard()
	r.run(4 * time.Second)
	x := p.Heard()
	var sum float64
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	dbm0 := 10*math.Log10(sum/float64(len(x))/(32767*32767/2)) + 3.14
	// The tune opens on E4 (330 Hz) and G4 (392 Hz); its fifth below on
	// 220 and 261 Hz.
	notes := share(x, 330) + share(x, 392) + share(x, 440) + share(x, 523) + share(x, 220) + share(x, 261.3) + share(x, 293.3) + share(x, 348.7)
	if dbm0 < -35 || dbm0 > -10 || notes < 0.1 {
		r.t.Fatalf("%s on hold heard %.1f dBm0, %.2f of it at the tune's notes", ext, dbm0, notes)
	}
	if tones, _ := p.HeardTones("CN"); len(tones) > 0 {
		r.t.Fatalf("%s on hold heard tones %v", ext, tones)
	}
}

// Hold with music, then back to the call by flashing at the second
// dial tone.
func TestHoldAndResume(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.talk("201", "202")
	r.flash()
	r.hearsTone("201", tone.Dial)
	r.hearsMusic("202")
	r.deaf("202", "201")
	r.flash()
	r.hears("202", "7", "201")
	r.hears("201", "8", "202")
	r.hangup("201", "202")
	r.checkCDRs(wantCDR{cdr.Answered, "201", "202", "fxs1", "normal", "fxs1,fxs2", true})
}

// Attended transfer: 201 holds 202, consults 203, hangs up: 202 and 203
// talk.
func TestAttendedTransfer(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.talk("201", "202")
	r.flash()
	r.hearsMusic("202")
	r.dial2("203")
	r.phone("203").OffHook()
	r.run(300 * time.Millisecond)
	r.hears("203", "4", "201")
	r.deaf("203", "202")
	r.phone("201").OnHook()
	r.run(time.Second)
	r.hears("203", "56", "202")
	r.hears("202", "78", "203")
	r.hangup("202", "203")
	r.checkCDRs(
		wantCDR{cdr.Answered, "201", "202", "fxs1", "transferred", "fxs1,fxs2", true},
		wantCDR{cdr.Answered, "201", "203", "fxs1", "normal", "fxs1,fxs3,fxs2", true},
	)
}

// Blind transfer: 201 holds 202, dials 203 and hangs up while it rings:
// 202 hears ringback until 203 answers.
func TestBlindTransfer(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.talk("201", "202")
	r.flash()
	r.dial2("203")
	r.phone("201").OnHook()
	r.hearsTone("202", tone.Ringback)
	r.phone("203").OffHook()
	r.run(300 * time.Millisecond)
	r.hears("203", "56", "202")
	r.hears("202", "78", "203")
	r.hangup("203")
	r.hearsTone("202", tone.Busy)
	r.hangup("202")
	r.checkCDRs(
		wantCDR{cdr.Answered, "201", "202", "fxs1", "transferred", "fxs1,fxs2", true},
		wantCDR{cdr.Answered, "201", "203", "fxs1", "normal", "fxs1,fxs3,fxs2", true},
	)
}

// Three-way conference: flash in the consultation joins all three; a
// second flash drops the third party and the call goes on with the first.
func TestConference(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.talk("201", "202")
	r.flash()
	r.dial2("203")
	r.phone("203").OffHook()
	r.run(300 * time.Millisecond)
	r.flash()
	r.hears("203", "1", "201", "202")
	r.hears("202", "2", "201", "203")
	r.hears("201", "3", "202", "203")
	r.flash() // drop 203
	r.hearsTone("203", tone.Busy)
	r.hears("202", "4", "201")
	r.hangup("201", "202", "203")
	r.checkCDRs(
		wantCDR{cdr.Answered, "201", "203", "fxs1", "normal", "fxs1,fxs3", true},
		wantCDR{cdr.Answered, "201", "202", "fxs1", "normal", "fxs1,fxs2", true},
	)
}

// Hanging up in a three-way conference leaves the other two talking.
func TestConferenceHostLeaves(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.talk("201", "202")
	r.flash()
	r.dial2("203")
	r.phone("203").OffHook()
	r.run(300 * time.Millisecond)
	r.flash()
	r.hears("203", "1", "201", "202")
	r.phone("201").OnHook()
	r.run(time.Second)
	r.hears("203", "2", "202")
	r.hears("202", "3", "203")
	r.hangup("202", "203")
	if n := r.calls(); n != 0 {
		t.Fatalf("%d calls left", n)
	}
}

// Pickup: 203 dials *8 while 202 rings and takes 201's call.
func TestPickup(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.dial("201", "202")
	r.run(2 * time.Second)
	r.dial("203", "*8")
	r.run(500 * time.Millisecond)
	if r.phone("202").Ringing() {
		t.Fatal("202 still rings after the pickup")
	}
	r.hears("203", "5", "201")
	r.hears("201", "6", "203")
	r.hangup("201", "203")
	r.checkCDRs(wantCDR{cdr.Answered, "201", "202", "fxs1", "normal", "fxs1,fxs2,fxs3", true})
	recs := r.cdrs.Records()
	_ = recs
}

// Pickup with nothing ringing fails.
func TestPickupNothing(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.dial("203", "*8")
	r.hearsTone("203", tone.Congestion)
	r.hangup("203")
	r.checkCDRs(wantCDR{cdr.Failed, "203", "*8", "fxs3", "not found", "fxs3", false})
}

// Call waiting: 203 calls 201 while 201 talks to 202; 201 hears the
// waiting tone, 203 ringback; a flash answers 203 and holds 202 with
// music; when 203 hangs up, 201 is back with 202.
func TestCallWaiting(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.talk("201", "202")
	r.dial("203", "201")
	r.hearsTone("203", tone.Ringback)
	r.hearsTone("201", tone.CallWaiting)
	r.flash()
	r.hears("203", "5", "201")
	r.hears("201", "6", "203")
	r.hearsMusic("202")
	// Flashes switch between the two calls.
	r.flash()
	r.hears("202", "8", "201")
	r.hearsMusic("203")
	r.flash()
	r.hears("203", "9", "201")
	r.hearsMusic("202")
	// The end of one call returns to the other.
	r.hangup("203")
	r.run(time.Second)
	r.hears("202", "7", "201")
	r.hangup("201", "202")
	r.checkCDRs(
		wantCDR{cdr.Answered, "203", "201", "fxs3", "normal", "fxs3,fxs1", true},
		wantCDR{cdr.Answered, "201", "202", "fxs1", "normal", "fxs1,fxs2", true},
	)
}

// dial2 dials at the second dial tone, after a flash.
func (r *rig) dial2(digits string) {
	r.t.Helper()
	p := r.phone("201")
	if err := p.Dial(digits); err != nil {
		r.t.Fatal(err)
	}
	for p.Dialling() {
		r.run(50 * time.Millisecond)
	}
	r.run(700 * time.Millisecond)
}

// A phone that hangs up with a party on hold rings back with it, rather
// than cut the held party off; unanswered, the recall ends the call.
func TestHoldRecall(t *testing.T) {
	t.Run("answered", func(t *testing.T) {
		r := newRig(t, rigOpt{})
		r.talk("201", "202")
		r.flash()
		r.phone("201").OnHook()
		r.run(8 * time.Second)
		if cid := r.phone("201").CallerID(); len(cid) == 0 || cid[len(cid)-1].Number != "202" {
			t.Fatalf("201's recall shows caller ID %+v", cid)
		}
		r.hearsMusic("202")
		r.phone("201").OffHook()
		r.run(300 * time.Millisecond)
		r.hears("202", "3", "201")
		r.hears("201", "4", "202")
		r.hangup("201", "202")
		r.checkCDRs(wantCDR{cdr.Answered, "201", "202", "fxs1", "normal", "fxs1,fxs2", true})
	})
	t.Run("unanswered", func(t *testing.T) {
		r := newRig(t, rigOpt{ring: 10 * time.Second})
		r.talk("201", "202")
		r.flash()
		r.phone("201").OnHook()
		r.run(12 * time.Second)
		if r.phone("201").Ringing() {
			t.Fatal("201 still rings")
		}
		r.hearsTone("202", tone.Busy)
		r.hangup("202")
		r.checkCDRs(wantCDR{cdr.Answered, "201", "202", "fxs1", "no answer", "fxs1,fxs2", true})
	})
	t.Run("held party gives up", func(t *testing.T) {
		r := newRig(t, rigOpt{})
		r.talk("201", "202")
		r.flash()
		r.phone("201").OnHook()
		r.run(3 * time.Second)
		r.hangup("202")
		r.run(6 * time.Second)
		if r.phone("201").Ringing() {
			t.Fatal("201 rings on after the held party left")
		}
		r.checkCDRs(wantCDR{cdr.Answered, "201", "202", "fxs1", "normal", "fxs1,fxs2", true})
	})
}
