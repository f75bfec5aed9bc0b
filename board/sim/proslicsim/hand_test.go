package proslicsim

import (
	"strings"
	"testing"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/tone"
)

// feed plays d of a tone of the phone's plan to the line as the box would,
// in 10 ms frames on the clock.
func feed(t *testing.T, c *Chip, clk interface{ Advance(time.Duration) }, name string, d time.Duration) {
	t.Helper()
	tn, err := c.phone.ear.Plan().Tone(name)
	if err != nil {
		t.Fatal(err)
	}
	g := tone.NewGenerator(tn)
	var f [80]int16
	for i := time.Duration(0); i < d; i += 10 * time.Millisecond {
		clk.Advance(10 * time.Millisecond)
		g.Read(f[:])
		c.PCMWrite(f[:])
	}
}

// TestPhoneStatus: the phone reports what its ear hears while off hook,
// the presentation of a call from the linefeed, and the caller ID its
// display decodes (DTMF here, set per port).
func TestPhoneStatus(t *testing.T) {
	c, clk := newChip(t)
	p := c.Phone()
	if err := p.SetCountry("XX"); err == nil {
		t.Fatal("SetCountry(XX) accepted")
	}
	if err := p.SetCallerID("morse"); err == nil {
		t.Fatal("SetCallerID(morse) accepted")
	}
	if err := p.SetCountry("us"); err != nil {
		t.Fatal(err)
	}
	if err := p.SetCallerID("dtmf"); err != nil {
		t.Fatal(err)
	}
	powerUp(t, c, clk)
	t0 := clk.Now()

	// A call is presented: OHT, DTMF caller ID, then ringing.
	wr(t, c, 64, 2) // forward on-hook transmission
	if !p.Alerting() {
		t.Fatal("not alerting in on-hook transmission")
	}
	cid, err := callerid.AppendDTMF(nil, callerid.Message{Number: "13800138000"}, callerid.DefaultDTMF)
	if err != nil {
		t.Fatal(err)
	}
	for len(cid) > 0 {
		n := min(80, len(cid))
		clk.Advance(10 * time.Millisecond)
		c.PCMWrite(cid[:n])
		cid = cid[n:]
	}
	c.PCMWrite(make([]int16, 8000)) // the receiver closes the string after a pause
	wr(t, c, 64, 4)                 // ringing
	st := p.Status(t0)
	if !st.Alerting || st.CallerID == nil || st.CallerID.Number != "13800138000" || st.Country != "US" {
		t.Fatalf("presenting: %+v", st)
	}
	wr(t, c, 64, 1) // the caller gave up: idle
	if p.Alerting() {
		t.Fatal("still alerting on an idle line")
	}

	// Off hook: the US dial tone, named by the ear.
	p.OffHook()
	feed(t, c, clk, tone.Dial, 2*time.Second)
	st = p.Status(t0)
	if !st.OffHook || st.Hears != tone.Dial || st.Ringing {
		t.Fatalf("off hook: %+v", st)
	}
	var got []string
	for _, e := range st.Events {
		got = append(got, e.String())
	}
	want := "ringing, caller ID 13800138000, stopped ringing, off hook, hears dial"
	if strings.Join(got, ", ") != want {
		t.Fatalf("events %q, want %q", strings.Join(got, ", "), want)
	}
	p.OnHook()
	if st := p.Status(clk.Now()); st.Hears != "" || len(st.Events) != 2 || st.Events[0].String() != "stops hearing dial" {
		t.Fatalf("on hook: %+v", st)
	}
}

func TestFormatCallerID(t *testing.T) {
	for _, tt := range []struct {
		m    callerid.Message
		want string
	}{
		{callerid.Message{Number: "201", Name: "FXS 1"}, `201 "FXS 1"`},
		{callerid.Message{Number: "201", Time: "12071530"}, "201 12-07 15:30"},
		{callerid.Message{NumberReason: callerid.Private, NameReason: callerid.Unavailable}, "(private) (name unavailable)"},
		{callerid.Message{}, "(empty)"},
	} {
		if got := FormatCallerID(tt.m); got != tt.want {
			t.Errorf("FormatCallerID(%+v) = %q, want %q", tt.m, got, tt.want)
		}
	}
}

// powerUp starts the DC-DC converter and waits for the battery.
func powerUp(t *testing.T, c *Chip, clk interface{ Advance(time.Duration) }) {
	t.Helper()
	wr(t, c, 14, 0)
	clk.Advance(time.Second)
}
