// Package modem holds what the fax modems share: the bit source a
// transmitter reads, the sink a receiver writes to, the status a receiver
// reports, and level conversions.
//
// The modems themselves are in the subpackages v21 (300 bit/s FSK for the
// T.30 control messages), v27ter (2400 and 4800 bit/s), v29 (7200 and
// 9600 bit/s) and v17 (7200 to 14400 bit/s, trellis coded). Each has a transmitter that fills 8 kHz int16 audio from a
// BitSource and a receiver that turns audio into bits for a Sink; both can
// be restarted without allocating, so a T.30 session keeps one of each for
// the whole call.
package modem

import "math"

// SampleRate is the audio rate of every modem, Hz.
const SampleRate = 8000

// BitSource supplies the bits a transmitter sends, one call per bit.
type BitSource interface {
	// NextBit returns the next bit (0 or 1), or ok false when there are
	// no more: the transmitter then ends its transmission.
	NextBit() (bit int, ok bool)
}

// WordSource is a BitSource that can also hand out many bits at once;
// transmitters take them so (one call per word, not per bit) when they can.
type WordSource interface {
	BitSource
	// NextBits returns up to 32 bits, the first in bit 0, and how many;
	// 0 when there are no more.
	NextBits() (bits uint32, n int)
}

// Bits buffers a BitSource for a transmitter, a word at a time from a
// WordSource.
type Bits struct {
	src BitSource
	ws  WordSource
	buf uint32
	n   int
}

// Reset starts reading src.
func (b *Bits) Reset(src BitSource) {
	b.src, b.buf, b.n = src, 0, 0
	b.ws, _ = src.(WordSource)
}

// Next returns the next bit, or ok false at the end of the source.
func (b *Bits) Next() (bit int, ok bool) {
	if b.n > 0 {
		b.n--
		v := b.buf & 1
		b.buf >>= 1
		return int(v), true
	}
	return b.refill()
}

// Take returns the next n (at most 25) bits, the first in bit 0, and how
// many there were: fewer than n at the end of the source.
func (b *Bits) Take(n int) (uint32, int) {
	if b.n >= n {
		v := b.buf & (1<<n - 1)
		b.buf >>= n
		b.n -= n
		return v, n
	}
	if b.ws == nil {
		var v uint32
		for i := range n {
			bit, ok := b.Next()
			if !ok {
				return v, i
			}
			v |= uint32(bit) << i
		}
		return v, n
	}
	// What is left of the word, then from the next ones.
	v, got := b.buf&(1<<b.n-1), b.n
	b.buf, b.n = 0, 0
	for got < n {
		w, k := b.ws.NextBits()
		if k == 0 {
			break
		}
		take := min(n-got, k)
		v |= w & (1<<take - 1) << got
		b.buf, b.n = w>>take, k-take
		got += take
	}
	return v, got
}

func (b *Bits) refill() (int, bool) {
	if b.ws == nil {
		return b.src.NextBit()
	}
	b.buf, b.n = b.ws.NextBits()
	if b.n == 0 {
		return 0, false
	}
	return b.Next()
}

// Status is a change in a receiver's state, reported to its Sink.
type Status uint8

const (
	// CarrierUp: a signal in the modem's band rose above the detection threshold.
	CarrierUp Status = iota + 1
	// CarrierDown: the signal fell below the threshold; the receiver is
	// ready for a new transmission.
	CarrierDown
	// TrainingOK: a high-speed receiver trained on the preamble and now
	// delivers data bits.
	TrainingOK
	// TrainingFailed: no preamble was found in time, or the equaliser did
	// not converge. Reported once a carrier; the receiver keeps looking for
	// a preamble only in the first case.
	TrainingFailed
)

// String names the status.
func (s Status) String() string {
	switch s {
	case CarrierUp:
		return "carrier-up"
	case CarrierDown:
		return "carrier-down"
	case TrainingOK:
		return "training-ok"
	case TrainingFailed:
		return "training-failed"
	}
	return "unknown"
}

// Sink receives what a receiver demodulates.
type Sink interface {
	// PutBit is called for each received bit, in order.
	PutBit(bit int)
	// Status reports a change of the receiver's state.
	Status(s Status)
}

// Transmitter is what every modem's transmitter does.
type Transmitter interface {
	// Transmit fills dst with audio and returns how many samples it
	// wrote: fewer than len(dst) (possibly 0) once the transmission,
	// including its closing sequence, is over.
	Transmit(dst []int16) int
}

// Receiver is what every modem's receiver does.
type Receiver interface {
	// Receive demodulates x, calling the Sink for bits and status
	// changes. Results do not depend on how the audio is split in blocks.
	Receive(x []int16)
	// Carrier reports whether the receiver hears a signal in its band
	// (trained or not).
	Carrier() bool
}

// Amplitude returns the peak int16 amplitude of a sine at levelDBm0, taking
// 0 dBm0 as 3.14 dB below a full-scale sine (the G.711 convention).
func Amplitude(levelDBm0 float64) float64 {
	return math.Min(32767*math.Pow(10, (levelDBm0-3.14)/20), 32767)
}

// PowerDBm0 returns the mean power of x in dBm0 (for tests and tools).
func PowerDBm0(x []int16) float64 {
	if len(x) == 0 {
		return math.Inf(-1)
	}
	var p float64
	for _, v := range x {
		p += float64(v) * float64(v)
	}
	p /= float64(len(x))
	ref := Amplitude(0) * Amplitude(0) / 2
	return 10 * math.Log10(p/ref)
}
