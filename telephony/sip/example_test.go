package sip_test

import (
	"context"
	"log"
	"net/netip"
	"time"

	"callbox/telephony/sip"
	"callbox/telephony/sip/sdpneg"
)

// exts is the extension directory (the store, in the box).
type exts map[string]string

func (d exts) Extension(user string) (sip.Extension, bool) {
	p, ok := d[user]
	return sip.Extension{Number: user, Password: p}, ok
}

// rtpPorts stands in for the media engine's port allocator.
type rtpPorts struct{ next uint16 }

func (p *rtpPorts) AllocRTP() (netip.AddrPort, error) {
	p.next += 2
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 30000+p.next), nil
}
func (p *rtpPorts) ReleaseRTP(netip.AddrPort) {}

// pbx is a toy switch: it answers every call and logs what happens.
type pbx struct{}

func (pbx) Offered(l *sip.Leg) {
	l.Ringing(true) // 183 with SDP: the caller hears our ringback
	time.Sleep(time.Second)
	if err := l.Answer(); err != nil {
		log.Print(err)
	}
	m, _ := l.Media()
	log.Printf("%s: %s ptime %d to %v, telephone-event %d", l.ID(), m.Codec.Name, m.Ptime, m.Remote, m.DTMFPT)
}
func (pbx) Progress(l *sip.Leg, status int, early bool)  {}
func (pbx) Answered(l *sip.Leg)                          {}
func (pbx) MediaChanged(l *sip.Leg, m sdpneg.Media)      { log.Printf("held: %v", m.OnHold()) }
func (pbx) DTMF(l *sip.Leg, digit byte, d time.Duration) { log.Printf("digit %c", digit) }
func (pbx) Transfer(l *sip.Leg, t sip.Transfer) error    { return nil }
func (pbx) HungUp(l *sip.Leg, c sip.Cause)               { log.Printf("%s ended: %v", l.ID(), c) }

// The switch wires an Endpoint from configuration, its directory, its
// media engine and itself, then places and takes calls.
func Example() {
	ep, err := sip.New(sip.Config{
		UDP: "127.0.0.1:5060", TCP: "127.0.0.1:5060", AuthenticateCalls: true,
		Trunks: []sip.TrunkConfig{{Name: "carrier", Proxy: "192.0.2.1:5060", Username: "8610", Password: "secret", Register: true}},
	}, sip.Deps{Directory: exts{"201": "pw201", "202": "pw202"}, Handler: pbx{}, RTP: &rtpPorts{}})
	if err != nil {
		log.Fatal(err)
	}
	if err := ep.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer ep.Close()
	for _, r := range ep.Registrations() {
		log.Printf("%s at %s (%s) until %v", r.Extension, r.Contact, r.UserAgent, r.Expires)
	}
	leg, err := ep.Dial(context.Background(), sip.DialRequest{Extension: "202", From: sip.Party{User: "201", Display: "Reception"}})
	if err == nil {
		<-leg.Done()
	}
}
