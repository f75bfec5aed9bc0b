package callerid

import (
	"fmt"

	"callbox/dsp/callerid/fsk"
)

// FSKConfig is how a message is framed on the line.
type FSKConfig struct {
	Modem fsk.Modem
	// SeizureBits of alternating 0 and 1 wake the receiver; 0 omits them
	// (caller ID on call waiting).
	SeizureBits int
	// MarkBits of continuous 1 precede the message.
	MarkBits int
	// TrailBits of 1 follow the checksum, so the last stop bit leaves the
	// line before the transmitter falls silent.
	TrailBits int
	// LevelDBm0 is the transmit level.
	LevelDBm0 float64
}

// Bellcore and ETSI framing: 300 bits of channel seizure and 180 bits of
// mark (GR-30-CORE, EN 300 659-1), sent near -13.5 dBm0.
var (
	BellcoreFSK = FSKConfig{Modem: fsk.Bell202, SeizureBits: 300, MarkBits: 180, TrailBits: 4, LevelDBm0: -13.5}
	ETSIFSK     = FSKConfig{Modem: fsk.V23, SeizureBits: 300, MarkBits: 180, TrailBits: 4, LevelDBm0: -13.5}
)

// maxRaw holds the longest message the one-byte length allows.
const maxRaw = 2 + 255 + 1

// Transmitter sends one encoded message at a time as FSK audio.
type Transmitter struct {
	cfg  FSKConfig
	tx   *fsk.Tx
	src  bitSource
	done bool
}

// bitSource walks seizure, mark, framed bytes and trailing mark.
type bitSource struct {
	cfg  *FSKConfig
	msg  [maxRaw]byte
	n    int
	pos  int // bit position over the whole transmission
	byte int
	bit  int // 0 start, 1..8 data, 9 stop
}

func (s *bitSource) NextBit() (int, bool) {
	p := s.pos
	s.pos++
	if p < s.cfg.SeizureBits {
		// GR-30 seizure is 0x55 bytes framed: it starts with a 0.
		return p & 1, true
	}
	p -= s.cfg.SeizureBits
	if p < s.cfg.MarkBits {
		return 1, true
	}
	if s.byte < s.n {
		b, c := s.bit, s.msg[s.byte]
		if s.bit++; s.bit == 10 {
			s.bit, s.byte = 0, s.byte+1
		}
		switch {
		case b == 0:
			return 0, true
		case b <= 8:
			return int(c>>(b-1)) & 1, true
		}
		return 1, true
	}
	if p-s.cfg.MarkBits-10*s.n < s.cfg.TrailBits {
		return 1, true
	}
	return 0, false
}

// NewTransmitter returns a transmitter framing messages as cfg says.
func NewTransmitter(cfg FSKConfig) (*Transmitter, error) {
	tx, err := fsk.NewTx(cfg.Modem, cfg.LevelDBm0)
	if err != nil {
		return nil, fmt.Errorf("callerid: %w", err)
	}
	if cfg.SeizureBits < 0 || cfg.MarkBits < 0 || cfg.TrailBits < 0 {
		return nil, fmt.Errorf("callerid: negative bit counts in %+v", cfg)
	}
	t := &Transmitter{cfg: cfg, tx: tx, done: true}
	t.src.cfg = &t.cfg
	return t, nil
}

// Load queues an encoded message (from Message.AppendBinary) and rewinds
// the transmitter to the start of its preamble.
func (t *Transmitter) Load(raw []byte) error {
	if len(raw) < 3 || len(raw) > maxRaw {
		return fmt.Errorf("callerid: message of %d bytes", len(raw))
	}
	t.src.n = copy(t.src.msg[:], raw)
	t.src.pos, t.src.byte, t.src.bit = 0, 0, 0
	t.tx.Reset()
	t.done = false
	return nil
}

// Read writes the next audio of the message into dst and returns the number
// of samples written; fewer than len(dst) means the message has ended.
func (t *Transmitter) Read(dst []int16) int {
	if t.done {
		return 0
	}
	n, done := t.tx.Modulate(dst, &t.src)
	t.done = done
	return n
}

// Samples returns the length in samples of a loaded message of n bytes.
func (cfg FSKConfig) Samples(n int) int {
	bits := cfg.SeizureBits + cfg.MarkBits + 10*n + cfg.TrailBits
	return (bits*fsk.SampleRate + cfg.Modem.Baud - 1) / cfg.Modem.Baud
}

// AppendFSK encodes m and appends its FSK audio to dst.
func AppendFSK(dst []int16, m Message, cfg FSKConfig) ([]int16, error) {
	var buf [maxRaw]byte
	raw, err := m.AppendBinary(buf[:0])
	if err != nil {
		return dst, err
	}
	t, err := NewTransmitter(cfg)
	if err != nil {
		return dst, err
	}
	if err := t.Load(raw); err != nil {
		return dst, err
	}
	start := len(dst)
	dst = append(dst, make([]int16, cfg.Samples(len(raw)))...)
	n := t.Read(dst[start:])
	return dst[:start+n], nil
}

// Receiver finds FSK caller ID messages anywhere in a stream of audio and
// checks their checksums.
type Receiver struct {
	rx     *fsk.Rx
	buf    [maxRaw]byte
	n      int
	active bool
	start  int64
	raw    [maxRaw]byte
	rawN   int
	at     int64
	baud   int

	seizureN   int   // seizure characters in a row
	seizureAt  int64 // where the first of them started
	seizureEnd int64 // where the last of them ended
}

// minIdle is how many mark bits must precede the type byte: the mark period
// is 180 bits (80 on call waiting), the seizure has none, so 10 bits tell
// the first message byte from seizure characters.
const minIdle = 10

// NewReceiver returns a receiver for modem m.
func NewReceiver(m fsk.Modem) (*Receiver, error) {
	rx, err := fsk.NewRx(m)
	if err != nil {
		return nil, fmt.Errorf("callerid: %w", err)
	}
	return &Receiver{rx: rx, baud: m.Baud}, nil
}

// Reset forgets any partial message and restarts the sample count.
func (r *Receiver) Reset() {
	r.rx.Reset()
	r.n, r.active, r.rawN, r.seizureN = 0, false, 0, 0
}

// Process consumes audio until a message with a valid checksum completes.
// It returns the samples consumed and whether a message is ready; call it
// again with the rest of x to go on. The message is then in Raw and Start.
func (r *Receiver) Process(x []int16) (int, bool) {
	done := 0
	for done < len(x) {
		n, ev := r.rx.Process(x[done:])
		done += n
		switch ev.Kind {
		case 0:
		case fsk.Byte:
			if ev.Idle >= minIdle {
				// A long mark: whatever came before was preamble or noise.
				r.active, r.n, r.start = true, 0, r.signalStart(ev)
			}
			r.track(ev)
			if !r.active {
				continue
			}
			r.buf[r.n] = ev.Byte
			r.n++
			if r.n < 3 || r.n < int(r.buf[1])+3 {
				continue
			}
			r.active = false
			if Checksum(r.buf[:r.n-1]) != r.buf[r.n-1] {
				continue
			}
			r.rawN = copy(r.raw[:], r.buf[:r.n])
			r.at = r.start
			return done, true
		default:
			r.active = false
			r.seizureN = 0
		}
	}
	return done, false
}

// seizureChar reports whether c is how a receiver frames alternating bits
// (0x55, wherever it catches the first start bit) or their last character
// running into the mark (0xd5, 0xf5, 0xfd, 0xff).
func seizureChar(c byte) bool {
	return c == 0x55 || c == 0xd5 || c == 0xf5 || c == 0xfd || c == 0xff
}

// track follows the channel seizure, a run of back to back seizure
// characters, to date the start of the signal.
func (r *Receiver) track(ev fsk.Event) {
	if !seizureChar(ev.Byte) {
		r.seizureN = 0
		return
	}
	if r.seizureN == 0 || ev.Idle > 1 {
		r.seizureN, r.seizureAt = 0, ev.At
	}
	r.seizureN++
	r.seizureEnd = ev.At + r.bits(10)
}

// bits returns the duration of n bits in samples.
func (r *Receiver) bits(n int) int64 { return int64(n) * fsk.SampleRate / int64(r.baud) }

// signalStart dates the message whose first byte is ev: the start of the
// channel seizure right before its mark, or else the start of the mark.
func (r *Receiver) signalStart(ev fsk.Event) int64 {
	mark := ev.At - r.bits(ev.Idle)
	// At least three seizure characters ending within two bits of the
	// mark's start make a seizure; fewer may be noise.
	if gap := mark - r.seizureEnd; r.seizureN >= 3 && gap <= r.bits(2) && gap >= -r.bits(2) {
		mark = r.seizureAt
	}
	r.seizureN = 0
	return max(mark, 0)
}

// Raw returns the last message received, type to checksum. It stays valid
// until the next call of Process.
func (r *Receiver) Raw() []byte { return r.raw[:r.rawN] }

// Start returns the sample index at which the signal of the last message
// began (its channel seizure, or its mark if it had none), counted from the
// creation or Reset of the receiver.
func (r *Receiver) Start() int64 { return r.at }

// Message parses the last message received with ParseLoose: what the
// exchange sent, passed by the checksum, is reported as well as it can be.
// Parse(Raw()) applies the strict rules.
func (r *Receiver) Message() (Message, error) { return ParseLoose(r.Raw()) }

// DecodeFSK returns every message found in x, with the sample index where
// each one's signal began. Messages that pass the checksum but are not
// caller ID (message waiting, say) are returned as errors in errs.
func DecodeFSK(x []int16, m fsk.Modem) (msgs []Message, starts []int64, errs []error) {
	r, err := NewReceiver(m)
	if err != nil {
		return nil, nil, []error{err}
	}
	for len(x) > 0 {
		n, ok := r.Process(x)
		x = x[n:]
		if !ok {
			continue
		}
		msg, err := r.Message()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		msgs = append(msgs, msg)
		starts = append(starts, r.Start())
	}
	return msgs, starts, errs
}
