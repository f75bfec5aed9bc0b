package sip

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"callbox/telephony/sip/digest"
)

// benchTx is a server transaction that keeps the last response.
type benchTx struct {
	last *sipmsg.Response
	done chan struct{}
}

func (t *benchTx) Terminate()                            {}
func (t *benchTx) OnTerminate(sipmsg.FnTxTerminate) bool { return true }
func (t *benchTx) Done() <-chan struct{}                 { return t.done }
func (t *benchTx) Err() error                            { return nil }
func (t *benchTx) Respond(r *sipmsg.Response) error      { t.last = r; return nil }
func (t *benchTx) Acks() <-chan *sipmsg.Request          { return nil }
func (t *benchTx) OnCancel(sipmsg.FnTxCancel) bool       { return true }

// rawRegister renders an authenticated REGISTER as it arrives on the wire.
func rawRegister(e *Endpoint, ext, pass, callID string, cseq uint32, nonce string, nc uint32, contactPort int) []byte {
	uri := "sip:callbox"
	cred, err := digest.Answer(digest.Challenge{Realm: e.cfg.Realm, Nonce: nonce, Algorithm: digest.MD5, QOP: "auth"},
		ext, pass, "REGISTER", uri, "0a4f113b", nc)
	if err != nil {
		panic(err)
	}
	return []byte(fmt.Sprintf("REGISTER %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%d%s\r\n"+
		"From: <sip:%s@callbox>;tag=%d\r\nTo: <sip:%s@callbox>\r\nCall-ID: %s\r\nCSeq: %d REGISTER\r\n"+
		"Contact: <sip:%s@127.0.0.1:%d>\r\nExpires: 3600\r\nMax-Forwards: 70\r\nUser-Agent: bench\r\n"+
		"Authorization: %s\r\nContent-Length: 0\r\n\r\n",
		uri, contactPort, cseq, callID, ext, cseq, ext, callID, cseq, ext, contactPort, cred.String()))
}

// benchLimits lifts the per-source message rate: the benchmarks measure
// what the box can do, from one source, not what it allows one source.
var benchLimits = Limits{Rate: -1, KnownRate: -1}

func benchEndpoint(b *testing.B, dir directory) *Endpoint {
	e, err := New(Config{UDP: "127.0.0.1:0", KeepaliveInterval: -1, MaxContacts: 1, Limits: benchLimits},
		Deps{Directory: dir, Handler: newRecorder(nil), RTP: newPorts()})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// handleRaw parses one REGISTER and runs the registrar on it.
func handleRaw(b *testing.B, e *Endpoint, raw []byte, tx *benchTx) {
	msg, err := sipmsg.ParseMessage(raw)
	if err != nil {
		b.Fatal(err)
	}
	req := msg.(*sipmsg.Request)
	req.SetSource("127.0.0.1:5070")
	req.SetTransport("UDP")
	e.onRegister(req, tx)
	if tx.last == nil || tx.last.StatusCode != 200 {
		b.Fatalf("REGISTER answered %v", tx.last)
	}
}

// BenchmarkRegisterHandler measures the registrar's work per authenticated
// refresh REGISTER: parsing, digest check with nonce-count tracking, the
// binding update and building the 200. Requests are rendered (client side)
// in batches outside the timer.
func BenchmarkRegisterHandler(b *testing.B) {
	e := benchEndpoint(b, directory{"201": "pw"})
	nonce := e.verifier.Nonce(time.Now(), "127.0.0.1")
	tx := &benchTx{}
	batch := make([][]byte, 0, 1024)
	var nc uint32
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		batch = batch[:0]
		for i := 0; i < cap(batch) && done+i < b.N; i++ {
			nc++
			batch = append(batch, rawRegister(e, "201", "pw", "bench", nc, nonce, nc, 5070))
		}
		b.StartTimer()
		for _, raw := range batch {
			handleRaw(b, e, raw, tx)
		}
		done += len(batch)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "registers/s")
}

// BenchmarkRegistrationMemory reports the heap each registered contact
// holds (binding, strings, nonce-count entry), over 2000 extensions.
func BenchmarkRegistrationMemory(b *testing.B) {
	const n = 2000
	dir := directory{}
	for i := range n {
		dir[strconv.Itoa(1000+i)] = "pw"
	}
	var perReg float64
	for b.Loop() {
		b.StopTimer()
		e := benchEndpoint(b, dir)
		nonces := make([]string, n)
		raws := make([][]byte, n)
		for i := range n {
			nonces[i] = e.verifier.Nonce(time.Now(), "127.0.0.1")
			ext := strconv.Itoa(1000 + i)
			raws[i] = rawRegister(e, ext, "pw", "c"+ext, 1, nonces[i], 1, 20000+i)
		}
		tx := &benchTx{}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		for _, raw := range raws {
			handleRaw(b, e, raw, tx)
		}
		b.StopTimer()
		tx.last = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		if e.reg.Len() != n {
			b.Fatalf("%d registrations", e.reg.Len())
		}
		perReg = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(e)
		runtime.KeepAlive(raws)
		b.StartTimer()
	}
	b.ReportMetric(perReg, "B/registration")
}

// BenchmarkRegisterUDP measures authenticated REGISTERs per second through
// the real UDP listener and sipgo's transaction layer, with 8 concurrent
// clients on loopback (their digest computation included).
func BenchmarkRegisterUDP(b *testing.B) {
	if testing.Short() {
		b.Skip("opens sockets")
	}
	dir := directory{}
	for i := range 64 {
		dir[strconv.Itoa(1000+i)] = "pw"
	}
	e := benchEndpoint(b, dir)
	if err := e.Start(contextBackground()); err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	box := net.UDPAddrFromAddrPort(e.UDPAddr())
	var next atomic.Int32
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := int(next.Add(1)) - 1
		ext := strconv.Itoa(1000 + id%64)
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		port := c.LocalAddr().(*net.UDPAddr).Port
		nonce := e.verifier.Nonce(time.Now(), "127.0.0.1")
		buf := make([]byte, 4096)
		var seq uint32
		for pb.Next() {
			seq++
			raw := rawRegister(e, ext, "pw", "u"+ext+strconv.Itoa(id), seq, nonce, seq, port)
			for {
				c.WriteToUDP(raw, box)
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				n, _, err := c.ReadFromUDP(buf)
				if err != nil {
					b.Error(err)
					return
				}
				if bytes.HasPrefix(buf[:n], []byte("SIP/2.0 200")) {
					break
				}
				b.Errorf("got %q", buf[:min(n, 80)])
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "registers/s")
}

// BenchmarkSippCalls measures call set-up through the registrar and the
// UAS leg with sipp as the caller: each op is one uac_call.xml call (407,
// 183, 200, ACK, INFO, BYE) answered at once by the test switch; sipp
// offers up to 1000 calls per second. Reports calls/s over the run.
func BenchmarkSippCalls(b *testing.B) {
	if testing.Short() {
		b.Skip("starts sipp")
	}
	if _, err := exec.LookPath("sipp"); err != nil {
		b.Fatal("sipp not found: install the Debian package sip-tester")
	}
	rec := newRecorder(func(l *Leg) { l.Ringing(true); l.Answer() })
	rec.events = make(chan event, 1<<20)
	e, err := New(Config{UDP: "127.0.0.1:0", AuthenticateCalls: true, KeepaliveInterval: -1,
		DigestAlgorithms: []digest.Algorithm{digest.MD5}, Limits: benchLimits},
		Deps{Directory: directory{"201": "pw201"}, Handler: rec, RTP: newPorts()})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Start(contextBackground()); err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	port, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	p := port.LocalAddr().(*net.UDPAddr).Port
	port.Close()
	errFile := filepath.Join(b.TempDir(), "err.log")
	b.ResetTimer()
	cmd := exec.Command("sipp", "-sf", "testdata/uac_call.xml", "-i", "127.0.0.1", "-p", strconv.Itoa(p),
		"-m", strconv.Itoa(b.N), "-r", "1000", "-l", "1000", "-timeout", "120s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", errFile,
		"-s", "201", "-au", "201", "-ap", "pw201", e.UDPAddr().String())
	out, err := cmd.CombinedOutput()
	b.StopTimer()
	if err != nil {
		errs, _ := os.ReadFile(errFile)
		b.Fatalf("sipp: %v\n%s\n%s", err, out[max(0, len(out)-2000):], errs[:min(len(errs), 4000)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkScreenFlood measures the guard's work per datagram of a flood:
// "dropped" from a source over its rate (the flood's steady state, before
// any parsing), "answered" for an OPTIONS answered statelessly.
func BenchmarkScreenFlood(b *testing.B) {
	e, err := New(Config{UDP: "127.0.0.1:0", KeepaliveInterval: -1, Trunks: []TrunkConfig{{Name: "t", Proxy: "192.0.2.1:5060"}}},
		Deps{Directory: directory{}, Handler: newRecorder(nil), RTP: newPorts()})
	if err != nil {
		b.Fatal(err)
	}
	opts := []byte("OPTIONS sip:box SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-1\r\n" +
		"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
	b.Run("dropped", func(b *testing.B) {
		src := netip.MustParseAddrPort("192.0.2.7:5060")
		for range 1000 {
			e.screen(src, "UDP", opts)
		}
		b.ReportAllocs()
		passed := 0
		for b.Loop() {
			if v, _ := e.screen(src, "UDP", opts); v != dropped {
				passed++ // the source's 20/s
			}
		}
		if passed > b.N/100+50 {
			b.Fatalf("%d of %d not dropped", passed, b.N)
		}
	})
	b.Run("answered", func(b *testing.B) {
		e.cfg.Limits.Rate = 0
		e.g = newGuard(Limits{Rate: -1, Sources: 4096, LogEvery: time.Minute})
		src := netip.MustParseAddrPort("192.0.2.8:5060")
		b.ReportAllocs()
		for b.Loop() {
			if v, r := e.screen(src, "UDP", opts); v != answered || r == nil {
				b.Fatal("not answered")
			}
		}
	})
}

// BenchmarkAuthFailure compares the registrar's work refusing a wrong
// password for an existing extension with refusing an unknown user: both
// check a digest (the unknown user's against a decoy), so the answers
// come after the same work and a scanner's clock tells nothing.
func BenchmarkAuthFailure(b *testing.B) {
	for _, user := range []string{"201", "299"} {
		b.Run(map[string]string{"201": "wrong-password", "299": "unknown-user"}[user], func(b *testing.B) {
			e, err := New(Config{UDP: "127.0.0.1:0", KeepaliveInterval: -1,
				Limits: Limits{Rate: -1, AuthFailures: -1, ExtensionFailures: -1}},
				Deps{Directory: directory{"201": "pw"}, Handler: newRecorder(nil), RTP: newPorts()})
			if err != nil {
				b.Fatal(err)
			}
			nonce := e.verifier.Nonce(time.Now(), "127.0.0.1")
			tx := &benchTx{}
			raws := make([][]byte, 0, 1024)
			var nc uint32
			for done := 0; done < b.N; done += len(raws) {
				b.StopTimer()
				raws = raws[:0]
				for i := 0; i < cap(raws) && done+i < b.N; i++ {
					nc++
					raws = append(raws, rawRegister(e, user, "guess", "bench", nc, nonce, nc, 5070))
				}
				b.StartTimer()
				for _, raw := range raws {
					msg, err := sipmsg.ParseMessage(raw)
					if err != nil {
						b.Fatal(err)
					}
					req := msg.(*sipmsg.Request)
					req.SetSource("127.0.0.1:5070")
					req.SetTransport("UDP")
					e.onRegister(req, tx)
					if tx.last == nil || tx.last.StatusCode != 403 {
						b.Fatalf("answered %v", tx.last)
					}
				}
			}
		})
	}
}
