package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"callbox/firmware/app"
	"callbox/firmware/internal/benchkit"
	"callbox/telephony/sip/digest"
	"callbox/telephony/sip/siptest"
)

// The flood mode (-flood) plays issue 15's attacks against the daemon's
// wiring and prints the figures the issue asks for:
//
//  1. flood: OPTIONS and REGISTER without credentials from -flood-sources
//     loopback addresses (127.0.0.3 up) as fast as this machine sends, for
//     -flood-for; meanwhile sipp, as extension 301, registers and places
//     one call through the trunk. The process's RSS idle and at its peak;
//  2. guessing: 301's password guessed from one address as fast as the
//     answers come, until the box stops answering;
//  3. enumeration: REGISTERs with a made-up nonce for 301 and for 99
//     numbers that do not exist;
//  4. TCP: -flood-tcp silent connections from 32 addresses: how many the
//     box closes, and when.

//go:embed register.xml
var registerXML []byte

type floodOptions struct {
	on      bool
	dur     time.Duration
	sources int
	tcp     int
}

func floodPhases(a *app.App, o options, sipp, dir, box string, uasPort int) error {
	if err := os.WriteFile(filepath.Join(dir, "register.xml"), registerXML, 0o600); err != nil {
		return err
	}
	boxAP, err := netip.ParseAddrPort(box)
	if err != nil {
		return err
	}
	if err := floodPhase(o, sipp, dir, boxAP, uasPort); err != nil {
		return err
	}
	guessPhase(boxAP)
	enumPhase(boxAP)
	tcp, err := netip.ParseAddrPort(a.TelephonyStatus().SIPTCP)
	if err != nil {
		return err
	}
	tcpPhase(tcp, o.flood.tcp)
	return nil
}

// rss is the process's resident set in bytes.
func rss() int64 {
	now, _ := benchkit.RSS()
	return now
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func floodPhase(o options, sipp, dir string, box netip.AddrPort, uasPort int) error {
	time.Sleep(time.Second)
	idle := rss()
	stop := make(chan struct{})
	var sent atomic.Int64
	var wg sync.WaitGroup
	for i := range o.flood.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := siptest.Flood(box, fmt.Sprintf("127.0.0.%d", 3+i), false, math.MaxInt, stop)
			if err != nil {
				fmt.Fprintln(os.Stderr, "sipbench:", err)
			}
			sent.Add(int64(n))
		}()
	}
	peak := idle
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				peak = max(peak, rss())
			}
		}
	}()
	t0 := time.Now()
	time.Sleep(min(time.Second, o.flood.dur/4))
	// The phone, during the flood: register, then one call through the trunk.
	ctx, cancel := context.WithTimeout(context.Background(), o.flood.dur+30*time.Second)
	defer cancel()
	regPort, err := benchkit.FreePort("127.0.0.1")
	if err != nil {
		return err
	}
	tr := time.Now()
	reg, err := startSipp(ctx, sipp, dir, "flood_register", "127.0.0.1", regPort, "-sf", filepath.Join(dir, "register.xml"),
		"-s", "301", "-au", "301", "-ap", secret, "-m", "1", box.String())
	if err != nil {
		return err
	}
	regErr := reg.Wait()
	regTook := time.Since(tr)
	uas, err := startSipp(ctx, sipp, dir, "flood_uas", "127.0.0.2", uasPort, "-sf", filepath.Join(dir, "uas.xml"), "-m", "1")
	if err != nil {
		return err
	}
	callPort, err := benchkit.FreePort("127.0.0.1")
	if err != nil {
		return err
	}
	tc := time.Now()
	call, err := startSipp(ctx, sipp, dir, "flood_call", "127.0.0.1", callPort, "-sf", filepath.Join(dir, "uac_setup.xml"),
		"-s", "8100", "-key", "caller", "301", "-au", "301", "-ap", secret, "-auth_uri", "8100@"+box.String(),
		"-mp", "46000", "-m", "1", box.String())
	if err != nil {
		uas.Stop()
		return err
	}
	callErr := call.Wait()
	callTook := time.Since(tc)
	uasErr := uas.Wait()
	if rest := o.flood.dur - time.Since(t0); rest > 0 {
		time.Sleep(rest)
	}
	close(stop)
	wg.Wait()
	sampling.Wait()
	elapsed := time.Since(t0)
	fmt.Printf("\nflood: OPTIONS and REGISTER without credentials from %d address(es), full speed, for %v:\n", o.flood.sources, o.flood.dur)
	fmt.Printf("  requests sent                %d (%.0f/s)\n", sent.Load(), float64(sent.Load())/elapsed.Seconds())
	fmt.Printf("  process RSS                  idle %s, peak %s (+%s)\n", mb(idle), mb(peak), mb(peak-idle))
	fmt.Printf("  phone 301 during the flood   %s\n", outcome("registered", regErr, regTook))
	fmt.Printf("                               %s\n", outcome("called 8100 through the trunk, answered", errors.Join(callErr, uasErr), callTook))
	return nil
}

func outcome(what string, err error, took time.Duration) string {
	if err != nil {
		return "FAILED: " + err.Error()
	}
	return fmt.Sprintf("%s in %v", what, took.Round(time.Millisecond))
}

// rawUDP is a bare UDP socket on a loopback address, talking to the box.
type rawUDP struct {
	c   *net.UDPConn
	box *net.UDPAddr
	seq int
}

func newRawUDP(ip string, box netip.AddrPort) (*rawUDP, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		return nil, err
	}
	return &rawUDP{c: c, box: net.UDPAddrFromAddrPort(box)}, nil
}

// register sends a REGISTER for user (with an Authorization value when
// auth is set) and returns the status code and WWW-Authenticate of its
// final answer, or 0 when none comes within wait.
func (r *rawUDP) register(user, auth string, wait time.Duration) (int, string) {
	r.seq++
	id := fmt.Sprintf("bench-%d-%s", r.seq, r.c.LocalAddr())
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%d\r\n", r.box, r.c.LocalAddr(), r.seq)
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=b%d\r\nTo: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d REGISTER\r\n", user, r.box.IP, r.seq, user, r.box.IP, id, r.seq)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\nMax-Forwards: 70\r\n", user, r.c.LocalAddr())
	if auth != "" {
		fmt.Fprintf(&b, "Authorization: %s\r\n", auth)
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	_, _ = r.c.WriteToUDP([]byte(b.String()), r.box)
	buf := make([]byte, 8192)
	deadline := time.Now().Add(wait)
	for {
		_ = r.c.SetReadDeadline(deadline)
		n, _, err := r.c.ReadFromUDP(buf)
		if err != nil {
			return 0, ""
		}
		msg := buf[:n]
		if !bytes.Contains(msg, []byte(id)) || bytes.HasPrefix(msg, []byte("SIP/2.0 1")) {
			continue
		}
		code, _ := strconv.Atoi(string(msg[8:min(11, len(msg))]))
		return code, string(wwwAuth.Find(msg))
	}
}

var wwwAuth = regexp.MustCompile(`Digest [^\r\n]*`)

func guessPhase(box netip.AddrPort) {
	r, err := newRawUDP("127.0.0.250", box)
	if err != nil {
		fmt.Println("guessing: ", err)
		return
	}
	defer r.c.Close()
	code, chal := r.register("301", "", time.Second)
	ch, err := digest.ParseChallenge(chal)
	if code != 401 || err != nil {
		fmt.Printf("\nguessing: no challenge (%d)\n", code)
		return
	}
	uri := "sip:" + box.String()
	answered := 0
	t0 := time.Now()
	var last time.Duration
	for i := 0; time.Since(t0) < 3*time.Second; i++ {
		c, err := digest.Answer(ch, "301", fmt.Sprintf("guess-%d", i), "REGISTER", uri, "c0ffee", uint32(i+1))
		if err != nil {
			break
		}
		code, _ := r.register("301", c.String(), 300*time.Millisecond)
		if code == 0 {
			break
		}
		answered++
		last = time.Since(t0)
	}
	fmt.Printf("\nguessing 301's password from one address, one guess per answer, for at most 3 s:\n")
	if answered > 0 && last > 0 {
		fmt.Printf("  guesses answered             %d in %v (%.0f/s)", answered, last.Round(time.Millisecond), float64(answered)/last.Seconds())
	} else {
		fmt.Printf("  guesses answered             %d", answered)
	}
	if time.Since(t0) < 3*time.Second {
		fmt.Printf(", then no answer: banned\n")
	} else {
		fmt.Printf(", and still answered after 3 s\n")
	}
}

func enumPhase(box netip.AddrPort) {
	r, err := newRawUDP("127.0.0.251", box)
	if err != nil {
		fmt.Println("enumeration: ", err)
		return
	}
	defer r.c.Close()
	const madeUp = `Digest username="%s", realm="callbox", nonce="0123456789abcdef0123456789abcdef0123456789abcdef01234567", uri="sip:%s", response="00112233445566778899aabbccddeeff", algorithm=MD5, qop=auth, nc=00000001, cnonce="ab"`
	users := []string{"301"}
	for n := 9001; n < 9100; n++ {
		users = append(users, strconv.Itoa(n))
	}
	codes := map[string]map[int]int{"301": {}, "others": {}}
	retries := 0
	t0 := time.Now()
	for _, u := range users {
		code := 0
		for try := 0; try < 20 && code == 0; try++ {
			if try > 0 {
				retries++
			}
			code, _ = r.register(u, fmt.Sprintf(madeUp, u, box), 100*time.Millisecond)
		}
		k := "others"
		if u == "301" {
			k = "301"
		}
		codes[k][code]++
	}
	fmt.Printf("\nenumeration: REGISTER with a made-up nonce for 301 and 99 numbers that do not exist:\n")
	fmt.Printf("  answers                      301: %s; the others: %s\n", codeList(codes["301"]), codeList(codes["others"]))
	fmt.Printf("  scan time                    %v (%d resends after the strangers' rate dropped a request)\n",
		time.Since(t0).Round(time.Millisecond), retries)
}

func codeList(m map[int]int) string {
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%d x %s", m[k], name))
	}
	return strings.Join(parts, ", ")
}

func tcpPhase(box netip.AddrPort, n int) {
	if n <= 0 {
		return
	}
	const sources, wait = 32, 45 * time.Second
	type result struct {
		dialed bool
		closed time.Duration // since dialled; 0 while open
	}
	res := make([]result, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range n {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 3, byte(1+i%sources))}, Timeout: 2 * time.Second}
		c, err := d.Dial("tcp", box.String())
		if err != nil {
			continue
		}
		res[i].dialed = true
		at := time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			_ = c.SetReadDeadline(t0.Add(wait))
			buf := make([]byte, 512)
			for {
				if _, err := c.Read(buf); err != nil {
					var ne net.Error
					if !errors.As(err, &ne) || !ne.Timeout() {
						res[i].closed = time.Since(at)
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	dialed, refused, open := 0, 0, 0
	var closed []time.Duration
	for _, r := range res {
		switch {
		case !r.dialed:
		case r.closed == 0:
			dialed++
			open++
		case r.closed < time.Second:
			dialed++
			refused++
		default:
			dialed++
			closed = append(closed, r.closed)
		}
	}
	slices.Sort(closed)
	fmt.Printf("\nTCP: %d silent connections from %d addresses, watched for %v:\n", n, sources, wait)
	fmt.Printf("  connected                    %d; closed at once (over the per-source cap) %d\n", dialed, refused)
	if len(closed) > 0 {
		fmt.Printf("  closed idle by the box       %d, after %v to %v\n", len(closed),
			closed[0].Round(100*time.Millisecond), closed[len(closed)-1].Round(100*time.Millisecond))
	} else {
		fmt.Printf("  closed idle by the box       none\n")
	}
	fmt.Printf("  still open at the end        %d\n", open)
}
