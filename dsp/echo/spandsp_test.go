package echo

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"callbox/dsp/internal/dsptest"
)

// The independent reference: testdata/spandsp_echo.c runs Debian
// libspandsp's echo canceller (the one Asterisk and FreeSWITCH use) over
// the same signals, so the figures below compare like with like on this
// machine.

func buildSpandspEcho(t *testing.T) string {
	return dsptest.BuildSpandsp(t, "testdata/spandsp_echo.c")
}

// spandspCancel returns spandsp's output and its CPU time per sample.
func spandspCancel(t *testing.T, bin string, taps int, near, far []int16) ([]int16, string) {
	t.Helper()
	pairs := make([]int16, 2*len(near))
	for i := range near {
		pairs[2*i], pairs[2*i+1] = far[i], near[i]
	}
	cmd := exec.Command(bin, strconvItoa(taps))
	cmd.Stdin = bytes.NewReader(dsptest.Bytes(pairs))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("spandsp_echo: %v\n%s", err, stderr.String())
	}
	// The library's trace lines come first; the timing is the last line.
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	return dsptest.Int16s(out), lines[len(lines)-1]
}

func strconvItoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// TestAgainstSpandsp runs both cancellers (linear, no NLP) on white noise
// through a G.168 model at 10 dB ERL, at far-end levels from about -30 to
// -13 dBm0 (at 1024 taps the two louder), and compares the ERLE over the
// last second. Ours must never be
// below spandsp's, must reach 45 dB, and must stay stable at 1024 taps
// (spandsp diverges there on loud signals). Both cancellers' thread CPU
// time per sample is logged (only indicative: -race and load change it).
func TestAgainstSpandsp(t *testing.T) {
	bin := buildSpandspEcho(t)
	for _, tc := range []struct {
		name    string
		taps    int
		model   int
		delay   int
		seconds int
		levels  []float64
	}{
		{"256 taps D.2", 256, 0, 20, 2, []float64{1000, 2000, 5000}},
		{"1024 taps D.5 behind 100 ms", 1024, 3, 800, 5, []float64{2000, 5000}},
	} {
		for _, rms := range tc.levels {
			n := tc.seconds * rate
			far := noise(21, n, rms)
			echo := convolve(far, echoPath(g168Models[tc.model], tc.delay, 10))
			theirs, theirCPU := spandspCancel(t, bin, tc.taps, echo, far)
			c := newCanceller(t, tc.taps, WithNLP(false))
			unlock := dsptest.LockThread()
			cpu0 := dsptest.ThreadCPU()
			ours := run(c, echo, far)
			cpu := dsptest.ThreadCPU() - cpu0
			unlock()
			from := n - rate
			o, s := erle(echo, ours, from, n), erle(echo, theirs, from, n)
			t.Logf("%s, far RMS %.0f: ERLE callbox %.1f dB (%.0f cpu-ns/sample), spandsp %.1f dB (%s)",
				tc.name, rms, o, float64(cpu.Nanoseconds())/float64(n), s, theirCPU)
			if o < s || o < 45 {
				t.Errorf("%s, far RMS %.0f: callbox ERLE %.1f dB, spandsp %.1f dB; want >= both 45 dB and spandsp", tc.name, rms, o, s)
			}
		}
	}
}
