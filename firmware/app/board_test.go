package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"callbox/board"
	"callbox/board/sim"
	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/dsp/callerid/fsk"
	"callbox/dsp/tone"
	"callbox/firmware/cli"
	"callbox/firmware/control"
	"callbox/firmware/logbuf"
	"callbox/telephony/line"
	"callbox/telephony/pbxconf"
)

func TestBoardRunsAndAnswersOnTheSocket(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	logs := &syncBuffer{}
	dir := t.TempDir()
	a, err := New(Config{DataDir: dir, Board: "sim", HTTPAddr: "127.0.0.1:0", Console: "none"},
		slog.New(slog.NewTextHandler(logs, nil)), logbuf.New(10))
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, a)
	for _, port := range []string{"fxs1", "fxs2", "fxs3", "fxs4", "fxo1", "fxo2"} {
		if !strings.Contains(logs.String(), `msg="port up" component=board port=`+port) {
			t.Errorf("no bring-up line for %s in the log:\n%s", port, logs)
		}
	}
	for _, p := range a.portStates() {
		if !strings.HasPrefix(p.State, "ok, on-hook") {
			t.Errorf("%s: state %q", p.Name, p.State)
		}
	}
	info := systemInfo{a}.Info(context.Background())
	for _, p := range info.Board.Ports {
		if !strings.HasPrefix(p.State, "ok") {
			t.Errorf("/system: %s is %q", p.Name, p.State)
		}
	}
	lines := consoleHost{a}.Status()
	if !strings.Contains(strings.Join(lines, "\n"), "fxo2   fxo si3050  ok, on-hook, battery") {
		t.Errorf("console status:\n%s", strings.Join(lines, "\n"))
	}

	sock := control.Path(dir)
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket: %v %v", fi, err)
	}
	var out, errb bytes.Buffer
	code, err := control.Run(context.Background(), sock, []string{"board", "probe"}, cli.IO{Out: &out, Err: &errb})
	if err != nil || code != 0 || strings.Count(out.String(), " yes ") != 6 {
		t.Fatalf("board probe through the socket: %d %v\n%s%s", code, err, out.String(), errb.String())
	}
	out.Reset()
	code, err = control.Run(context.Background(), sock, []string{"board", "diag", "fxs1"}, cli.IO{Out: &out, Err: &errb})
	if err != nil || code != 0 || !strings.Contains(out.String(), "battery: -") {
		t.Fatalf("board diag through the socket: %d %v\n%s%s", code, err, out.String(), errb.String())
	}
	// The sim commands, through the socket and for the web admin's page.
	out.Reset()
	code, err = control.Run(context.Background(), sock, []string{"sim", "status"}, cli.IO{Out: &out, Err: &errb})
	if err != nil || code != 0 || !strings.HasPrefix(out.String(), "fxs1 (201): on hook\n") {
		t.Fatalf("sim status through the socket: %d %v\n%s%s", code, err, out.String(), errb.String())
	}
	page := a.webSim()
	if page == nil || len(page.Ports()) != 6 {
		t.Fatalf("web sim page: %v", page)
	}
	if o, e, code := page.Run(context.Background(), []string{"fxo2", "status"}); code != 0 || !strings.HasPrefix(o, "fxo2: idle") {
		t.Fatalf("web sim page: fxo2 status: %d %q %q", code, o, e)
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("control socket left after stop: %v", err)
	}
	if _, err := control.Run(context.Background(), sock, []string{"board", "probe"}, cli.IO{Out: &out, Err: &errb}); !errors.Is(err, control.ErrNoDaemon) {
		t.Fatalf("after stop: %v", err)
	}
}

func TestBadBoardFileStopsBoot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "board.json")
	if err := os.WriteFile(path, []byte(`{"name":"x","ports":[{"name":"fxs1","kind":"fxs","chip":"si3215","pcm_device":"hw:0"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	a, _ := newApp(t, Config{Board: path})
	err := a.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "app: start board:") || !strings.Contains(err.Error(), `port 1 ("fxs1"): spi_bus: missing`) {
		t.Fatalf("boot with a bad board file: %v", err)
	}
}

// TestBoardDescriptionReachesTheLines: a port's country and caller_id in
// the board description are what its channel uses. fxs2 presents caller ID
// as DTMF (its virtual phone has a DTMF caller ID display); fxo1 is a
// European line whose exchange sends V.23 caller ID before the first ring,
// which the channel must listen for to pass the number on to 203.
func TestBoardDescriptionReachesTheLines(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon in real time with sockets")
	}
	t.Parallel()
	b := board.Sim()
	b.Name = "sim-mixed"
	b.Ports[1].CallerID = "dtmf"
	b.Ports[4].Country = "etsi" // an old spelling, accepted as EU
	doc, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	boardFile := filepath.Join(t.TempDir(), "board.json")
	if err := os.WriteFile(boardFile, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	conf := pbxconf.Default(4)
	conf.Trunks = []pbxconf.Trunk{{Name: "pstn1", Kind: pbxconf.KindFXO, Port: 1, Rings: 1, Default: "203"}}
	logs := &syncBuffer{}
	a, err := New(Config{DataDir: t.TempDir(), Board: boardFile, HTTPAddr: "127.0.0.1:0", Console: "none",
		NoWatchdog: true, Import: writePBX(t, conf)},
		slog.New(slog.NewTextHandler(logs, nil)), logbuf.New(10))
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, a)
	defer func() {
		if _, err := stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs)
		}
	}()
	sb := a.livePorts().Sim()

	p201, p202 := sb.Phone("fxs1"), sb.Phone("fxs2")
	p201.OffHook()
	eventually(t, 3*time.Second, "dial tone at 201", func() bool { return p201.Status(time.Time{}).Hears == tone.Dial })
	if err := p201.Dial("202"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "202 ringing with DTMF caller ID 201", func() bool {
		s := p202.Status(time.Time{})
		return s.Alerting && s.CallerID != nil && s.CallerID.Number == "201"
	})
	p201.OnHook()

	msg := callerid.Message{Format: callerid.MDMF, Time: "11211230", Number: "13800138000"}
	if err := sb.CO("fxo1").Ring(si3050sim.Call{CallerID: &msg}); err != nil {
		t.Fatal(err)
	}
	p203 := sb.Phone("fxs3")
	eventually(t, 15*time.Second, "203 ringing with the European caller's number", func() bool {
		s := p203.Status(time.Time{})
		return s.Alerting && s.CallerID != nil && s.CallerID.Number == "13800138000"
	})
}

// TestStopHaltsTheLines: stopping the box, or restarting it from the
// console, leaves no PSTN line seized and no phone ringing.
func TestStopHaltsTheLines(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	a, _ := newApp(t, Config{Board: "sim", NoWatchdog: true})
	stop := start(t, a)
	seizeAndRing := func() *sim.Board {
		t.Helper()
		pb := a.livePorts()
		if err := pb.Port("fxo2").FXO().Seize(); err != nil {
			t.Fatal(err)
		}
		if err := pb.Port("fxs4").FXS().Ring(0); err != nil {
			t.Fatal(err)
		}
		sb := pb.Sim()
		if !sb.CO("fxo2").BoxOffHook() || !sb.Phone("fxs4").Alerting() {
			t.Fatal("fxo2 not seized or fxs4 not ringing")
		}
		return sb
	}
	check := func(sb *sim.Board, when string) {
		t.Helper()
		if sb.CO("fxo2").BoxOffHook() {
			t.Errorf("after %s fxo2 is still seized", when)
		}
		if p := sb.Phone("fxs4"); p.Ringing() || p.Alerting() {
			t.Errorf("after %s fxs4 still rings", when)
		}
	}

	sb := seizeAndRing()
	old := a.livePorts()
	if err := (consoleHost{a}).Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the restarted board", func() bool {
		pb := a.livePorts()
		return pb != nil && pb != old && a.WebAddr() != ""
	})
	check(sb, "a console restart")

	sb = seizeAndRing()
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	check(sb, "stop")
}

// TestLineConfigsFromTheBoard: a channel's country and caller ID come from
// its port's resolved description; an FXO trunk's own caller ID scheme
// wins over the port's.
func TestLineConfigsFromTheBoard(t *testing.T) {
	b := board.Sim()
	b.Ports[0].CallerID = "dtmf"
	b.Ports[1].Country = "UK"
	b.Ports[4].CallerID = "etsi-dtas"
	b.Ports[5].Country = "US"
	r := b.Resolve()
	if c := fxsLineConfig(r.Ports[0]); c.Name != "fxs1" || c.Country != "CN" || c.CallerID != &callerid.DTMFBeforeRing {
		t.Errorf("fxs1: %+v", c)
	}
	if c := fxsLineConfig(r.Ports[1]); c.Country != "UK" || c.CallerID != &callerid.ETSIDTAS {
		t.Errorf("fxs2: %+v", c)
	}
	if c := fxoLineConfig(r.Ports[4], line.FXOConfig{}); c.Name != "fxo1" || c.CallerIDModem != fsk.V23 {
		t.Errorf("fxo1 without a trunk: %+v", c)
	}
	trunk := line.FXOConfig{Name: "fxo1", Country: "CN", AnswerAfterRings: 3, CallerIDModem: fsk.Bell202}
	if c := fxoLineConfig(r.Ports[4], trunk); c.CallerIDModem != fsk.Bell202 || c.AnswerAfterRings != 3 {
		t.Errorf("fxo1 with a bellcore trunk: %+v", c)
	}
	if c := fxoLineConfig(r.Ports[5], line.FXOConfig{Country: "CN"}); c.Country != "US" || c.CallerIDModem != fsk.Bell202 {
		t.Errorf("fxo2: %+v", c)
	}
}
