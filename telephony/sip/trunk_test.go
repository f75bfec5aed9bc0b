package sip

import (
	"context"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		n      int
		jitter float64
		want   time.Duration
	}{
		{1, 1, 5 * time.Second},
		{1, 0, 2500 * time.Millisecond},
		{2, 1, 10 * time.Second},
		{4, 1, 40 * time.Second},
		{7, 1, 5 * time.Minute},  // 320 s capped at 300 s
		{50, 1, 5 * time.Minute}, // no overflow
		{50, 0, 150 * time.Second},
		{3, 0.5, 15 * time.Second},
	}
	for _, tt := range tests {
		if got := backoff(tt.n, 5*time.Second, 5*time.Minute, tt.jitter); got != tt.want {
			t.Errorf("backoff(%d, jitter %v) = %v, want %v", tt.n, tt.jitter, got, tt.want)
		}
	}
}

func waitTrunk(t *testing.T, e *Endpoint, want TrunkState) TrunkStatus {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if s := e.Trunks()[0]; s.State == want {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("trunk never %s: %+v", want, e.Trunks())
	return TrunkStatus{}
}

// TestTrunkBetweenBoxes runs one box as the provider of another: the
// trunk registers with digest, the provider calls in (identified as the
// trunk), and the box calls out through it, answering a 407.
func TestTrunkBetweenBoxes(t *testing.T) {
	provider := startBox(t, Config{AuthenticateCalls: true}, directory{"trunkuser": "tpw", "300": "x"}, answering)
	box := startBox(t, Config{Trunks: []TrunkConfig{{
		Name: "prov", Proxy: provider.UDPAddr().String(), Username: "trunkuser", Password: "tpw",
		Register: true, Expires: 120 * time.Second,
	}}}, directory{}, answering)

	st := waitTrunk(t, box.Endpoint, TrunkRegistered)
	if st.ExpiresAt.Sub(st.RefreshAt) < 20*time.Second || st.Failures != 0 {
		t.Errorf("status %+v", st)
	}
	regs := provider.Registrations()
	if len(regs) != 1 || regs[0].Extension != "trunkuser" || !strings.HasPrefix(regs[0].Contact, "sip:trunkuser-") {
		t.Fatalf("provider registrations %+v", regs)
	}

	// Inbound: the provider calls the trunk's registered contact.
	ctx := context.Background()
	if _, err := provider.Dial(ctx, DialRequest{Extension: "trunkuser", From: Party{User: "13800138000"}}); err != nil {
		t.Fatal(err)
	}
	in := box.rec.next(t, "offered", 5*time.Second).leg
	if in.Trunk() != "prov" || in.From().User != "13800138000" || in.Direction() != Inbound {
		t.Errorf("inbound leg trunk %q from %+v", in.Trunk(), in.From())
	}
	provider.rec.next(t, "answered", 5*time.Second)
	box.rec.next(t, "answered", 5*time.Second)
	in.Hangup()
	provider.rec.next(t, "hungup", 5*time.Second)

	// Outbound: the box dials a number through the trunk; the provider
	// challenges the INVITE with 407 and the trunk's credentials answer it.
	out, err := box.Dial(ctx, DialRequest{Trunk: "prov", Number: "5551234", From: Party{User: "trunkuser"}})
	if err != nil {
		t.Fatal(err)
	}
	got := provider.rec.next(t, "offered", 5*time.Second).leg
	if got.To().User != "5551234" || got.Extension() != "trunkuser" {
		t.Errorf("provider saw to %+v ext %q", got.To(), got.Extension())
	}
	if ev := box.rec.next(t, "answered", 5*time.Second); ev.leg != out || out.Trunk() != "prov" {
		t.Errorf("answered %v trunk %q", ev.leg, out.Trunk())
	}
	out.Hangup()
	if ev := provider.rec.next(t, "hungup", 5*time.Second); ev.cause != CauseNormal {
		t.Errorf("provider cause %v", ev.cause)
	}

	// Closing the box unregisters the trunk at the provider.
	box.Close()
	deadline := time.Now().Add(3 * time.Second)
	for len(provider.Registrations()) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(provider.Registrations()); n != 0 {
		t.Errorf("%d registrations left after the box closed", n)
	}
}

func TestTrunkWrongPasswordBacksOff(t *testing.T) {
	provider := startBox(t, Config{}, directory{"trunkuser": "tpw"}, nil)
	box := startBox(t, Config{Trunks: []TrunkConfig{{
		Name: "prov", Proxy: provider.UDPAddr().String(), Username: "trunkuser", Password: "wrong",
		Register: true, RetryMin: time.Minute,
	}}}, directory{}, nil)
	st := waitTrunk(t, box.Endpoint, TrunkFailed)
	if st.Failures != 1 || !strings.Contains(st.Reason, "403") || st.RetryAt.Before(time.Now().Add(25*time.Second)) {
		t.Errorf("status %+v", st)
	}
	if n := len(provider.Registrations()); n != 0 {
		t.Errorf("wrong password registered %d", n)
	}
}

func TestTrunkFor(t *testing.T) {
	e, err := New(Config{UDP: "127.0.0.1:0", Trunks: []TrunkConfig{
		{Name: "a", Proxy: "192.0.2.10:5060", Username: "acct", InboundAddrs: []string{"198.51.100.7", "198.51.100.8:5070"}},
		{Name: "b", Proxy: "203.0.113.5:5060", Username: "bacct", Register: true},
	}}, Deps{Directory: directory{}, Handler: newRecorder(nil), RTP: newPorts()})
	if err != nil {
		t.Fatal(err)
	}
	b := e.trunks[1]
	req := func(src, user string) *sipmsg.Request {
		r := sipmsg.NewRequest(sipmsg.INVITE, sipmsg.Uri{Scheme: "sip", User: user, Host: "box"})
		r.SetSource(src)
		return r
	}
	tests := []struct {
		name       string
		src, user  string
		registered bool
		want       string
	}{
		{"proxy address and port", "192.0.2.10:5060", "100", false, "a"},
		{"proxy address, another port: a phone sharing it", "192.0.2.10:5062", "100", false, ""},
		{"extra inbound address, any port", "198.51.100.7:5999", "100", false, "a"},
		{"extra inbound address and port", "198.51.100.8:5070", "100", false, "a"},
		{"extra inbound address, another port", "198.51.100.8:5071", "100", false, ""},
		{"stranger", "192.0.2.99:5060", "100", false, ""},
		{"registered contact, unregistered trunk", "203.0.113.5:5080", b.contactUser, false, ""},
		{"registered contact from the proxy's address", "203.0.113.5:5080", b.contactUser, true, "b"},
		{"registered contact from elsewhere", "192.0.2.99:5060", b.contactUser, true, ""},
		{"guessing the account name is not enough", "192.0.2.99:5060", "bacct", true, ""},
	}
	for _, tt := range tests {
		st := TrunkUnregistered
		if tt.registered {
			st = TrunkRegistered
		}
		b.setStatus(func(s *TrunkStatus) { s.State = st })
		got := ""
		if tr := e.trunkFor(req(tt.src, tt.user)); tr != nil {
			got = tr.cfg.Name
		}
		if got != tt.want {
			t.Errorf("%s: trunk %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCauseStatus(t *testing.T) {
	for c := CauseNormal; int(c) < len(causeStatus); c++ {
		code, reason := c.Status()
		if reason == "" || c.String() == "" {
			t.Errorf("cause %d has no text", c)
		}
		// Every refusal maps back to its own cause, except the two that share 480.
		if c != CauseNormal && c != CauseNoAnswer && CauseOf(code) != c {
			t.Errorf("%v -> %d -> %v", c, code, CauseOf(code))
		}
	}
	if code, _ := Cause(99).Status(); code != 500 || CauseOf(502) != CauseFailed || CauseOf(600) != CauseBusy {
		t.Error("fallbacks")
	}
}

// TestTrunkReregisters checks the trunk follows the provider's Min-Expires
// (423) and registers again before the granted expiry runs out.
func TestTrunkReregisters(t *testing.T) {
	provider := startBox(t, Config{MinExpires: 2 * time.Second}, directory{"trunkuser": "tpw"}, nil)
	box := startBox(t, Config{Trunks: []TrunkConfig{{
		Name: "prov", Proxy: provider.UDPAddr().String(), Username: "trunkuser", Password: "tpw",
		Register: true, Expires: 500 * time.Millisecond,
	}}}, directory{}, nil)
	st := waitTrunk(t, box.Endpoint, TrunkRegistered)
	if got := st.ExpiresAt.Sub(st.RefreshAt); got < 350*time.Millisecond || got > 450*time.Millisecond {
		t.Errorf("granted 2 s after 423, refresh %v before expiry", got)
	}
	first := provider.Registrations()[0]
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if r := provider.Registrations(); len(r) == 1 && r[0].Refreshed.After(first.Refreshed) {
			if !r[0].Registered.Equal(first.Registered) || r[0].CallID != first.CallID {
				t.Errorf("refresh replaced the binding: %+v", r[0])
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the trunk did not register again before expiry")
}

func TestAdvertisedAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	for _, tt := range []struct {
		listen, advertise string
		check             func(string) bool
	}{
		{"127.0.0.1:0", "", func(h string) bool { return h == "127.0.0.1" }},
		{"0.0.0.0:0", "", func(h string) bool { return h != "0.0.0.0" && h != "" }},
		{"0.0.0.0:0", "192.0.2.7", func(h string) bool { return h == "192.0.2.7" }},
	} {
		e, err := New(Config{UDP: tt.listen, Advertise: tt.advertise, KeepaliveInterval: -1},
			Deps{Directory: directory{}, Handler: newRecorder(nil), RTP: newPorts()})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		c := e.contact("UDP")
		if !tt.check(c.Address.Host) || c.Address.Port != int(e.UDPAddr().Port()) {
			t.Errorf("listen %s advertise %q: contact %s", tt.listen, tt.advertise, c.Address.String())
		}
		e.Close()
	}
}

// TestSetTrunksLive reconfigures the trunks of a running box: a changed
// account unregisters the old binding at the provider and registers the
// new one at once, while a call in progress over the trunk goes on (it is
// held, resumed and hung up normally afterwards); a removed trunk
// unregisters and can no longer be dialled; an added one registers.
func TestSetTrunksLive(t *testing.T) {
	provider := startBox(t, Config{AuthenticateCalls: true}, directory{"trunkuser": "tpw", "newuser": "npw"}, answering)
	trunk := TrunkConfig{Name: "prov", Proxy: provider.UDPAddr().String(), Username: "trunkuser", Password: "tpw",
		Register: true, Expires: 120 * time.Second}
	box := startBox(t, Config{Trunks: []TrunkConfig{trunk}}, directory{}, answering)
	waitTrunk(t, box.Endpoint, TrunkRegistered)
	registered := func(want ...string) {
		t.Helper()
		var got []string
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			got = got[:0]
			for _, r := range provider.Registrations() {
				got = append(got, r.Extension)
			}
			if strings.Join(got, ",") == strings.Join(want, ",") {
				return
			}
		}
		t.Fatalf("provider has bindings for %q, want %q", got, want)
	}
	registered("trunkuser")

	ctx := context.Background()
	call, err := box.Dial(ctx, DialRequest{Trunk: "prov", Number: "5551234", From: Party{User: "trunkuser"}})
	if err != nil {
		t.Fatal(err)
	}
	box.rec.next(t, "answered", 5*time.Second)

	// New credentials: the old binding goes, the new one comes, the call stays.
	trunk.Username, trunk.Password = "newuser", "npw"
	if err := box.SetTrunks([]TrunkConfig{trunk}); err != nil {
		t.Fatal(err)
	}
	registered("newuser")
	if st := waitTrunk(t, box.Endpoint, TrunkRegistered); st.Name != "prov" {
		t.Errorf("status %+v", st)
	}
	if call.State() != StateConfirmed {
		t.Fatalf("call over the changed trunk is %v", call.State())
	}
	if err := call.Hold(ctx); err != nil {
		t.Fatalf("hold after the change: %v", err)
	}
	if err := call.Resume(ctx); err != nil {
		t.Fatalf("resume after the change: %v", err)
	}
	call.Hangup()
	if ev := box.rec.next(t, "hungup", 5*time.Second); ev.cause != CauseNormal {
		t.Errorf("call ended with %v", ev.cause)
	}

	// An invalid configuration changes nothing.
	if err := box.SetTrunks([]TrunkConfig{trunk, {Name: "bad"}}); err == nil {
		t.Error("a trunk without a proxy was accepted")
	}
	registered("newuser")

	// Removed: unregistered and gone; added again: registered.
	if err := box.SetTrunks(nil); err != nil {
		t.Fatal(err)
	}
	registered()
	if len(box.Trunks()) != 0 {
		t.Errorf("trunks after removal: %+v", box.Trunks())
	}
	if _, err := box.Dial(ctx, DialRequest{Trunk: "prov", Number: "5551234"}); err == nil {
		t.Error("dialled a removed trunk")
	}
	if err := box.SetTrunks([]TrunkConfig{trunk}); err != nil {
		t.Fatal(err)
	}
	registered("newuser")
}
