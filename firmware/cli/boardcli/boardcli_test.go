package boardcli

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"callbox/board"
	"callbox/board/ports"
	"callbox/board/sim"
	"callbox/board/sim/proslicsim"
	"callbox/firmware/cli"
	"callbox/firmware/control"
)

// virtualOpen brings boards up on a virtual clock (ring tests cost no wall
// time), with fxs4's chip absent.
func virtualOpen(t *testing.T) func(ctx context.Context, b board.Board, log *slog.Logger) (*ports.Board, error) {
	return func(ctx context.Context, b board.Board, log *slog.Logger) (*ports.Board, error) {
		sb, err := sim.New(b, sim.Options{Clock: sim.VirtualClock(), Faults: map[string]sim.Fault{"fxs4": {FXS: proslicsim.Absent}}})
		if err != nil {
			return nil, err
		}
		return ports.OpenWith(ctx, b, ports.Options{Sim: sb, Log: log})
	}
}

func run(cmd cli.Command, args ...string) (code int, out, errs string) {
	var o, e bytes.Buffer
	code = cmd.Run(context.Background(), args, cli.IO{In: strings.NewReader(""), Out: &o, Err: &e})
	return code, o.String(), e.String()
}

// cases are run both in-process and through the daemon's socket.
var cases = []struct {
	args     []string
	code     int
	out, err []string
}{
	{[]string{"list"}, 0, []string{"board sim (4 FXS, 2 FXO, emulated chips)", "fxs1  fxs   si3215", "ok, on-hook, forward active", "fxo2", "ok, on-hook, battery", "failed: proslic: fxs4:"}, nil},
	{[]string{"probe"}, 1, []string{"fxs1  fxs   si3215  yes      si3215 rev C", "fxo1  fxo   si3050  yes      si3050 rev 5, si3019 rev 4", "fxs4  fxs   si3215  NO"}, nil},
	{[]string{"diag", "fxs1"}, 0, []string{"fxs1 (fxs, si3215): ok, on-hook, forward active", "battery: -", "loop current: 0.0 mA", "tip: "}, nil},
	{[]string{"diag", "fxo1"}, 0, []string{"fxo1 (fxo, si3050): ok", "line voltage: 4", "polarity: normal", "hook: on-hook"}, nil},
	{[]string{"diag"}, 1, []string{"fxs4 (fxs, si3215): failed", "fxo2 (fxo, si3050)"}, nil},
	{[]string{"diag", "fxs9"}, 2, nil, []string{`no port "fxs9" (ports: fxs1, fxs2, fxs3, fxs4, fxo1, fxo2)`}},
	{[]string{"ring", "fxs2", "--cycles", "1"}, 0, []string{"ringing fxs2 (CN ring preset) for 1 cycles", "fxs2: ring-", "fxs2: rang 1 cycles"}, nil},
	{[]string{"ring", "--cycles=1", "fxs3"}, 0, []string{"fxs3: rang 1 cycles"}, nil},
	{[]string{"ring", "fxo1"}, 2, nil, []string{"board ring: fxo1 is an FXO port (a PSTN line): it cannot be rung; board ring is for FXS ports: fxs1, fxs2, fxs3, fxs4"}},
	{[]string{"ring", "fxs1", "--cycles", "99"}, 2, nil, []string{"--cycles 99 is outside 1-20"}},
	{[]string{"ring"}, 2, nil, []string{"usage: board ring PORT"}},
	{[]string{"frob"}, 2, nil, []string{`unknown command "frob"`}},
	{[]string{"probe", "x"}, 2, nil, []string{"takes no arguments"}},
}

func check(t *testing.T, args []string, code int, out, errs string, wantCode int, wantOut, wantErr []string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, wantCode, out, errs)
	}
	for _, w := range wantOut {
		if !strings.Contains(out, w) {
			t.Errorf("%q: stdout lacks %q:\n%s", args, w, out)
		}
	}
	if wantOut == nil && out != "" {
		t.Errorf("%q: printed, where nothing should be:\n%s", args, out)
	}
	for _, w := range wantErr {
		if !strings.Contains(errs, w) {
			t.Errorf("%q: stderr lacks %q:\n%s", args, w, errs)
		}
	}
}

func TestInProcess(t *testing.T) {
	cmd := New(Options{Open: virtualOpen(t)})
	sock := filepath.Join(t.TempDir(), "none.sock")
	for _, tt := range cases {
		args := append([]string{"--socket", sock, "--board", "sim"}, tt.args...)
		code, out, errs := run(cmd, args...)
		check(t, tt.args, code, out, errs, tt.code, tt.out, append([]string{"no daemon on " + sock}, tt.err...))
	}
}

func TestNoDaemon(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(New(Options{Open: virtualOpen(t)}), "--data", dir, "probe")
	check(t, nil, code, out, errs, 1, nil, []string{"no daemon answers on " + control.Path(dir), "--board sim|FILE"})
	if out != "" {
		t.Errorf("stdout %q", out)
	}
	code, _, errs = run(Command, "--data", dir, "--board", filepath.Join(dir, "missing.json"), "probe")
	check(t, nil, code, "", errs, 1, nil, []string{"missing.json"})
	code, _, errs = run(Command)
	check(t, nil, code, "", errs, 2, nil, []string{"usage: board"})
}

func TestThroughDaemonSocket(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a unix socket")
	}
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	b, err := virtualOpen(t)(context.Background(), board.Sim(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dir := t.TempDir()
	srv, err := control.Listen(control.Path(dir), []cli.Command{Live(func() *ports.Board { return b })}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Error(err)
		}
		<-done
	}()
	// Opening a board in-process must not happen: the daemon answers.
	cmd := New(Options{Open: func(context.Context, board.Board, *slog.Logger) (*ports.Board, error) {
		t.Error("opened the board in-process though the daemon answers")
		return nil, context.Canceled
	}})
	for _, tt := range cases {
		args := append([]string{"--data", dir, "--board", "sim"}, tt.args...)
		code, out, errs := run(cmd, args...)
		check(t, tt.args, code, out, errs, tt.code, tt.out, tt.err)
		if strings.Contains(errs, "no daemon") {
			t.Errorf("%q: %s", tt.args, errs)
		}
	}
}

func TestLiveWithoutBoard(t *testing.T) {
	code, _, errs := run(Live(func() *ports.Board { return nil }), "probe")
	check(t, nil, code, "", errs, 1, nil, []string{"board is not running"})
}
