package callswitch_test

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/telephony/media"
	"callbox/telephony/media/rtpstream"
	"callbox/telephony/sip"
	"callbox/telephony/sip/sdpneg"
	callswitch "callbox/telephony/switch"
)

// oobRTP stands in for an RTP stream with RFC 4733: the test queues the
// telephone-events its peer sends, and it records the digits it is asked
// to send out of band (or refuses them, like a stream whose peer did not
// negotiate telephone-event) and the re-INVITE updates it gets.
type oobRTP struct {
	*rtp
	events bool

	omu        sync.Mutex
	in         []media.DigitEvent
	sent       string
	remote     netip.AddrPort
	send, recv bool
	dirs       int
}

func (o *oobRTP) ReadDigits(dst []media.DigitEvent) []media.DigitEvent {
	o.omu.Lock()
	defer o.omu.Unlock()
	dst = append(dst, o.in...)
	o.in = o.in[:0]
	return dst
}

func (o *oobRTP) SendDigit(d byte, dur time.Duration) error {
	if !o.events {
		return media.ErrInBand
	}
	o.omu.Lock()
	defer o.omu.Unlock()
	if dur < 40*time.Millisecond {
		return nil // too short for any receiver: not counted
	}
	o.sent += string(d)
	return nil
}

func (o *oobRTP) SetRemote(a, _ netip.AddrPort) {
	o.omu.Lock()
	o.remote = a
	o.omu.Unlock()
}

func (o *oobRTP) SetDirection(send, recv bool) {
	o.omu.Lock()
	o.send, o.recv, o.dirs = send, recv, o.dirs+1
	o.omu.Unlock()
}

// peerSends queues an RFC 4733 digit as the stream would report it.
func (o *oobRTP) peerSends(digits string) {
	o.omu.Lock()
	defer o.omu.Unlock()
	for i := range len(digits) {
		o.in = append(o.in, media.DigitEvent{Kind: media.DigitStart, Digit: digits[i], OutOfBand: true},
			media.DigitEvent{Kind: media.DigitEnd, Digit: digits[i], Duration: 100 * time.Millisecond, OutOfBand: true})
	}
}

func (o *oobRTP) outOfBand() string {
	o.omu.Lock()
	defer o.omu.Unlock()
	s := o.sent
	o.sent = ""
	return s
}

func (d *dialer) oobRTP(id string) *oobRTP {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.oobs[id]
}

// newRelayRig has analog 201-204 and SIP extensions 205 and 206, with
// RFC 4733 endpoints.
func newRelayRig(t *testing.T, noEvents ...string) (*rig, *dialer) {
	d := &dialer{oob: true, noEvents: map[string]bool{}}
	for _, id := range noEvents {
		d.noEvents[id] = true
	}
	pc := defaultPlan()
	pc.Extensions = append(pc.Extensions, "205", "206")
	exts := append(defaultExts(), callswitch.Extension{Number: "205", Name: "SOFT 205"},
		callswitch.Extension{Number: "206", Name: "SOFT 206"})
	r := newRig(t, rigOpt{exts: exts, plan: pc, sip: d})
	t.Cleanup(func() { r.sw.Close() })
	return r, d
}

// sipCalls: softphone 205 (leg in1) calls to; the call is answered and
// bridged. It returns the far SIP leg's id when to is a SIP extension.
func sipCalls(t *testing.T, r *rig, d *dialer, to string) string {
	t.Helper()
	ev := r.sw.SIPEvents()
	in := &sipLeg{id: "in1", ext: "205", dir: sip.Inbound, from: sip.Party{User: "205"}, to: sip.Party{User: to}}
	ev.Offered(in)
	if to == "206" {
		var out *sipLeg
		r.until("the dial", func() bool { out, _ = d.last(); return out != nil })
		ev.Answered(out)
		r.until("200 OK", func() bool { return in.did("answer") })
		ev.Answered(in)
		r.until("media", func() bool { return d.oobRTP("in1") != nil && d.oobRTP(out.id) != nil })
		r.run(300 * time.Millisecond)
		return out.id
	}
	r.run(8 * time.Second) // caller ID and the first rings
	r.phone(to).OffHook()
	r.until("200 OK", func() bool { return in.did("answer") })
	ev.Answered(in)
	r.until("media", func() bool { return d.oobRTP("in1") != nil })
	r.run(300 * time.Millisecond)
	return ""
}

// Digits from one leg of a call reach the other, whatever their kinds.
func TestDigitRelay(t *testing.T) {
	cases := []struct {
		name     string
		to       string   // what 205 calls: an analog or a SIP extension
		noEvents []string // far legs without telephone-event
		send     func(t *testing.T, r *rig, d *dialer, far string)
		// check reports what the far party got out of band and in band.
		oob, inBand string
		check       func(r *rig, d *dialer, far string) (oob, inBand string)
	}{
		{
			name: "sip rfc4733 to analog in band", to: "201",
			send: func(t *testing.T, r *rig, d *dialer, _ string) { d.oobRTP("in1").peerSends("58#") },
			check: func(r *rig, d *dialer, _ string) (string, string) {
				return "", r.phone("201").HeardDigits()
			},
			inBand: "58#",
		},
		{
			name: "analog dtmf muted to sip rfc4733", to: "201",
			send: func(t *testing.T, r *rig, d *dialer, _ string) {
				if err := r.phone("201").Dial("7*0"); err != nil {
					t.Fatal(err)
				}
			},
			check: func(r *rig, d *dialer, _ string) (string, string) {
				o := d.oobRTP("in1")
				return o.outOfBand(), o.heard()
			},
			oob: "7*0", // and nothing in band: the detector muted it
		},
		{
			name: "sip rfc4733 to sip rfc4733", to: "206",
			send: func(t *testing.T, r *rig, d *dialer, _ string) { d.oobRTP("in1").peerSends("19") },
			check: func(r *rig, d *dialer, far string) (string, string) {
				o := d.oobRTP(far)
				return o.outOfBand(), o.heard()
			},
			oob: "19",
		},
		{
			name: "sip rfc4733 to sip without telephone-event", to: "206", noEvents: []string{"out1"},
			send: func(t *testing.T, r *rig, d *dialer, _ string) { d.oobRTP("in1").peerSends("42") },
			check: func(r *rig, d *dialer, far string) (string, string) {
				o := d.oobRTP(far)
				return o.outOfBand(), o.heard()
			},
			inBand: "42",
		},
		{
			name: "sip info to sip rfc4733", to: "206",
			send: func(t *testing.T, r *rig, d *dialer, _ string) {
				in := &sipLeg{id: "in1", ext: "205", dir: sip.Inbound}
				r.sw.SIPEvents().DTMF(in, '3', 120*time.Millisecond)
			},
			check: func(r *rig, d *dialer, far string) (string, string) {
				o := d.oobRTP(far)
				return o.outOfBand(), o.heard()
			},
			oob: "3",
		},
		{
			name: "sip info to analog in band", to: "202",
			send: func(t *testing.T, r *rig, d *dialer, _ string) {
				in := &sipLeg{id: "in1", ext: "205", dir: sip.Inbound}
				r.sw.SIPEvents().DTMF(in, 'D', 120*time.Millisecond)
			},
			check: func(r *rig, d *dialer, _ string) (string, string) {
				return "", r.phone("202").HeardDigits()
			},
			inBand: "D",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, d := newRelayRig(t, c.noEvents...)
			far := sipCalls(t, r, d, c.to)
			if c.to != "206" {
				r.phone(c.to).ClearHeard()
			}
			if far != "" {
				d.oobRTP(far).heard()
			}
			d.oobRTP("in1").heard()
			c.send(t, r, d, far)
			r.run(2 * time.Second)
			oob, inBand := c.check(r, d, far)
			if oob != c.oob || inBand != c.inBand {
				t.Fatalf("far party got %q out of band and %q in band, want %q and %q", oob, inBand, c.oob, c.inBand)
			}
		})
	}
}

// Between two analog phones DTMF stays in the audio (nothing is relayed
// or muted), as before the relay.
func TestAnalogDigitsStayInBand(t *testing.T) {
	r, _ := newRelayRig(t)
	r.dial("201", "202")
	r.run(8 * time.Second)
	r.phone("202").OffHook()
	r.run(500 * time.Millisecond)
	r.hears("201", "36", "202")
}

// A re-INVITE moves the leg's stream to the new address and direction:
// the peer's hold (sendonly: we only receive) and its resume.
func TestReinviteReachesStream(t *testing.T) {
	r, d := newRelayRig(t)
	sipCalls(t, r, d, "201")
	in := &sipLeg{id: "in1", ext: "205", dir: sip.Inbound}
	o := d.oobRTP("in1")
	moved := netip.MustParseAddrPort("192.0.2.7:40000")
	steps := []struct {
		m                  sdpneg.Media
		remote             netip.AddrPort
		send, recv, onHold bool
	}{
		{m: sdpneg.Media{Remote: moved, Direction: sdpneg.RecvOnly}, remote: moved, recv: true, onHold: true},
		{m: sdpneg.Media{Remote: netip.MustParseAddrPort("0.0.0.0:40000"), Direction: sdpneg.SendRecv}, remote: moved, recv: true, onHold: false},
		{m: sdpneg.Media{Remote: moved, Direction: sdpneg.Inactive}, remote: moved, onHold: true},
		{m: sdpneg.Media{Remote: moved, Direction: sdpneg.SendRecv}, remote: moved, send: true, recv: true},
	}
	for i, st := range steps {
		r.sw.SIPEvents().MediaChanged(in, st.m)
		r.run(100 * time.Millisecond)
		o.omu.Lock()
		remote, send, recv, dirs := o.remote, o.send, o.recv, o.dirs
		o.omu.Unlock()
		if remote != st.remote || send != st.send || recv != st.recv || dirs != i+1 {
			t.Fatalf("step %d: stream sends to %v, send %v recv %v after %d updates; want %v %v %v",
				i, remote, send, recv, dirs, st.remote, st.send, st.recv)
		}
	}
}

// The exchange's DTMF on an FXO line bridged to a SIP phone is muted out
// of the audio and reaches the phone as RFC 4733; the phone's RFC 4733
// digits go down the line in band (the exchange detects them).
func TestPSTNDigitsRelay(t *testing.T) {
	d := &dialer{oob: true}
	pc := defaultPlan()
	pc.Extensions = append(pc.Extensions, "205")
	exts := append(defaultExts(), callswitch.Extension{Number: "205", Name: "SOFT 205"})
	r := newRig(t, rigOpt{exts: exts, plan: pc, sip: d, inbound: map[string]string{"fxo1": "205"}})
	t.Cleanup(func() { r.sw.Close() })
	co := r.co("fxo1")
	if err := co.Ring(siCall(nil)); err != nil {
		t.Fatal(err)
	}
	var out *sipLeg
	r.until("the dial to 205", func() bool { out, _ = d.last(); return out != nil })
	r.sw.SIPEvents().Answered(out)
	r.until("the line answered", co.Answered)
	r.until("media", func() bool { return d.oobRTP(out.id) != nil })
	r.run(500 * time.Millisecond)
	o := d.oobRTP(out.id)
	o.heard()
	if err := co.SendDTMF("73"); err != nil {
		t.Fatal(err)
	}
	r.run(2 * time.Second)
	if oob, inBand := o.outOfBand(), o.heard(); oob != "73" || inBand != "" {
		t.Fatalf("205 got %q out of band and %q in band, want \"73\" and nothing", oob, inBand)
	}
	o.peerSends("9")
	r.run(2 * time.Second)
	if got := co.Digits(); !strings.HasSuffix(got, "9") {
		t.Fatalf("the exchange detected %q from 205", got)
	}
}

// The RTP streams the firmware gives legs offer what the relay and
// re-INVITEs use.
var (
	_ media.DigitReader       = (*rtpstream.Stream)(nil)
	_ media.DigitWriter       = (*rtpstream.Stream)(nil)
	_ callswitch.MediaUpdater = (*rtpstream.Stream)(nil)
)
