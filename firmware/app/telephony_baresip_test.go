package app

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"callbox/dsp/tone"
	"callbox/telephony/sip/siptest"
)

// baresip registered as extension 301 calls analog 202, then analog 201
// calls it (it answers by itself); both calls are answered, carry RTP both
// ways and leave answered CDRs.
func TestBaresipCallsAndIsCalled(t *testing.T) {
	if testing.Short() {
		t.Skip("app: starts baresip and opens sockets")
	}
	t.Parallel() // each test has its own daemon, ports and RTP range
	a := bootTelephony(t, 23000)
	tel := a.telephony()
	box := tel.sipAddr(true)
	sb := a.livePorts().Sim()
	bs := siptest.StartBaresip(t, box, freeUDP(t), "301", "phone-a-7kq2m", 30, "/dial sip:202@"+box)

	p202 := sb.Phone("fxs2")
	eventually(t, 12*time.Second, "202 ringing with caller ID 301", func() bool {
		cid := p202.CallerID()
		return len(cid) > 0 && p202.Ringing()
	})
	if cid := p202.CallerID(); cid[0].Number != "301" {
		t.Errorf("202 read caller ID %+v", cid)
	}
	p202.OffHook()
	time.Sleep(1500 * time.Millisecond)
	p202.OnHook()
	c := cdrFrom(t, a, "301")
	if c.Disposition != "answered" || c.To != "202" || c.Legs[0].Kind != "sip" {
		t.Fatalf("CDR of 301 -> 202: %+v", c)
	}

	eventually(t, 5*time.Second, "301 registered", func() bool { return len(tel.ep.Contacts("301")) == 1 })
	p201 := sb.Phone("fxs1")
	p201.OffHook()
	eventually(t, 3*time.Second, "dial tone at 201", func() bool {
		tones, err := p201.HeardTones("CN")
		return err == nil && slices.Contains(tones, tone.Dial)
	})
	if err := p201.Dial("301"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "baresip answering 201", func() bool { return oneCallAnswered(a) })
	time.Sleep(1500 * time.Millisecond)
	p201.OnHook()
	c = cdrFrom(t, a, "201")
	if c.Disposition != "answered" || c.To != "301" || c.Legs[1].Kind != "sip" {
		t.Fatalf("CDR of 201 -> 301: %+v", c)
	}
	eventually(t, 3*time.Second, "both SIP streams closed", func() bool { return len(tel.rtp.endedStats()) == 2 })
	for i, s := range tel.rtp.endedStats() {
		if s.PacketsSent < 40 || s.PacketsReceived < 40 {
			t.Errorf("call %d: %d RTP packets out, %d in; want audio both ways", i+1, s.PacketsSent, s.PacketsReceived)
		}
	}
	log := bs.Stop()
	if n := bytes.Count(log, []byte("Call established")); n != 2 {
		t.Errorf("baresip saw %d calls established, want 2:\n%s", n, log)
	}
}
