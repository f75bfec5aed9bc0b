package sip

import (
	"strings"
	"testing"
	"time"

	icholy "github.com/icholy/digest"

	sipmsg "github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/digest"
)

// icholyAuth answers the first challenge of res with github.com/icholy/digest,
// an implementation independent of ours.
func icholyAuth(t *testing.T, res *sipmsg.Response, uri, user, pass string, count int) (sipmsg.Header, *icholy.Challenge) {
	t.Helper()
	h := res.GetHeader("WWW-Authenticate")
	if h == nil {
		t.Fatalf("no challenge in %d", res.StatusCode)
	}
	ch, err := icholy.ParseChallenge(h.Value())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := icholy.Digest(ch, icholy.Options{Method: "REGISTER", URI: uri, Username: user, Password: pass, Count: count, Cnonce: "c0ffee"})
	if err != nil {
		t.Fatal(err)
	}
	return sipmsg.NewHeader("Authorization", cred.String()), ch
}

func TestRegisterSHA256AgainstIcholy(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	box := startBoxClock(t, Config{DigestAlgorithms: []digest.Algorithm{digest.SHA256}, NonceTTL: time.Minute}, directory{"201": "pw"}, nil, clock)
	ph := newPhone(t)
	uri := "sip:" + box.UDPAddr().String()
	contact := "<sip:201@" + ph.addr.String() + ">"

	res := ph.register(t, box.UDPAddr(), "201", contact, 1, "c1")
	if res.StatusCode != 401 {
		t.Fatalf("unauthenticated REGISTER got %d", res.StatusCode)
	}
	auth, ch := icholyAuth(t, res, uri, "201", "pw", 1)
	if ch.Algorithm != "SHA-256" || len(ch.QOP) == 0 {
		t.Fatalf("challenge %+v", ch)
	}
	if res := ph.register(t, box.UDPAddr(), "201", contact, 2, "c1", auth); res.StatusCode != 200 {
		t.Fatalf("SHA-256 REGISTER got %d", res.StatusCode)
	}
	regs := box.Registrations()
	if len(regs) != 1 || regs[0].Extension != "201" || regs[0].UserAgent != "testphone" || regs[0].Source != ph.addr.String() ||
		regs[0].Transport != "UDP" || !regs[0].Expires.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("registrations %+v", regs)
	}

	// The same credentials again (same nonce count): a replay, challenged.
	if res := ph.register(t, box.UDPAddr(), "201", contact, 3, "c1", auth); res.StatusCode != 401 {
		t.Fatalf("replayed nonce count got %d", res.StatusCode)
	}
	// The next count on the same nonce is fine.
	auth2, _ := icholyAuth(t, res, uri, "201", "pw", 2)
	if res := ph.register(t, box.UDPAddr(), "201", contact, 4, "c1", auth2); res.StatusCode != 200 {
		t.Fatalf("nc=2 got %d", res.StatusCode)
	}
	// After the nonce lifetime: 401 with stale=true, not 403.
	clock.Add(2 * time.Minute)
	auth3, _ := icholyAuth(t, res, uri, "201", "pw", 3)
	res = ph.register(t, box.UDPAddr(), "201", contact, 5, "c1", auth3)
	if h := res.GetHeader("WWW-Authenticate"); res.StatusCode != 401 || h == nil || !strings.Contains(h.Value(), "stale=true") {
		t.Fatalf("stale nonce got %d %v", res.StatusCode, h)
	}
	// A wrong password on a fresh nonce: 403, and the binding is untouched.
	bad, _ := icholyAuth(t, res, uri, "201", "nope", 1)
	if res := ph.register(t, box.UDPAddr(), "201", "<sip:201@10.9.9.9>", 6, "c1", bad); res.StatusCode != 403 {
		t.Fatalf("wrong password got %d", res.StatusCode)
	}
	// Another user's credentials for 201: 403.
	other, _ := icholyAuth(t, res, uri, "202", "pw", 1)
	if res := ph.register(t, box.UDPAddr(), "201", "<sip:201@10.9.9.9>", 7, "c1", other); res.StatusCode != 403 {
		t.Fatalf("foreign credentials got %d", res.StatusCode)
	}
	if n := len(box.Registrations()); n != 1 {
		t.Fatalf("%d registrations after refused attempts", n)
	}
	// Expiry: the binding lapses with the clock and is reported.
	clock.Add(time.Hour)
	box.keepaliveOnce()
	if n := len(box.Registrations()); n != 0 {
		t.Fatalf("%d registrations after expiry", n)
	}
	box.rec.next(t, "unregistered:expired", time.Second)
}

func TestKeepaliveDropsSilentContact(t *testing.T) {
	box := startBox(t, Config{KeepaliveInterval: 150 * time.Millisecond, DigestAlgorithms: []digest.Algorithm{digest.MD5}}, directory{"201": "pw"}, nil)
	alive, dead := newPhone(t), newPhone(t)
	uri := "sip:" + box.UDPAddr().String()
	for i, ph := range []*phone{alive, dead} {
		contact := "<sip:201@" + ph.addr.String() + ">"
		callID := "k" + string(rune('a'+i))
		res := ph.register(t, box.UDPAddr(), "201", contact, 1, callID)
		auth, _ := icholyAuth(t, res, uri, "201", "pw", 1)
		if res := ph.register(t, box.UDPAddr(), "201", contact, 2, callID, auth); res.StatusCode != 200 {
			t.Fatalf("register got %d", res.StatusCode)
		}
	}
	dead.close()
	ev := box.rec.next(t, "unregistered:unreachable", 3*time.Second)
	if ev.bind.Source != dead.addr.String() {
		t.Fatalf("dropped %+v, want the dead phone", ev.bind)
	}
	regs := box.Registrations()
	if len(regs) != 1 || regs[0].Source != alive.addr.String() {
		t.Fatalf("left %+v", regs)
	}
	if alive.optionsSeen() == 0 {
		t.Fatal("the live phone got no OPTIONS")
	}
}
