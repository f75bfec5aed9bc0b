package hdlc

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// bitsOf drains t.
func bitsOf(t *Tx) []int {
	var out []int
	for {
		b, ok := t.NextBit()
		if !ok {
			return out
		}
		out = append(out, b)
	}
}

type got struct {
	ev    Event
	frame []byte
}

// receive feeds bits to a fresh Rx and returns its events (None dropped).
func receive(bits []int) []got {
	var r Rx
	var evs []got
	for _, b := range bits {
		switch ev := r.PutBit(b); ev {
		case None:
		case Frame:
			evs = append(evs, got{ev, bytes.Clone(r.Frame())})
		default:
			evs = append(evs, got{ev, nil})
		}
	}
	return evs
}

func TestFCSKnownValues(t *testing.T) {
	// CRC-16/X-25 check value of "123456789" is 0x906E.
	if got := FCS([]byte("123456789")); got != 0x906e {
		t.Errorf("FCS(123456789) = %#04x, want 0x906e", got)
	}
	// A T.30 DIS frame as spandsp sends it, FCS from its log.
	frame := []byte{0xff, 0x13, 0x80, 0x00, 0xee, 0xf8, 0x80, 0x80, 0x91, 0x80, 0x80, 0x80, 0x18}
	fcs := FCS(frame)
	if crcUpdate(0xffff, append(frame, byte(fcs), byte(fcs>>8))) != goodResidue {
		t.Errorf("frame plus its FCS does not leave the good residue")
	}
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := [][]byte{
		{0xff, 0x13, 0x80},
		bytes.Repeat([]byte{0xff}, 40),       // stuffing after every five ones
		bytes.Repeat([]byte{0x7e}, 40),       // flags as data
		bytes.Repeat([]byte{0x00}, 5),        // no stuffing at all
		bytes.Repeat([]byte{0xfe}, MaxFrame), // longest
	}
	for range 50 {
		f := make([]byte, 2+rng.IntN(300))
		for i := range f {
			f[i] = byte(rng.Uint32())
		}
		cases = append(cases, f)
	}
	var tx Tx
	var rx Rx
	if err := tx.Flags(10); err != nil {
		t.Fatal(err)
	}
	// One transmitter and one receiver over the whole stream: the
	// closing flag of each frame opens the next.
	for _, c := range cases {
		if err := tx.Frame(c); err != nil {
			t.Fatal(err)
		}
		var last Event
		var frame []byte
		for {
			b, ok := tx.NextBit()
			if !ok {
				break
			}
			if ev := rx.PutBit(b); ev != None {
				last, frame = ev, bytes.Clone(rx.Frame())
			}
		}
		if last != Frame || !bytes.Equal(frame, c) {
			t.Fatalf("frame of %d octets: got %v %x", len(c), last, frame)
		}
	}
}

func TestBackToBackFramesShareFlags(t *testing.T) {
	var tx Tx
	tx.Flags(5)
	frames := [][]byte{{0xff, 0x03, 0x40, 1, 2}, {0xff, 0x03, 0x41}, {0xff, 0x13, 0x80, 0, 0xee}}
	for _, f := range frames {
		if err := tx.Frame(f); err != nil {
			t.Fatal(err)
		}
	}
	tx.Flags(2)
	bits := bitsOf(&tx)
	evs := receive(bits)
	var n int
	for _, e := range evs {
		if e.ev == Frame {
			if !bytes.Equal(e.frame, frames[n]) {
				t.Errorf("frame %d = %x, want %x", n, e.frame, frames[n])
			}
			n++
		}
	}
	if n != len(frames) {
		t.Fatalf("got %d frames, want %d: %v", n, len(frames), evs)
	}
	// 5 preamble flags, the frames, 3 flags after them (one closing each,
	// shared), 2 trailing.
	stuffed := 0
	for _, f := range frames {
		stuffed += 8 * (len(f) + 2)
	}
	if len(bits) < stuffed+8*(5+3+2) || len(bits) > stuffed+8*(5+3+2)+20 {
		t.Errorf("%d bits for %d data bits: flags not shared?", len(bits), stuffed)
	}
}

func TestReceiverErrors(t *testing.T) {
	var tx Tx
	tx.Flags(3)
	frame := []byte{0xff, 0x13, 0x80, 0x00, 0xee, 0xf8}
	tx.Frame(frame)
	tx.Flags(1)
	bits := bitsOf(&tx)

	// A flipped data bit: the FCS catches it.
	bad := append([]int(nil), bits...)
	bad[8*3+20] ^= 1
	evs := receive(bad)
	if !hasEvent(evs, BadFrame) || hasEvent(evs, Frame) {
		t.Errorf("flipped bit: %v", evs)
	}

	// Seven ones in the middle of the frame abort it.
	ab := append([]int(nil), bits[:8*3+16]...)
	ab = append(ab, 1, 1, 1, 1, 1, 1, 1, 1)
	ab = append(ab, bits...)
	evs = receive(ab)
	if !hasEvent(evs, Abort) {
		t.Errorf("abort not reported: %v", evs)
	}
	if evs[len(evs)-1].ev != Frame {
		t.Errorf("the frame after the abort was lost: %v", evs)
	}

	// Idle ones before the preamble and a sync event on its first flag.
	idle := append([]int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, bits...)
	evs = receive(idle)
	if evs[0].ev != Sync {
		t.Errorf("first event %v, want sync", evs[0].ev)
	}

	// A frame longer than MaxFrame is refused by Tx and reported bad by Rx.
	if err := tx.Frame(make([]byte, MaxFrame+1)); err == nil {
		t.Error("Tx took an oversized frame")
	}
	long := []int{0, 1, 1, 1, 1, 1, 1, 0}
	for range 8 * (MaxFrame + 10) {
		long = append(long, 0)
	}
	long = append(long, 0, 1, 1, 1, 1, 1, 1, 0)
	if evs := receive(long); !hasEvent(evs, BadFrame) {
		t.Errorf("oversized frame: %v", evs)
	}
}

func hasEvent(evs []got, e Event) bool {
	for _, g := range evs {
		if g.ev == e {
			return true
		}
	}
	return false
}

// Flags that share their zero (0111111011111101111110) still delimit.
func TestSharedZeroFlags(t *testing.T) {
	var tx Tx
	tx.Frame([]byte{1, 2, 3, 4})
	bits := bitsOf(&tx)
	shared := []int{0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0}
	evs := receive(append(shared, bits...))
	if evs[len(evs)-1].ev != Frame {
		t.Errorf("%v", evs)
	}
}

func TestQueueLimits(t *testing.T) {
	var tx Tx
	for i := range txFrames {
		if err := tx.Frame([]byte{byte(i), 1, 2}); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if tx.Room() != 0 || tx.Frame([]byte{1}) == nil {
		t.Fatal("queue took more frames than it holds")
	}
	for range 40 {
		tx.NextBit()
	}
	// Frames leave the queue as they are sent; the allocation-free
	// steady state is checked by the benchmark.
	bits := bitsOf(&tx)
	if evs := receive(append([]int{0, 1, 1, 1, 1, 1, 1, 0}, bits...)); len(evs) < txFrames-1 {
		t.Errorf("got %d events", len(evs))
	}
	if tx.Room() != txFrames || tx.Pending() {
		t.Errorf("after draining: room %d pending %v", tx.Room(), tx.Pending())
	}
}

func TestNoAllocations(t *testing.T) {
	var tx Tx
	var rx Rx
	frame := bytes.Repeat([]byte{0x5a, 0xff}, 60)
	allocs := testing.AllocsPerRun(100, func() {
		tx.Flags(2)
		tx.Frame(frame)
		for {
			b, ok := tx.NextBit()
			if !ok {
				break
			}
			rx.PutBit(b)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame", allocs)
	}
}

// FuzzRx feeds arbitrary bits: no panic, and every frame reported has a
// correct FCS and fits MaxFrame.
func FuzzRx(f *testing.F) {
	var tx Tx
	tx.Flags(2)
	tx.Frame([]byte{0xff, 0x13, 0x80, 0x00})
	var seed []byte
	for {
		b, ok := tx.NextBit()
		if !ok {
			break
		}
		seed = append(seed, byte(b))
	}
	f.Add(seed)
	f.Add([]byte{1, 1, 1, 1, 1, 1, 1, 1, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		var r Rx
		for _, v := range in {
			for k := range 8 {
				if r.PutBit(int(v>>k)) == Frame {
					fr := r.Frame()
					if len(fr) > MaxFrame || len(fr) < minFrame-2 {
						t.Fatalf("frame of %d octets", len(fr))
					}
					if crcUpdate(0xffff, r.buf[:len(fr)+2]) != goodResidue {
						t.Fatal("frame reported with a bad FCS")
					}
				}
			}
		}
	})
}

// FuzzRoundTrip: any frame Tx accepts comes out of Rx unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{0xff, 0x13, 0x80})
	f.Add(bytes.Repeat([]byte{0xff}, 20))
	f.Fuzz(func(t *testing.T, frame []byte) {
		var tx Tx
		if err := tx.Frame(frame); err != nil {
			if len(frame) == 0 || len(frame) > MaxFrame {
				return
			}
			t.Fatal(err)
		}
		tx.Flags(1)
		evs := receive(append([]int{0, 1, 1, 1, 1, 1, 1, 0}, bitsOf(&tx)...))
		if len(frame) < minFrame-2 {
			return // too short to be told from noise
		}
		if len(evs) == 0 || evs[len(evs)-1].ev != Frame || !bytes.Equal(evs[len(evs)-1].frame, frame) {
			t.Fatalf("sent %x, got %v", frame, evs)
		}
	})
}
