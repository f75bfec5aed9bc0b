package simcli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"callbox/board"
	"callbox/board/sim"
	"callbox/firmware/cli"
)

// run executes args on a fresh emulated board with no driver behind it: the
// phones and offices answer, nothing of the box does.
func run(t *testing.T, b *sim.Board, args ...string) (code int, out, errs string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Exec(context.Background(), b, map[string]string{"fxs1": "201"}, args, cli.IO{In: strings.NewReader(""), Out: &o, Err: &e})
	return code, o.String(), e.String()
}

func newBoard(t *testing.T) *sim.Board {
	t.Helper()
	b, err := sim.New(board.Sim(), sim.Options{Clock: sim.VirtualClock()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCommandErrors(t *testing.T) {
	b := newBoard(t)
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"fxs9", "lift"}, 2, `sim: no port "fxs9" (ports: fxs1, fxs2, fxs3, fxs4, fxo1, fxo2)`},
		{[]string{"fxs1"}, 2, "which command?"},
		{[]string{"fxs1", "ring"}, 2, `"ring" is not a phone command`},
		{[]string{"fxo1", "lift"}, 2, `"lift" is not a line command`},
		{[]string{"fxs1", "dial"}, 2, "usage: sim fxs1 dial DIGITS [--pulse]"},
		{[]string{"fxs1", "dial", "202"}, 1, "fxs1 (201): on hook: lift the handset first (sim fxs1 lift)"},
		{[]string{"fxs2", "flash", "--ms", "50"}, 2, "--ms 50 is outside 100-800"},
		{[]string{"fxs2", "flash"}, 1, "fxs2: on hook: a flash needs the handset lifted"},
		{[]string{"fxs1", "lift", "now"}, 2, "usage: sim fxs1 lift"},
		{[]string{"fxo1", "answer"}, 1, "the box has not seized the line"},
		{[]string{"fxo1", "hangup"}, 1, "fxo1: no call to hang up"},
		{[]string{"fxo1", "hangup", "--signal", "smoke"}, 2, `--signal "smoke" is not busy, reversal or loop`},
		{[]string{"fxo1", "dtmf", "12"}, 1, "no call on the line"},
		{[]string{"fxo1", "ring", "--from", "12x"}, 2, "caller ID"},
		{[]string{"fxo1", "ring", "--rings", "-1"}, 2, "--rings -1 is outside 0-50"},
		{[]string{"status", "now"}, 2, "takes no arguments"},
	}
	for _, tt := range tests {
		code, out, errs := run(t, b, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.err) || out != "" {
			t.Errorf("%q: exit %d, want %d\nstdout: %q\nstderr: %q, want %q", tt.args, code, tt.code, out, errs, tt.err)
		}
	}
}

func TestStatusAndTheExchange(t *testing.T) {
	b := newBoard(t)
	code, out, _ := run(t, b, "status")
	want := "fxs1 (201): on hook\nfxs2: on hook\nfxs3: on hook\nfxs4: on hook\nfxo1: idle\nfxo2: idle\n"
	if code != 0 || out != want {
		t.Fatalf("status: %d\n%s\nwant\n%s", code, out, want)
	}
	code, out, errs := run(t, b, "fxo1", "ring", "--name", "ZHANG SAN")
	if code != 0 || out != "fxo1: the exchange rings the box, caller ID 13800138000 \"ZHANG SAN\"\n" {
		t.Fatalf("ring: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, b, "fxo1", "ring"); code != 1 || !strings.Contains(errs, "fxo1: already ringing the box") {
		t.Fatalf("second ring: %d %q", code, errs)
	}
	_, out, _ = run(t, b, "fxo1", "status")
	if !strings.HasPrefix(out, "fxo1: ringing the box\n  the last minute:\n") || !strings.Contains(out, "s rings the box, caller ID 13800138000\n") {
		t.Fatalf("fxo1 status:\n%s", out)
	}
	code, out, _ = run(t, b, "fxo1", "hangup")
	if code != 0 || out != "fxo1: the caller gave up: ringing stopped\n" {
		t.Fatalf("hangup: %d %q", code, out)
	}
	if _, out, _ := run(t, b, "fxo1", "status"); !strings.HasPrefix(out, "fxo1: idle\n") || !strings.Contains(out, "s the caller gave up\n") {
		t.Fatalf("fxo1 status after hangup:\n%s", out)
	}
	if code, out, _ := run(t, b, "help"); code != 0 || !strings.Contains(out, "usage: sim") {
		t.Fatalf("help: %d %q", code, out)
	}
}

func TestLiveWithoutSimulatedBoard(t *testing.T) {
	var o, e bytes.Buffer
	code := Live(func() *sim.Board { return nil }, nil).Run(context.Background(), []string{"status"}, cli.IO{Out: &o, Err: &e})
	if code != 1 || !strings.Contains(e.String(), "sim commands need callboxd --board sim") {
		t.Fatalf("%d %q", code, e.String())
	}
}

func TestNoDaemon(t *testing.T) {
	var o, e bytes.Buffer
	dir := t.TempDir()
	code := Command.Run(context.Background(), []string{"fxs1", "lift", "--data", dir}, cli.IO{Out: &o, Err: &e})
	if code != 1 || !strings.Contains(e.String(), "is the simulated box running (make run") {
		t.Fatalf("%d %q", code, e.String())
	}
}
