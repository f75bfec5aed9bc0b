package ports_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/board"
	"callbox/board/internal/vclock"
	"callbox/board/ports"
	"callbox/board/proslic"
	"callbox/board/si3050"
	"callbox/board/sim"
	"callbox/board/sim/proslicsim"
	"callbox/board/sim/si3050sim"
)

// logBuf collects a logger's text output safely across goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func openVirtual(t *testing.T, faults map[string]sim.Fault) (*ports.Board, *logBuf) {
	t.Helper()
	clk := vclock.NewVirtual()
	sb, err := sim.New(board.Sim(), sim.Options{Clock: clk, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuf
	b, err := ports.OpenWith(context.Background(), board.Sim(), ports.Options{Sim: sb, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b, &logs
}

func TestSimBoardComesUp(t *testing.T) {
	b, logs := openVirtual(t, nil)
	if !b.Manual() || len(b.Ports()) != 6 {
		t.Fatalf("manual %v, %d ports", b.Manual(), len(b.Ports()))
	}
	for _, p := range b.Ports() {
		st := p.State()
		if !st.OK || st.Hook != "on-hook" {
			t.Errorf("%s: %v", p.Name(), st)
		}
		if p.PCM() == nil {
			t.Errorf("%s: not on the highway", p.Name())
		}
		if p.Chip() != map[board.Kind]string{board.FXS: "si3215", board.FXO: "si3050"}[p.Kind()] {
			t.Errorf("%s: chip %s", p.Name(), p.Chip())
		}
		pi := p.Probe()
		if !pi.Answers {
			t.Errorf("%s: probe: %v", p.Name(), pi.Err)
		}
		want := map[board.Kind]string{board.FXS: "Si3215 rev C", board.FXO: "si3050 rev 5, si3019 rev 4"}[p.Kind()]
		if !strings.EqualFold(pi.Chip, want) {
			t.Errorf("%s: probe says %q, want %q", p.Name(), pi.Chip, want)
		}
		if !strings.Contains(logs.String(), `msg="port up" port=`+p.Name()) {
			t.Errorf("%s: no bring-up line in the log:\n%s", p.Name(), logs)
		}
		d, err := p.Diag()
		if err != nil {
			t.Fatalf("%s: diag: %v", p.Name(), err)
		}
		switch p.Kind() {
		case board.FXS:
			if d.FXS.Linefeed != proslic.ForwardActive || d.FXS.Battery > -40 || d.FXS.LoopCurrent != 0 {
				t.Errorf("%s: diag %v", p.Name(), d.FXS)
			}
		case board.FXO:
			if d.FXO.Volts < 40 || d.FXO.Polarity != 1 || !d.FXO.Battery || d.FXO.OffHook {
				t.Errorf("%s: diag %+v", p.Name(), d.FXO)
			}
		}
		if len(d.Lines()) < 6 {
			t.Errorf("%s: diag lines %q", p.Name(), d.Lines())
		}
	}
	if !strings.Contains(logs.String(), "working=6 failed=0") {
		t.Errorf("log lacks the summary:\n%s", logs)
	}
	// The highway moves frames for every port.
	for range 3 {
		if err := b.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if st := b.HighwayStats()["sim"]; st.Stats.Ticks != 3 || st.Stats.Underruns != 0 || st.Err != nil {
		t.Fatalf("highway %+v", st)
	}
}

func TestFaultyPortsFailAlone(t *testing.T) {
	faults := map[string]sim.Fault{
		"fxs2": {FXS: proslicsim.VBATNeverRises},
		"fxs3": {FXS: proslicsim.CalHang},
		"fxs4": {FXS: proslicsim.Absent},
		"fxo2": {FXO: si3050sim.Faults{NoLink: true}},
	}
	b, logs := openVirtual(t, faults)
	want := map[string]string{
		"fxs1": "",
		"fxs2": "proslic: fxs2: bring-up: vbat did not rise above 40 V",
		"fxs3": "proslic: fxs3: bring-up: calibration did not complete",
		"fxs4": "proslic: fxs4:",
		"fxo1": "",
		"fxo2": "si3050: fxo2: isolation link",
	}
	for name, msg := range want {
		p := b.Port(name)
		err := p.Err()
		switch {
		case msg == "" && err != nil:
			t.Errorf("%s failed: %v", name, err)
		case msg != "" && (err == nil || !strings.Contains(err.Error(), msg)):
			t.Errorf("%s: error %v, want %q", name, err, msg)
		case msg != "":
			if st := p.State(); st.OK || !strings.HasPrefix(st.String(), "failed: "+msg) {
				t.Errorf("%s: state %q", name, st)
			}
			if !strings.Contains(logs.String(), `msg="port failed" port=`+name) {
				t.Errorf("%s: no failure line in the log", name)
			}
			if p.PCM() != nil {
				t.Errorf("%s: a failed port is on the highway", name)
			}
		}
	}
	if err := b.Port("fxs4").Err(); !errors.Is(err, proslic.ErrAbsent) {
		t.Errorf("fxs4: %v does not wrap ErrAbsent", err)
	}
	if pi := b.Port("fxs4").Probe(); pi.Answers || !errors.Is(pi.Err, proslic.ErrAbsent) {
		t.Errorf("fxs4 probe %+v", pi)
	}
	if pi := b.Port("fxs2").Probe(); !pi.Answers {
		t.Errorf("fxs2's chip answers though its battery is dead: %+v", pi)
	}
	if _, err := b.Port("fxo2").Diag(); err == nil {
		t.Error("diag of a failed FXO port gave readings")
	}
	if err := b.Port("fxs2").Ring(context.Background(), 1, nil); err == nil {
		t.Error("a failed port rang")
	}

	// The working ports work: fxs1 rings its phone, fxo1 hears the office.
	phone := b.Sim().Phone("fxs1")
	var got []string
	if err := b.Port("fxs1").Ring(context.Background(), 2, func(e ports.Event) { got = append(got, e.FXS.Kind.String()) }); err != nil {
		t.Fatal(err)
	}
	rings := phone.Rings()
	if len(rings) != 2 || rings[0].Duration() < 900*time.Millisecond || rings[0].Duration() > 1100*time.Millisecond {
		t.Fatalf("phone rang %v (events %q)", rings, got)
	}
	if gap := rings[1].Start.Sub(rings[0].End); gap < 3900*time.Millisecond || gap > 4100*time.Millisecond {
		t.Errorf("CN ring pause %v, want 4 s", gap)
	}
	if len(got) == 0 || got[len(got)-1] != proslic.RingDone.String() {
		t.Errorf("ring events %q", got)
	}

	events, cancel := b.Subscribe(32)
	defer cancel()
	if err := b.Sim().CO("fxo1").Ring(si3050sim.Call{Rings: 1}); err != nil {
		t.Fatal(err)
	}
	clk := b.Clock()
	for i := 0; i < 200; i++ {
		clk.Sleep(10 * time.Millisecond)
		if err := b.Step(); err != nil {
			t.Fatal(err)
		}
	}
	var fxo []si3050.EventKind
	for len(events) > 0 {
		e := <-events
		if e.Port != "fxo1" {
			t.Errorf("event from %s: %v", e.Port, e)
		}
		fxo = append(fxo, e.FXO.Kind)
	}
	if len(fxo) < 2 || fxo[0] != si3050.RingStart || fxo[1] != si3050.RingEnd {
		t.Errorf("fxo1 events %v", fxo)
	}
	if evs := b.Port("fxo1").RecentEvents(); len(evs) < 2 {
		t.Errorf("recent events %v", evs)
	}
}

func TestRingAnswered(t *testing.T) {
	b, _ := openVirtual(t, nil)
	phone := b.Sim().Phone("fxs2")
	err := b.Port("fxs2").Ring(context.Background(), 5, func(e ports.Event) {
		if e.FXS.Kind == proslic.RingPause {
			phone.OffHook() // answer in the first pause
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(phone.Rings()); n != 1 {
		t.Fatalf("rang %d times after the answer", n)
	}
	if st := b.Port("fxs2").State(); st.Hook != "off-hook" || st.Ringing {
		t.Fatalf("state %v", st)
	}
	phone.OnHook()
	if err := b.Port("fxo1").Ring(context.Background(), 1, nil); !errors.Is(err, ports.ErrNotFXS) {
		t.Fatalf("ringing an FXO port: %v", err)
	}
	if err := b.Port("fxs1").Ring(context.Background(), 0, nil); err == nil {
		t.Fatal("0 cycles accepted")
	}
}

func TestRealClock(t *testing.T) {
	var logs logBuf
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := ports.Open(ctx, board.Sim(), nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if b.Manual() {
		t.Fatal("real clock in manual mode")
	}
	if err := b.Step(); err == nil {
		t.Fatal("Step ran beside the goroutines")
	}
	for _, p := range b.Ports() {
		if !p.State().OK {
			t.Errorf("%s: %v", p.Name(), p.State())
		}
	}
	// The service goroutines see the phone go off hook, the highway ticks.
	events, unsub := b.Subscribe(8)
	defer unsub()
	b.Sim().Phone("fxs3").OffHook()
	select {
	case e := <-events:
		if e.Port != "fxs3" || e.FXS.Kind != proslic.OffHook {
			t.Fatalf("event %v", e)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no off-hook event from the service goroutine")
	}
	deadline := time.Now().Add(2 * time.Second)
	for b.HighwayStats()["sim"].Stats.Ticks < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := b.HighwayStats()["sim"].Stats.Ticks; n < 5 {
		t.Fatalf("highway ticked %d times", n)
	}
	done := make(chan error)
	go func() { done <- b.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not return")
	}
	ticks := b.HighwayStats()["sim"].Stats.Ticks
	time.Sleep(30 * time.Millisecond)
	if b.HighwayStats()["sim"].Stats.Ticks != ticks {
		t.Fatal("highway still ticks after Close")
	}
}

func TestRuntimeFaults(t *testing.T) {
	b, logs := openVirtual(t, nil)
	events, cancel := b.Subscribe(64)
	defer cancel()
	if err := b.Sim().SetFault("fxs1", sim.Fault{FXS: proslicsim.VBATLost}); err != nil {
		t.Fatal(err)
	}
	b.Sim().CO("fxo2").Unplug(true)
	step := func(n int) {
		for range n {
			b.Clock().Sleep(10 * time.Millisecond)
			if err := b.Step(); err != nil {
				t.Fatal(err)
			}
		}
	}
	step(150) // 1.5 s: the battery checks and debouncers have run
	seen := map[string]bool{}
	for len(events) > 0 {
		e := <-events
		seen[e.String()] = true
	}
	if !seen["fxs1: vbat-loss"] {
		t.Errorf("no VBAT loss on fxs1; events %v", seen)
	}
	if st := b.Port("fxo2").State(); st.Line != "no battery" {
		t.Errorf("fxo2 state %v after the line was unplugged; events %v", st, seen)
	}
	if !strings.Contains(logs.String(), `msg="port fault" port=fxo2`) || !strings.Contains(logs.String(), `msg="port fault" port=fxs1`) {
		t.Errorf("faults not logged:\n%s", logs)
	}
	// Both recover when the fault goes.
	if err := b.Sim().SetFault("fxs1", sim.Fault{}); err != nil {
		t.Fatal(err)
	}
	b.Sim().CO("fxo2").Unplug(false)
	step(150)
	seen = map[string]bool{}
	for len(events) > 0 {
		seen[(<-events).String()] = true
	}
	if !seen["fxs1: vbat-restored"] || b.Port("fxo2").State().Line != "battery" {
		t.Errorf("no recovery: events %v, fxo2 %v", seen, b.Port("fxo2").State())
	}
	for _, p := range b.Ports() {
		if p.Err() != nil {
			t.Errorf("%s failed: %v", p.Name(), p.Err())
		}
	}
}

// TestHardwareWithoutChips opens the reference board where there is no
// such hardware: every port fails on its SPI port with an error naming the
// port and the field, the highway's failure is logged, and nothing else
// breaks.
func TestHardwareWithoutChips(t *testing.T) {
	for _, dev := range []string{"/dev/spidev0.0", "/dev/snd/pcmC0D0c"} {
		if _, err := os.Stat(dev); err == nil {
			t.Skipf("%s exists: this machine may be the board", dev)
		}
	}
	b, err := board.Load("../boards/rpi4-2fxs-2fxo.json")
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuf
	pb, err := ports.Open(context.Background(), b, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	for _, p := range pb.Ports() {
		err := p.Err()
		if err == nil || !strings.Contains(err.Error(), "ports: "+p.Name()+`: spi_bus "SPI0.`) {
			t.Errorf("%s: %v", p.Name(), err)
		}
		if pi := p.Probe(); pi.Answers {
			t.Errorf("%s answers", p.Name())
		}
		if _, err := p.Diag(); err == nil {
			t.Errorf("%s: diag without a chip", p.Name())
		}
	}
	if st := pb.HighwayStats()["hw:0,0"]; st.Err == nil {
		t.Errorf("highway %+v", st)
	}
	if !strings.Contains(logs.String(), "pcm highway failed") || !strings.Contains(logs.String(), "working=0 failed=4") {
		t.Errorf("log:\n%s", logs.String())
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCloseHaltsTheChips: closing the board leaves no PSTN line seized and
// no phone ringing, even a port that failed keeps the others halting.
func TestCloseHaltsTheChips(t *testing.T) {
	b, _ := openVirtual(t, map[string]sim.Fault{"fxs4": {FXS: proslicsim.Absent}})
	sb := b.Sim()
	if err := b.Port("fxo1").FXO().Seize(); err != nil {
		t.Fatal(err)
	}
	if err := b.Port("fxs2").FXS().Ring(0); err != nil {
		t.Fatal(err)
	}
	if !sb.CO("fxo1").BoxOffHook() || !sb.Phone("fxs2").Ringing() {
		t.Fatal("line not seized or phone not ringing")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if sb.CO("fxo1").BoxOffHook() {
		t.Error("fxo1 still seized after Close")
	}
	if p := sb.Phone("fxs2"); p.Ringing() || p.Alerting() {
		t.Error("fxs2 still ringing after Close")
	}
	if err := b.Port("fxs2").FXS().Ring(1); err == nil {
		t.Error("a closed board's port rings")
	}
}
