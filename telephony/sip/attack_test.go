package sip

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/digest"
	"callbox/telephony/sip/siptest"
)

// The tests of this file play the attacks of issue 15 against a running
// box, each from its own loopback address (all of 127/8 is local), so
// that the legitimate phone on 127.0.0.1 is a different source.

// rawPeer is a bare UDP socket on a chosen loopback address.
type rawPeer struct {
	conn *net.UDPConn
	box  *net.UDPAddr
	ip   string
	seq  int
}

func newRawPeer(t testing.TB, box netip.AddrPort, ip string) *rawPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{conn: c, box: net.UDPAddrFromAddrPort(box), ip: ip}
}

func (p *rawPeer) addr() string { return p.conn.LocalAddr().String() }

// req renders a request from this peer; to is the user in the Request-URI
// and To, from the user in From. Each call gets a new transaction.
func (p *rawPeer) req(method, from, to, callID string, extra ...string) []byte {
	p.seq++
	ruri := "sip:" + p.box.String()
	if to != "" {
		ruri = "sip:" + to + "@" + p.box.String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d\r\n", method, ruri, p.addr(), callID, p.seq)
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=f%d\r\nTo: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d %s\r\n",
		from, p.box.IP, p.seq, cmp(to, from), p.box.IP, callID, p.seq, method)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\nMax-Forwards: 70\r\n", from, p.addr())
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ask sends a request and returns its final response, or nil when none
// comes within wait.
func (p *rawPeer) ask(t testing.TB, data []byte, wait time.Duration) *sipmsg.Response {
	t.Helper()
	id := callIDOf(t, data)
	p.conn.WriteToUDP(data, p.box)
	buf := make([]byte, 65535)
	deadline := time.Now().Add(wait)
	for {
		p.conn.SetReadDeadline(deadline)
		n, _, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			return nil
		}
		msg, err := sipmsg.ParseMessage(bytes.Clone(buf[:n]))
		if err != nil {
			t.Fatalf("unparsable reply %q: %v", buf[:n], err)
		}
		res, ok := msg.(*sipmsg.Response)
		if ok && res.CallID() != nil && res.CallID().Value() == id && res.StatusCode >= 200 {
			return res
		}
	}
}

func callIDOf(t testing.TB, data []byte) string {
	msg, err := sipmsg.ParseMessage(data)
	if err != nil {
		t.Fatalf("test request %q: %v", data, err)
	}
	return msg.CallID().Value()
}

// credentials answers the first challenge of res for a request.
func credentials(t testing.TB, res *sipmsg.Response, method, uri, user, pass string, nc uint32) digest.Credentials {
	t.Helper()
	h := res.GetHeader("WWW-Authenticate")
	if h == nil {
		h = res.GetHeader("Proxy-Authenticate")
	}
	if h == nil {
		t.Fatalf("no challenge in %d", res.StatusCode)
	}
	ch, err := digest.ParseChallenge(h.Value())
	if err != nil {
		t.Fatal(err)
	}
	c, err := digest.Answer(ch, user, pass, method, uri, "c0ffee", nc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// authedPhone is a sipgo phone registered to a box, able to refresh.
type authedPhone struct {
	*phone
	box          *testBox
	ext, pw, uri string
	contact      string
	chal         *sipmsg.Response
	cseq, nc     uint32
}

// registeredPhone registers a new phone as ext with digest authentication.
func registeredPhone(t *testing.T, box *testBox, ext, pw string) *authedPhone {
	t.Helper()
	p := &authedPhone{phone: newPhone(t), box: box, ext: ext, pw: pw, uri: "sip:" + box.UDPAddr().String()}
	p.contact = "<sip:" + ext + "@" + p.addr.String() + ">"
	p.cseq = 1
	p.chal = p.register(t, box.UDPAddr(), ext, p.contact, p.cseq, "phone-"+ext)
	if code := p.refresh(t); code != 200 {
		t.Fatalf("phone registration: %d", code)
	}
	return p
}

// refresh registers again with the next nonce count; it returns the status.
func (p *authedPhone) refresh(t *testing.T) int {
	t.Helper()
	p.cseq++
	p.nc++
	c := credentials(t, p.chal, "REGISTER", p.uri, p.ext, p.pw, p.nc)
	return p.register(t, p.box.UDPAddr(), p.ext, p.contact, p.cseq, "phone-"+p.ext, sipmsg.NewHeader("Authorization", c.String())).StatusCode
}

// logSink collects a box's log lines.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *logSink) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSpace(s.buf.String()), "\n")
}

func (s *logSink) logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(s, &slog.HandlerOptions{Level: level}))
}

func (s *logSink) count(re *regexp.Regexp) int {
	n := 0
	for _, l := range s.lines() {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// flood runs siptest.Flood, failing the test on a setup error.
func flood(t testing.TB, box netip.AddrPort, ip string, inDialog bool, max int, stop <-chan struct{}) int {
	n, err := siptest.Flood(box, ip, inDialog, max, stop)
	if err != nil {
		t.Error(err)
	}
	return n
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// TestFloodKeepsMemoryAndPhonesWork floods the box from one address with
// unauthenticated OPTIONS and REGISTER at full speed while sipp, on
// another address, registers and places a call. Before the guard every
// request held a server transaction for 32 s: the heap grew by hundreds
// of megabytes.
func TestFloodKeepsMemoryAndPhonesWork(t *testing.T) {
	needSipp(t)
	box := startBox(t, md5Only, directory{"201": "pw201"}, answering)
	before := heapInUse()
	stop := make(chan struct{})
	var sent atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	t0 := time.Now()
	go func() {
		defer wg.Done()
		sent.Store(int64(flood(t, box.UDPAddr(), "127.0.0.3", false, 20_000_000, stop)))
	}()
	// At least the 100k requests, and on until the phone is done.
	time.Sleep(200 * time.Millisecond)
	// The flood fills the box's socket buffer, so the kernel drops some of
	// the phone's datagrams too; like a real phone, sipp retransmits. The
	// phone's transactions at 2 s retransmission need more than sipp's
	// usual 15 s on a loaded 2-core machine. It registers once, as a
	// phone does (register.xml's checks of the remaining expiry are the
	// registrar's tests, not this one's: here seconds pass between steps).
	out, regErr := sipp(t, "register_once.xml", box.UDPAddr(), "-s", "201", "-au", "201", "-ap", "pw201", "-timeout", "60s")
	outCall, callErr := sipp(t, "uac_call.xml", box.UDPAddr(), "-s", "201", "-au", "201", "-ap", "pw201", "-timeout", "60s")
	if time.Since(t0) < 2*time.Second {
		time.Sleep(2*time.Second - time.Since(t0))
	}
	close(stop)
	wg.Wait()
	if sent.Load() == 20_000_000 {
		t.Error("the flood ended before the phone was done")
	}
	elapsed := time.Since(t0)
	grown := int64(heapInUse()) - int64(before)
	t.Logf("flood: %d requests in %v (%.0f/s); heap grew %.1f MB", sent.Load(), elapsed.Round(time.Millisecond),
		float64(sent.Load())/elapsed.Seconds(), float64(grown)/(1<<20))
	if regErr != nil {
		t.Errorf("the phone could not register during the flood: %v\n%s", regErr, out)
	}
	if callErr != nil {
		t.Errorf("the phone could not call during the flood: %v\n%s", callErr, outCall)
	}
	if grown > 20<<20 {
		t.Errorf("heap grew %.1f MB under the flood", float64(grown)/(1<<20))
	}
}

// TestFloodManySourcesBoundedByBudget floods with BYEs (which need a
// transaction to be answered) from 64 addresses: the per-source rate lets
// each through slowly, and the transaction budget bounds them all.
func TestFloodManySourcesBoundedByBudget(t *testing.T) {
	const budget = 300
	box := startBox(t, Config{Limits: Limits{MaxTransactions: budget, Rate: 1000, Burst: 1000}}, directory{}, nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			flood(t, box.UDPAddr(), fmt.Sprintf("127.0.1.%d", i+1), true, 20_000, stop)
		}()
	}
	peak := 0
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		peak = max(peak, box.LiveTransactions())
	}
	close(stop)
	wg.Wait()
	t.Logf("peak live server transactions %d (budget %d, strangers %d)", peak, budget, budget*3/4)
	if peak > budget*3/4 {
		t.Errorf("strangers held %d live transactions, their share of the budget is %d", peak, budget*3/4)
	}
	// A known phone still gets through while the strangers fill their share.
	ph := newPhone(t)
	res := ph.register(t, box.UDPAddr(), "201", "<sip:201@"+ph.addr.String()+">", 1, "after-flood")
	if res.StatusCode != 401 && res.StatusCode != 403 {
		t.Errorf("REGISTER after the flood: %d", res.StatusCode)
	}
}

// TestEnumerationAnswersAlike: an existing extension and a made-up number
// get the same answers, whatever the nonce.
func TestEnumerationAnswersAlike(t *testing.T) {
	box := startBox(t, md5Only, directory{"201": "pw"}, nil)
	p := newRawPeer(t, box.UDPAddr(), "127.0.0.9")
	uri := "sip:" + box.UDPAddr().String()
	madeUp := `Authorization: Digest username="%s", realm="callbox", nonce="0123456789abcdef0123456789abcdef0123456789abcdef01234567", uri="` +
		uri + `", response="00112233445566778899aabbccddeeff", algorithm=MD5, qop=auth, nc=00000001, cnonce="ab"`
	shape := func(res *sipmsg.Response) string {
		if res == nil {
			return "no answer"
		}
		var names []string
		for _, h := range res.Headers() {
			names = append(names, h.Name())
		}
		v := ""
		if h := res.GetHeader("WWW-Authenticate"); h != nil {
			v = regexp.MustCompile(`nonce="[^"]*"`).ReplaceAllString(h.Value(), `nonce=…`)
		}
		return fmt.Sprintf("%d %s %s | %s", res.StatusCode, res.Reason, strings.Join(names, ","), v)
	}
	a := shape(p.ask(t, p.req("REGISTER", "201", "", "enum-a", fmt.Sprintf(madeUp, "201")), 2*time.Second))
	b := shape(p.ask(t, p.req("REGISTER", "299", "", "enum-b", fmt.Sprintf(madeUp, "299")), 2*time.Second))
	if a != b || !strings.HasPrefix(a, "401 ") {
		t.Errorf("made-up nonce:\n existing %s\n unknown  %s", a, b)
	}
	// With a nonce of ours and a wrong password, both fail the digest.
	wrong := func(user, id string) string {
		chal := p.ask(t, p.req("REGISTER", user, "", id), 2*time.Second)
		c := credentials(t, chal, "REGISTER", uri, user, "guess", 1)
		return shape(p.ask(t, p.req("REGISTER", user, "", id, "Authorization: "+c.String()), 2*time.Second))
	}
	a, b = wrong("201", "enum-c"), wrong("299", "enum-d")
	if a != b || !strings.HasPrefix(a, "403 ") {
		t.Errorf("wrong password:\n existing %s\n unknown  %s", a, b)
	}
}

// authFailedRE is what a fail2ban filter needs: the address, then user and method.
var authFailedRE = regexp.MustCompile(`sip: auth failed from (\[[0-9a-fA-F:.]+\]|[0-9.]+):\d+ user=(\S+) method=([A-Z]+)`)

// TestGuessingBansTheSourceNotThePhone: a guesser on another address gets
// AuthFailures answers, then its ban (doubling), each failure logged for
// fail2ban, while the registered phone keeps working.
func TestGuessingBansTheSourceNotThePhone(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	var sink logSink
	cfg := md5Only
	cfg.Limits = Limits{AuthFailures: 5, BanMin: time.Minute, BanMax: time.Hour}
	box := startBoxWith(t, cfg, directory{"201": "pw"}, nil, clock, sink.logger(slog.LevelInfo))
	uri := "sip:" + box.UDPAddr().String()
	ph := registeredPhone(t, box, "201", "pw")

	attacker := newRawPeer(t, box.UDPAddr(), "127.0.0.4")
	guess := func(round int) (answered int, elapsed time.Duration) {
		t.Helper()
		nonce := attacker.ask(t, attacker.req("REGISTER", "201", "", fmt.Sprintf("g%d", round)), time.Second)
		if nonce == nil {
			t.Fatalf("round %d: no challenge", round)
		}
		t0 := time.Now()
		for i := range 20 {
			cr := credentials(t, nonce, "REGISTER", uri, "201", fmt.Sprintf("guess%d", i), uint32(i+1))
			res := attacker.ask(t, attacker.req("REGISTER", "201", "", fmt.Sprintf("g%d", round), "Authorization: "+cr.String()), time.Second)
			if res == nil {
				break
			}
			if res.StatusCode != 403 {
				t.Fatalf("round %d guess %d: %d", round, i, res.StatusCode)
			}
			answered++
			elapsed = time.Since(t0)
		}
		return answered, elapsed
	}
	n, took := guess(1)
	t.Logf("%d guesses answered in %v (%.0f/s) before the ban", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	if n != 6 {
		t.Errorf("%d guesses answered before the ban, want 6 (5 allowed, the 6th bans)", n)
	}
	lines := 0
	for _, l := range sink.lines() {
		if m := authFailedRE.FindStringSubmatch(l); m != nil {
			lines++
			if m[1] != "127.0.0.4" || m[2] != "201" || m[3] != "REGISTER" || !strings.Contains(l, "level=WARN") {
				t.Errorf("log line %q", l)
			}
		}
	}
	if lines != n {
		t.Errorf("%d failures logged for %d answered", lines, n)
	}
	// The phone on its own address is not touched by the ban.
	if code := ph.refresh(t); code != 200 {
		t.Errorf("phone refresh during the ban: %d", code)
	}
	// The ban ends after BanMin; the next ban lasts twice as long.
	clock.Add(61 * time.Second)
	if n, _ := guess(2); n != 6 {
		t.Errorf("after the ban: %d answered, want 6", n)
	}
	clock.Add(61 * time.Second)
	if res := attacker.ask(t, attacker.req("REGISTER", "201", "", "g3"), time.Second); res != nil {
		t.Errorf("second ban over after one minute: %d", res.StatusCode)
	}
	clock.Add(61 * time.Second)
	if res := attacker.ask(t, attacker.req("REGISTER", "201", "", "g4"), time.Second); res == nil || res.StatusCode != 401 {
		t.Errorf("second ban still on after two minutes: %v", res)
	}
}

// TestExtensionLockSparesTheRegisteredPhone: guesses at 201 from many
// addresses (each under its own limit) lock the extension: a correct
// password from a new address is refused, the phone on its registered
// address is not.
func TestExtensionLockSparesTheRegisteredPhone(t *testing.T) {
	var sink logSink
	cfg := md5Only
	cfg.Limits = Limits{AuthFailures: 3, ExtensionFailures: 4}
	box := startBoxWith(t, cfg, directory{"201": "pw"}, nil, nil, sink.logger(slog.LevelInfo))
	uri := "sip:" + box.UDPAddr().String()
	ph := registeredPhone(t, box, "201", "pw")
	for i := range 5 {
		p := newRawPeer(t, box.UDPAddr(), fmt.Sprintf("127.0.0.%d", 10+i))
		nonce := p.ask(t, p.req("REGISTER", "201", "", "x"), time.Second)
		for j := range 2 {
			cr := credentials(t, nonce, "REGISTER", uri, "201", "nope", uint32(j+1))
			if res := p.ask(t, p.req("REGISTER", "201", "", "x", "Authorization: "+cr.String()), time.Second); res == nil || res.StatusCode != 403 {
				t.Fatalf("guess from 127.0.0.%d: %v", 10+i, res)
			}
		}
	}
	stranger := newRawPeer(t, box.UDPAddr(), "127.0.0.20")
	nonce := stranger.ask(t, stranger.req("REGISTER", "201", "", "s"), time.Second)
	cr := credentials(t, nonce, "REGISTER", uri, "201", "pw", 1)
	if res := stranger.ask(t, stranger.req("REGISTER", "201", "", "s", "Authorization: "+cr.String()), time.Second); res == nil || res.StatusCode != 403 {
		t.Errorf("the right password from a new address while 201 is locked: %v", res)
	}
	if code := ph.refresh(t); code != 200 {
		t.Errorf("the registered phone while 201 is locked: %d", code)
	}
	if sink.count(regexp.MustCompile(`extension locked.*extension=201`)) != 1 {
		t.Errorf("lock not logged once:\n%s", strings.Join(sink.lines(), "\n"))
	}
}

// TestReplayRefused replays a phone's call credentials: without qop, with
// the digest uri of another call, and from another address.
func TestReplayRefused(t *testing.T) {
	box := startBox(t, md5Only, directory{"201": "pw"}, func(l *Leg) { l.Reject(CauseBusy) })
	phone := newRawPeer(t, box.UDPAddr(), "127.0.0.1")
	thief := newRawPeer(t, box.UDPAddr(), "127.0.0.6")
	uriOf := func(n string) string { return "sip:" + n + "@" + box.UDPAddr().String() }
	chal := phone.ask(t, phone.req("INVITE", "201", "202", "r1"), time.Second)
	if chal == nil || chal.StatusCode != 407 {
		t.Fatalf("unauthenticated INVITE: %v", chal)
	}
	call := func(p *rawPeer, to, id string, c digest.Credentials) int {
		t.Helper()
		res := p.ask(t, p.req("INVITE", "201", to, id, "Proxy-Authorization: "+c.String()), 2*time.Second)
		if res == nil {
			return 0
		}
		if res.StatusCode >= 300 && res.StatusCode != 407 && res.StatusCode != 401 {
			p.conn.WriteToUDP(p.req("ACK", "201", to, id), p.box)
		}
		return res.StatusCode
	}
	good := credentials(t, chal, "INVITE", uriOf("202"), "201", "pw", 1)
	if code := call(phone, "202", "r1", good); code != 486 {
		t.Fatalf("the phone's own call: %d, want the switch's 486", code)
	}
	// RFC 2069 credentials (no qop): nothing tells a replay from a new
	// request, so they are refused even from the phone itself.
	qopless := good
	qopless.QOP, qopless.NC, qopless.CNonce = "", "", ""
	qopless.Response, _ = digest.Response(digest.Input{Algorithm: digest.MD5, Username: "201", Realm: "callbox", Password: "pw",
		Method: "INVITE", URI: uriOf("202"), Nonce: good.Nonce})
	if code := call(phone, "202", "r2", qopless); code == 486 {
		t.Error("qop-less credentials placed a call")
	}
	// The sniffed qop-less header placed from another address to another number.
	for i := range 3 {
		if code := call(thief, "203", fmt.Sprintf("r3-%d", i), qopless); code == 486 {
			t.Errorf("replay %d of qop-less credentials placed a call", i)
		}
	}
	// A fresh nonce count, but the digest was made for 202 and the call is to 203.
	other := credentials(t, chal, "INVITE", uriOf("202"), "201", "pw", 2)
	if code := call(phone, "203", "r4", other); code == 486 {
		t.Error("credentials for another Request-URI placed a call")
	}
	// The phone's good credentials again, from the thief and from the phone.
	if code := call(thief, "202", "r5", good); code == 486 {
		t.Error("replayed credentials from another address placed a call")
	}
	if code := call(phone, "202", "r6", good); code == 486 {
		t.Error("a used nonce count placed a second call")
	}
}

// TestTrunkSharingThePhonesAddress: a trunk whose host is the phones'
// address takes only requests from its own port; phones there are
// challenged, and a request with an extension's credentials is the
// extension's even from the trunk's port.
func TestTrunkSharingThePhonesAddress(t *testing.T) {
	provider, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	provAddr := provider.LocalAddr().String()
	provider.Close()
	cfg := md5Only
	cfg.Trunks = []TrunkConfig{{Name: "prov", Proxy: provAddr, Username: "acct"}}
	box := startBox(t, cfg, directory{"201": "pw"}, func(l *Leg) { l.Reject(CauseBusy) })
	phone := newRawPeer(t, box.UDPAddr(), "127.0.0.1")
	if res := phone.ask(t, phone.req("INVITE", "201", "202", "t1"), 2*time.Second); res == nil || res.StatusCode != 407 {
		t.Fatalf("a phone on the trunk's address: %v, want 407", res)
	}
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(provAddr)))
	if err != nil {
		t.Fatal(err)
	}
	prov := &rawPeer{conn: pc, box: net.UDPAddrFromAddrPort(box.UDPAddr()), ip: "127.0.0.1"}
	t.Cleanup(func() { pc.Close() })
	if res := prov.ask(t, prov.req("INVITE", "0755123", "202", "t2"), 2*time.Second); res == nil || res.StatusCode != 486 {
		t.Fatalf("the trunk's INVITE: %v", res)
	}
	if l := box.rec.next(t, "offered", time.Second).leg; l.Trunk() != "prov" || l.Extension() != "" {
		t.Errorf("trunk call offered as trunk %q extension %q", l.Trunk(), l.Extension())
	}
	chal := phone.ask(t, phone.req("INVITE", "201", "202", "t3"), 2*time.Second)
	c := credentials(t, chal, "INVITE", "sip:202@"+box.UDPAddr().String(), "201", "pw", 1)
	// The nonce is the phone's address's; the trunk's port shares it.
	if res := prov.ask(t, prov.req("INVITE", "201", "202", "t3", "Proxy-Authorization: "+c.String()), 2*time.Second); res == nil || res.StatusCode != 486 {
		t.Fatalf("an extension's INVITE from the trunk's port: %v", res)
	}
	if l := box.rec.next(t, "offered", time.Second).leg; l.Trunk() != "" || l.Extension() != "201" {
		t.Errorf("extension call offered as trunk %q extension %q", l.Trunk(), l.Extension())
	}
}

// dialTCP opens a TCP connection to the box from ip.
func dialTCP(t *testing.T, box netip.AddrPort, ip string) *net.TCPConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", box.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// closedWithin reports whether the box closes c within d, and after how long.
func closedWithin(c net.Conn, d time.Duration) (bool, time.Duration) {
	t0 := time.Now()
	c.SetReadDeadline(t0.Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false, time.Since(t0)
		}
		return true, time.Since(t0)
	}
}

// TestTCPIdleSlowLorisAndCaps: silent connections, slow messages and
// connections over the per-source cap are closed; a connection from a
// source that authenticated stays.
func TestTCPIdleSlowLorisAndCaps(t *testing.T) {
	// The cap, with an idle time long enough to tell a refusal from it.
	capped := startBox(t, Config{Limits: Limits{TCPIdleTimeout: 20 * time.Second, MaxTCPPerSource: 3}}, directory{}, nil)
	var held []*net.TCPConn
	for range 3 {
		held = append(held, dialTCP(t, capped.TCPAddr(), "127.0.0.7"))
	}
	if closed, _ := closedWithin(dialTCP(t, capped.TCPAddr(), "127.0.0.7"), 3*time.Second); !closed {
		t.Error("a 4th connection from one source was kept")
	}
	if closed, _ := closedWithin(held[2], 100*time.Millisecond); closed {
		t.Error("a connection within the cap was closed")
	}
	if closed, _ := closedWithin(dialTCP(t, capped.TCPAddr(), "127.0.0.17"), 100*time.Millisecond); closed {
		t.Error("another source's connection was refused")
	}

	cfg := md5Only
	cfg.Limits = Limits{TCPIdleTimeout: 300 * time.Millisecond, TCPMessageTimeout: 400 * time.Millisecond}
	box := startBox(t, cfg, directory{"201": "pw"}, nil)
	var idle []*net.TCPConn
	dialed := time.Now()
	for range 3 {
		idle = append(idle, dialTCP(t, box.TCPAddr(), "127.0.0.7"))
	}
	for i, c := range idle {
		if closed, _ := closedWithin(c, 3*time.Second); !closed {
			t.Errorf("silent connection %d still open after 3 s", i)
		} else if after := time.Since(dialed); after < 300*time.Millisecond {
			t.Errorf("silent connection %d closed after %v, before its idle time", i, after)
		}
	}
	// Slow loris: a message that never ends.
	slow := dialTCP(t, box.TCPAddr(), "127.0.0.8")
	done := make(chan struct{})
	go func() {
		defer close(done)
		msg := "OPTIONS sip:box SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.8:5060;branch=z9hG4bK-slow\r\nX-Slow: "
		slow.Write([]byte(msg))
		for range 30 {
			time.Sleep(100 * time.Millisecond)
			if _, err := slow.Write([]byte("a")); err != nil {
				return
			}
		}
	}()
	if closed, after := closedWithin(slow, 3*time.Second); !closed {
		t.Error("a slow message kept its connection open")
	} else {
		t.Logf("slow loris closed after %v", after.Round(time.Millisecond))
	}
	<-done
	// A phone that registers over TCP keeps its connection while silent.
	c := dialTCP(t, box.TCPAddr(), "127.0.0.9")
	read := func() *sipmsg.Response {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 8192)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("tcp read: %v", err)
		}
		msg, err := sipmsg.ParseMessage(buf[:n])
		if err != nil {
			t.Fatalf("tcp reply %q: %v", buf[:n], err)
		}
		return msg.(*sipmsg.Response)
	}
	reg := func(cseq int, extra string) []byte {
		return []byte(fmt.Sprintf("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bK-tcp%d\r\n"+
			"From: <sip:201@box>;tag=t\r\nTo: <sip:201@box>\r\nCall-ID: tcpreg\r\nCSeq: %d REGISTER\r\n"+
			"Contact: <sip:201@%s;transport=tcp>\r\n%sContent-Length: 0\r\n\r\n", box.TCPAddr(), c.LocalAddr(), cseq, cseq, c.LocalAddr(), extra))
	}
	c.Write(reg(1, ""))
	chal := read()
	cr := credentials(t, chal, "REGISTER", "sip:"+box.TCPAddr().String(), "201", "pw", 1)
	c.Write(reg(2, "Authorization: "+cr.String()+"\r\n"))
	if res := read(); res.StatusCode != 200 {
		t.Fatalf("TCP REGISTER: %d", res.StatusCode)
	}
	if closed, _ := closedWithin(c, time.Second); closed {
		t.Error("an authenticated phone's silent connection was closed")
	}
}

// TestBadMessagesLoggedBriefly sends oversized and unparsable messages:
// each kind is logged once per source, briefly, never at ERROR and
// never with the sender's bytes.
func TestBadMessagesLoggedBriefly(t *testing.T) {
	var sink logSink
	cfg := Config{Limits: Limits{LogEvery: time.Hour}}
	box := startBoxWith(t, cfg, directory{}, nil, nil, sink.logger(slog.LevelDebug))
	big := "OPTIONS sip:box SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.5:5060;branch=z9hG4bK-big\r\nX-Junk: " +
		strings.Repeat("A", 40<<10) + "\r\n\r\n"
	for range 3 {
		c := dialTCP(t, box.TCPAddr(), "127.0.0.5")
		c.Write([]byte(big))
		if closed, _ := closedWithin(c, 2*time.Second); !closed {
			t.Error("an oversized TCP message did not close its connection")
		}
	}
	p := newRawPeer(t, box.UDPAddr(), "127.0.0.5")
	for range 3 {
		p.conn.WriteToUDP([]byte(big[:33<<10]), p.box)
	}
	for i := range 5 {
		p.conn.WriteToUDP([]byte(fmt.Sprintf("INVITE AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%d\r\n\r\n", i)), p.box)
	}
	// The box still serves this source.
	if res := p.ask(t, p.req("OPTIONS", "x", "", "alive"), 2*time.Second); res == nil || res.StatusCode != 200 {
		t.Fatalf("OPTIONS after the junk: %v", res)
	}
	time.Sleep(100 * time.Millisecond)
	kinds := map[string]int{}
	for _, l := range sink.lines() {
		if len(l) > 400 || strings.Contains(l, "AAAAAAAAAAAAAAAA") {
			t.Errorf("log line of %d bytes quotes the sender: %.200q", len(l), l)
		}
		if strings.Contains(l, "level=ERROR") {
			t.Errorf("ERROR line: %.200q", l)
		}
		if strings.Contains(l, "127.0.0.5") && strings.Contains(l, "level=WARN") {
			kinds[l[strings.Index(l, "msg="):][:40]]++
		}
	}
	for k, n := range kinds {
		if n > 1 {
			t.Errorf("%d lines for %q from one source", n, k)
		}
	}
	if len(kinds) < 2 {
		t.Errorf("oversized and unparsable messages not logged: %v", kinds)
	}
}
