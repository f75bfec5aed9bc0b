package dspcli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"callbox/dsp/wav"
	"callbox/firmware/cli"
)

// runCmd runs `callboxctl dsp ARGS...` and returns its exit status and
// output.
func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb strings.Builder
	code = Command.Run(context.Background(), args, cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// soxFile runs sox to write a file into dir and returns its path; "OUT"
// in args stands for that path. Like dsp's tests, it skips under -short
// and fails, naming the Debian package, when sox is missing.
func soxFile(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("sox is not run in -short mode")
	}
	if _, err := exec.LookPath("sox"); err != nil {
		t.Fatalf("sox not found (apt-get install sox): %v", err)
	}
	path := filepath.Join(dir, name)
	for i, a := range args {
		if a == "OUT" {
			args[i] = path
		}
	}
	var stderr bytes.Buffer
	cmd := exec.Command("sox", args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sox %v: %v\n%s", args, err, stderr.String())
	}
	return path
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}} {
		code, out, _ := runCmd(args...)
		if code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		// Everything registered is listed.
		for _, want := range append(append(sortedKeys(analyzers), sortedKeys(generators)...), sortedKeys(subcommands)...) {
			if !strings.Contains(out, want) {
				t.Errorf("%v: usage does not list %q:\n%s", args, want, out)
			}
		}
		for _, want := range []string{"analyze", "gen KIND", "OUT.wav", "--cid auto|bell202|v23|dtmf"} {
			if !strings.Contains(out, want) {
				t.Errorf("usage lacks %q", want)
			}
		}
	}
	if code, _, errOut := runCmd(); code != 2 || !strings.Contains(errOut, "usage:") {
		t.Errorf("no arguments: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runCmd("frobnicate"); code != 2 || !strings.Contains(errOut, `unknown subcommand "frobnicate"`) {
		t.Errorf("unknown subcommand: exit %d, %q", code, errOut)
	}
}

// TestAnalyzeSox: digits made by sox (PCM and A-law files, with silence
// between), found with their times.
func TestAnalyzeSox(t *testing.T) {
	dir := t.TempDir()
	// 0.2 s silence, "5" for 80 ms, 120 ms pause, "#" for 60 ms, pause.
	digit := func(lo, hi int, dur string) []string {
		return []string{"synth", dur, "sine", fmt.Sprint(lo), "synth", dur, "sine", "mix", fmt.Sprint(hi), "vol", "0.5"}
	}
	parts := []string{}
	for i, p := range [][]string{digit(770, 1336, "0.08"), digit(941, 1477, "0.06")} {
		name := fmt.Sprintf("part%d.wav", i)
		parts = append(parts, soxFile(t, dir, name, append([]string{"-n", "-r", "8000", "-c", "1", "-b", "16", "OUT"}, p...)...))
	}
	for _, enc := range [][]string{{"-e", "signed-integer", "-b", "16"}, {"-e", "a-law"}, {"-e", "u-law"}} {
		args := append([]string{parts[0], parts[1], "-r", "8000", "-c", "1"}, enc...)
		path := soxFile(t, dir, enc[1]+".wav", append(args, "OUT", "pad", "0.2", "0.1")...)
		// sox's concatenation: 200 ms pad, 80 ms "5", then "#" straight after.
		code, out, errOut := runCmd("analyze", path)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", enc[1], code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Fatalf("%s: output %q", enc[1], out)
		}
		checkLine(t, lines[0], "dtmf", "5", 200, 80)
		checkLine(t, lines[1], "dtmf", "#", 280, 60)
	}
}

// checkLine checks "<start_ms> kind digit <duration_ms>" within 7 ms (the
// detector places each edge within ±3.5 ms).
func checkLine(t *testing.T, line, kind, digit string, start, dur int) {
	t.Helper()
	var gotStart, gotDur int
	var gotKind, gotDigit string
	if _, err := fmt.Sscanf(line, "%d %s %s %d", &gotStart, &gotKind, &gotDigit, &gotDur); err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	if gotKind != kind || gotDigit != digit || abs(gotStart-start) > 7 || abs(gotDur-dur) > 7 {
		t.Errorf("line %q, want about %d %s %s %d", line, start, kind, digit, dur)
	}
}

func abs(x int) int { return max(x, -x) }

func TestGenAnalyzeRoundTrip(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "digits.wav")
	code, _, errOut := runCmd("gen", "dtmf", "--digits", "0123456789*#ABCD", "--level", "-20", "--twist", "2", "--on", "50", "--off", "50", out)
	if code != 0 {
		t.Fatalf("gen: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if info, _, err := wav.Parse(b); err != nil || info != (wav.Info{Format: wav.PCM, Channels: 1, SampleRate: 8000, BitsPerSample: 16}) {
		t.Fatalf("written file: %v, %v", info, err)
	}
	code, stdout, errOut := runCmd("analyze", "--country", "CN", "--cid", "bell202", out)
	if code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	var digits []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if !strings.Contains(line, " dtmf ") {
			continue
		}
		d := strings.Fields(line)[2]
		checkLine(t, line, "dtmf", d, 100*len(digits), 50)
		digits = append(digits, d)
	}
	if got := strings.Join(digits, ""); got != "0123456789*#ABCD" {
		t.Errorf("digits %q from:\n%s", got, stdout)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	dir := t.TempDir()
	stereo := soxFile(t, dir, "stereo.wav", "-n", "-r", "44100", "-c", "2", "-b", "16", "OUT", "synth", "0.1", "sine", "440")
	float := soxFile(t, dir, "float.wav", "-n", "-r", "8000", "-c", "1", "-e", "floating-point", "-b", "32", "OUT", "synth", "0.1", "sine", "440")
	junk := filepath.Join(dir, "junk.wav")
	if err := os.WriteFile(junk, []byte("not a wav file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"analyze", stereo}, 1, []string{"44100 Hz", "2 channel", "PCM", "16 bits", "want 8000 Hz mono"}},
		{[]string{"analyze", float}, 1, []string{"IEEE float", "32 bits"}},
		{[]string{"analyze", junk}, 1, []string{"not a RIFF WAVE"}},
		{[]string{"analyze", filepath.Join(dir, "missing.wav")}, 1, []string{"no such file"}},
		{[]string{"analyze"}, 2, []string{"exactly one FILE.wav"}},
		{[]string{"analyze", "--cid", "morse", junk}, 2, []string{`--cid "morse"`}},
		{[]string{"gen"}, 2, []string{"missing KIND", "dtmf"}},
		{[]string{"gen", "sawtooth", "x.wav"}, 2, append([]string{`unknown KIND "sawtooth"`}, sortedKeys(generators)...)},
		{[]string{"gen", "dtmf", "--digits", "12"}, 2, []string{"OUT.wav"}},
		{[]string{"gen", "dtmf", filepath.Join(dir, "x.wav")}, 1, []string{"--digits is required"}},
		{[]string{"gen", "dtmf", "--digits", "1x", filepath.Join(dir, "x.wav")}, 1, []string{`'x'`, "not a DTMF digit"}},
		{[]string{"gen", "dtmf", "--digits", "1", "--on", "0", filepath.Join(dir, "x.wav")}, 1, []string{"--on 0"}},
		{[]string{"gen", "dtmf", "--digits", "1", "--level", "5", filepath.Join(dir, "x.wav")}, 1, []string{"level 5"}},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(tt.args...)
		if code != tt.code || out != "" {
			t.Errorf("%v: exit %d (want %d), stdout %q", tt.args, code, tt.code, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr %q lacks %q", tt.args, errOut, w)
			}
		}
	}
	if code, _, _ := runCmd("gen", "dtmf", "-h"); code != 0 {
		t.Errorf("gen dtmf -h: exit %d", code)
	}
}
