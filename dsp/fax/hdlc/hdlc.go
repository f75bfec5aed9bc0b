// Package hdlc is the HDLC framing T.30 carries its messages in (ITU-T T.30
// section 5.3, after ISO/IEC 13239): frames between 0x7E flags, zero-bit
// insertion after five ones, a 16-bit frame check sequence (the CRC of
// ITU-T V.41, inverted, sent low octet first), bits sent least significant
// first. Tx turns queued frames into a bit stream for a modem; Rx turns
// received bits back into frames and checks them.
//
// Neither allocates after construction: Tx copies frames into a fixed ring
// of buffers, and Rx hands out its last frame as a slice of its own buffer.
package hdlc

import (
	"errors"
	"fmt"
)

// MaxFrame is the longest frame carried, without its check sequence: T.30's
// error correction mode frames (address, control, FCF, frame number and 256
// octets of page data) fit with room to spare.
const MaxFrame = 400

// crcTable is the byte-wise table of the reflected CRC-16 polynomial
// x^16 + x^12 + x^5 + 1 (0x1021, reflected 0x8408).
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x8408
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// crcUpdate runs the CRC register over b.
func crcUpdate(crc uint16, b []byte) uint16 {
	for _, v := range b {
		crc = crc>>8 ^ crcTable[byte(crc)^v]
	}
	return crc
}

// FCS returns the frame check sequence of a frame: the CRC register started
// at all ones, run over the frame, inverted. It is sent low octet first.
func FCS(frame []byte) uint16 { return ^crcUpdate(0xffff, frame) }

// goodResidue is the CRC register after a frame and its correct FCS.
const goodResidue = 0xf0b8

// txFrames is how many frames Tx holds; T.30 sends at most a few control
// frames at once, and its ECM image frames are fed as room appears.
const txFrames = 8

// txItems is the depth of Tx's queue of flag runs and frames.
const txItems = 2 * txFrames

// txItem is a run of flags (flags > 0) or a frame (a slot of Tx.bufs).
type txItem struct {
	flags int
	slot  int
}

// Tx serialises frames into HDLC bits. The zero value is ready to use.
type Tx struct {
	bufs  [txFrames][MaxFrame + 2]byte
	lens  [txFrames]int
	slot  int // next free frame slot (ring of txFrames)
	held  int // frame slots in use
	items [txItems]txItem
	head  int // first queued item
	n     int // queued items

	shift    uint32 // bits waiting to go out, least significant first
	nshift   int
	ones     int  // ones in a row in the frame being sent
	inFrame  bool // sending the current item's frame
	pos      int  // next octet of that frame
	flagLast bool // the last thing sent was a flag
}

// errQueueFull is returned when Tx has no room for another item.
var errQueueFull = errors.New("hdlc: transmit queue full")

// Reset drops everything queued and any partly sent frame.
func (t *Tx) Reset() { *t = Tx{} }

// Flags queues n flags: a preamble before the first frame (T.30 asks for
// one second's worth), or a gap.
func (t *Tx) Flags(n int) error {
	if n <= 0 {
		return nil
	}
	if t.n == txItems {
		return errQueueFull
	}
	t.items[(t.head+t.n)%txItems] = txItem{flags: n}
	t.n++
	return nil
}

// Room reports how many more frames Frame accepts now.
func (t *Tx) Room() int { return min(txFrames-t.held, txItems-t.n) }

// Frame queues a copy of frame, to be sent with its FCS after whatever is
// already queued. Consecutive frames share the flag between them.
func (t *Tx) Frame(frame []byte) error {
	if len(frame) == 0 || len(frame) > MaxFrame {
		return fmt.Errorf("hdlc: frame of %d octets (want 1 to %d)", len(frame), MaxFrame)
	}
	if t.Room() == 0 {
		return errQueueFull
	}
	s := t.slot
	t.slot = (t.slot + 1) % txFrames
	t.held++
	n := copy(t.bufs[s][:], frame)
	fcs := FCS(frame)
	t.bufs[s][n], t.bufs[s][n+1] = byte(fcs), byte(fcs>>8)
	t.lens[s] = n + 2
	t.items[(t.head+t.n)%txItems] = txItem{slot: s}
	t.n++
	return nil
}

// Pending reports whether anything is queued or still being sent.
func (t *Tx) Pending() bool { return t.n > 0 || t.nshift > 0 }

// NextBit returns the next bit to send, or ok false when everything queued
// has been sent: Tx is a modem.BitSource.
func (t *Tx) NextBit() (bit int, ok bool) {
	for t.nshift == 0 {
		if !t.refill() {
			return 0, false
		}
	}
	bit = int(t.shift & 1)
	t.shift >>= 1
	t.nshift--
	return bit, true
}

// flag loads a flag into the shift register.
func (t *Tx) flag() {
	t.shift, t.nshift = 0x7e, 8
	t.flagLast, t.ones = true, 0
}

// refill loads the next octet's bits (stuffed) or a flag; false when the
// queue is empty.
func (t *Tx) refill() bool {
	if t.inFrame {
		it := &t.items[t.head]
		if t.pos < t.lens[it.slot] {
			v := t.bufs[it.slot][t.pos]
			t.pos++
			for k := range 8 {
				b := uint32(v>>k) & 1
				t.shift |= b << t.nshift
				t.nshift++
				if b == 0 {
					t.ones = 0
				} else if t.ones++; t.ones == 5 {
					t.nshift++ // the inserted zero
					t.ones = 0
				}
			}
			return true
		}
		// The closing flag, which may open the next frame.
		t.inFrame = false
		t.held--
		t.pop()
		t.flag()
		return true
	}
	if t.n == 0 {
		return false
	}
	it := &t.items[t.head]
	if it.flags > 0 {
		if it.flags--; it.flags == 0 {
			t.pop()
		}
		t.flag()
		return true
	}
	if !t.flagLast {
		t.flag()
		return true
	}
	t.inFrame, t.pos, t.flagLast, t.ones = true, 0, false, 0
	return true
}

func (t *Tx) pop() {
	t.head = (t.head + 1) % txItems
	t.n--
}

// Event is what Rx.PutBit found.
type Event uint8

const (
	// None: nothing to report.
	None Event = iota
	// Sync: a flag after a loss of synchronisation (start, abort or idle):
	// a transmission's preamble is arriving.
	Sync
	// Frame: a frame with a correct FCS; Rx.Frame returns it.
	Frame
	// BadFrame: a frame with a wrong FCS, a length that is not whole
	// octets, or longer than MaxFrame.
	BadFrame
	// Abort: seven or more ones inside a frame.
	Abort
)

// String names the event.
func (e Event) String() string {
	switch e {
	case None:
		return "none"
	case Sync:
		return "sync"
	case Frame:
		return "frame"
	case BadFrame:
		return "bad-frame"
	case Abort:
		return "abort"
	}
	return "unknown"
}

// minFrame is the shortest frame reported, FCS included: an address, a
// control field and the FCS. Anything shorter between two flags is noise.
const minFrame = 4

// Rx finds frames in a bit stream. The zero value is ready to use.
type Rx struct {
	buf     [MaxFrame + 2]byte
	n       int    // whole octets in buf
	octet   uint32 // bits of the octet being assembled, arriving at bit 7
	bits    int    // data bits since the last flag
	ones    int    // ones in a row, stuffed zeros excepted
	sync    bool   // a flag seen since the last abort or idle
	tooLong bool
	last    int // length of the last good frame, FCS excluded
}

// Reset returns the receiver to its initial state.
func (r *Rx) Reset() { *r = Rx{} }

// Frame returns the last frame PutBit reported as Frame, without its FCS.
// It is valid until the next call to PutBit.
func (r *Rx) Frame() []byte { return r.buf[:r.last] }

// InFrame reports whether data bits are arriving after a flag.
func (r *Rx) InFrame() bool { return r.sync && r.bits > 8 }

// PutBit takes the next received bit and reports what it completed.
func (r *Rx) PutBit(bit int) Event {
	if bit&1 != 0 {
		r.ones++
		switch {
		case r.ones < 6:
			r.data(1)
		case r.ones == 7:
			// Abort (or the idle ones after a transmission).
			inFrame := r.sync && r.bits > 8
			r.sync, r.bits, r.n, r.tooLong = false, 0, 0, false
			if inFrame {
				return Abort
			}
		}
		// A sixth one waits: the next bit makes it a flag or an abort.
		return None
	}
	switch r.ones {
	case 5: // an inserted zero
		r.ones = 0
		return None
	case 6:
		r.ones = 0
		return r.flag()
	}
	r.ones = 0
	r.data(0)
	return None
}

// data adds a data bit to the frame being received.
func (r *Rx) data(b uint32) {
	if !r.sync {
		return
	}
	r.octet = r.octet>>1 | b<<7
	if r.bits++; r.bits&7 == 0 {
		if r.n < len(r.buf) {
			r.buf[r.n] = byte(r.octet)
			r.n++
		} else {
			r.tooLong = true
		}
	}
}

// flag ends the frame in progress, if any.
func (r *Rx) flag() Event {
	wasSync := r.sync
	// The flag's leading zero and five ones went in as data.
	bits, tooLong := r.bits-6, r.tooLong
	r.sync, r.bits, r.n, r.tooLong = true, 0, 0, false
	if !wasSync {
		return Sync
	}
	if bits < 8*minFrame {
		return None
	}
	if bits&7 != 0 || tooLong {
		return BadFrame
	}
	n := bits / 8
	if crcUpdate(0xffff, r.buf[:n]) != goodResidue {
		return BadFrame
	}
	r.last = n - 2
	return Frame
}
