package dspcli

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"callbox/dsp/wav"
	"callbox/firmware/cli"
)

// echoPair writes a far-end noise recording and the near-end recording of
// its echo through a small hybrid model (a 2.5 ms delay, then a decaying
// ringing response, about 12 dB echo return loss).
func echoPair(t *testing.T, dir string, seconds float64) (farPath, nearPath string) {
	t.Helper()
	n := int(seconds * wav.SampleRate)
	r := rand.New(rand.NewPCG(1, 2))
	far := make([]int16, n)
	for i := range far {
		far[i] = int16(math.Round(r.NormFloat64() * 2500))
	}
	h := make([]float64, 60)
	for k := 20; k < len(h); k++ {
		d := float64(k - 20)
		h[k] = 0.25 * math.Exp(-d/8) * math.Cos(d*0.9)
	}
	nearS := make([]int16, n)
	for i := range nearS {
		var s float64
		for k, hk := range h {
			if i-k >= 0 {
				s += hk * float64(far[i-k])
			}
		}
		nearS[i] = int16(math.Round(s))
	}
	farPath = filepath.Join(dir, "far.wav")
	nearPath = filepath.Join(dir, "near.wav")
	for p, s := range map[string][]int16{farPath: far, nearPath: nearS} {
		b, err := wav.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return farPath, nearPath
}

func TestEchoCommand(t *testing.T) {
	dir := t.TempDir()
	farPath, nearPath := echoPair(t, dir, 2)
	outPath := filepath.Join(dir, "out.wav")
	var stdout, stderr strings.Builder
	code := subcommands["echo"]([]string{"--taps", "128", "--far", farPath, "--near", nearPath, outPath}, cli.IO{Out: &stdout, Err: &stderr})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	t.Log(stdout.String())
	// The printed figure after convergence must be a real cancellation.
	var conv float64
	for _, line := range strings.Split(stdout.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "ERLE after the first second "); ok {
			conv, _ = strconv.ParseFloat(strings.TrimSuffix(v, " dB"), 64)
		}
	}
	if conv < 40 {
		t.Errorf("printed ERLE after convergence %.1f dB, want >= 40\n%s", conv, stdout.String())
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	out, err := wav.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	nb, _ := os.ReadFile(nearPath)
	nearS, _ := wav.Decode(nb)
	if len(out) != len(nearS) {
		t.Fatalf("residual has %d samples, near %d", len(out), len(nearS))
	}
	// Recompute the ERLE from the files independently of the command.
	var pn, po float64
	for i := wav.SampleRate; i < len(out); i++ {
		pn += float64(nearS[i]) * float64(nearS[i])
		po += float64(out[i]) * float64(out[i])
	}
	if got := 10 * math.Log10(pn/max(po, 1)); math.Abs(got-conv) > 0.1 {
		t.Errorf("printed %.1f dB, the files give %.1f dB", conv, got)
	}
}

func TestEchoCommandErrors(t *testing.T) {
	dir := t.TempDir()
	farPath, nearPath := echoPair(t, dir, 0.2)
	bad := filepath.Join(dir, "bad.wav")
	os.WriteFile(bad, []byte("RIFF\x00\x00\x00\x00WAVEjunk"), 0o644)
	out := filepath.Join(dir, "out.wav")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{out}, 2, "usage"},
		{[]string{"--far", farPath, "--near", nearPath}, 2, "usage"},
		{[]string{"--taps", "64", "--far", farPath, "--near", nearPath, out}, 1, "taps out of range"},
		{[]string{"--far", filepath.Join(dir, "missing.wav"), "--near", nearPath, out}, 1, "missing.wav"},
		{[]string{"--far", bad, "--near", nearPath, out}, 1, "bad.wav"},
		{[]string{"--bogus"}, 2, "bogus"},
	} {
		var stdout, stderr strings.Builder
		code := subcommands["echo"](tc.args, cli.IO{Out: &stdout, Err: &stderr})
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}
