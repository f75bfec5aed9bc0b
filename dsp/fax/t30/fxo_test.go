package t30

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"callbox/board/si3050"
	"callbox/board/sim/si3050sim"
	"callbox/dsp/fax/internal/faxtest"
)

// testClock is a virtual clock for the emulated DAA and its driver: Sleep
// moves it on.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Sleep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fxoLine is the board emulator's FXO port: the real Si3050 driver on the
// register-level chip emulator, its line seized, the central office's far
// end in our hands.
type fxoLine struct {
	clk  *testClock
	chip *si3050sim.Chip
	port *si3050.Port
}

func newFXOLine(t *testing.T) *fxoLine {
	t.Helper()
	clk := &testClock{now: time.Unix(1e9, 0)}
	chip, err := si3050sim.New(si3050sim.Config{Name: "fxo1", Clock: clk, Country: "CN"})
	if err != nil {
		t.Fatal(err)
	}
	cty, err := si3050.CountryFor("CN")
	if err != nil {
		t.Fatal(err)
	}
	port, err := si3050.New(si3050.Config{Name: "fxo1", Conn: chip, Reset: chip.ResetPin(), IRQ: chip.IRQ(), Clock: clk, Country: cty})
	if err != nil {
		t.Fatal(err)
	}
	if err := port.Init(); err != nil {
		t.Fatal(err)
	}
	if err := port.Seize(); err != nil {
		t.Fatal(err)
	}
	chip.CO().StopTone() // the far end answered: no dial tone
	return &fxoLine{clk: clk, chip: chip, port: port}
}

// step plays far (160 samples) from the office, runs the box's session on
// the two 10 ms PCM frames, and returns what the box sent to the line.
func (l *fxoLine) step(box *Session, far []int16) []int16 {
	co := l.chip.CO()
	co.Play(far)
	var sent []int16
	in, out := make([]int16, 80), make([]int16, 80)
	for range 2 {
		l.clk.Sleep(10 * time.Millisecond)
		l.chip.PCMRead(in)
		box.Process(in, out)
		co.Record(len(out))
		l.chip.PCMWrite(out)
		sent = append(sent, co.Heard()...)
	}
	return sent
}

// TestThroughEmulatedFXO runs whole faxes through the board emulator's FXO
// port (the Si3050 driver and chip emulator, 10 ms PCM frames), our session
// on the box's side and spandsp's beyond the central office, both ways.
func TestThroughEmulatedFXO(t *testing.T) {
	bin := faxtest.Harness(t)
	dir := t.TempDir()
	doc := testDoc(t)
	src := docFile(t, bin, dir, doc)
	run := func(box *Session, peer *faxtest.Peer) peerResult {
		l := newFXOLine(t)
		heard := make([]int16, 160)
		for i := 0; i < 240*50; i++ {
			far, ok := peer.Exchange(faxtest.G711(heard, faxtest.Alaw))
			if !ok {
				break
			}
			heard = l.step(box, faxtest.G711(far, faxtest.Alaw))
		}
		return parsePeer(t, peer.Close())
	}
	t.Run("box sends", func(t *testing.T) {
		out := filepath.Join(dir, "fxo-rx.tif")
		box, _ := New(Config{Calling: true, Pages: doc})
		r := run(box, faxtest.StartPeer(t, bin, "fax-rx", out, "v29+v27ter", "mh+mr"))
		if box.Result().Err != nil || r.code != 0 || r.pagesRx != len(doc) {
			logEvents(t, "box", box)
			t.Fatalf("box %+v, spandsp %+v", box.Result(), r)
		}
		checkPages(t, "spandsp received", readTIFF(t, bin, out), doc)
	})
	t.Run("box receives", func(t *testing.T) {
		box, _ := New(Config{})
		r := run(box, faxtest.StartPeer(t, bin, "fax-tx", src, "v29+v27ter", "mh+mr"))
		if box.Result().Err != nil || r.code != 0 || box.Result().Pages != len(doc) {
			logEvents(t, "box", box)
			t.Fatalf("box %+v, spandsp %+v", box.Result(), r)
		}
		checkPages(t, "the box received", box.Received(), doc)
	})
}
