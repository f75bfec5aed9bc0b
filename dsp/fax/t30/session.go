// Package t30 is the ITU-T T.30 fax session for a call's audio: a state
// machine that runs phases A to E (CNG/CED, DIS/DCS with identities, TCF
// training check with fallback to lower rates, CFR/FTT, pages as T.4 data,
// MPS/EOP and MCF/RTN/RTP, DCN) over the V.21 channel 2 control modem and
// the V.29 and V.27ter image modems, with T.30's timers and retries.
//
// A Session is fed the audio heard from the line and fills the audio to
// send, block by block (Process), on the call's own clock: all timers count
// samples. It allocates nothing per block; pages are coded when they start
// and decoded when they end. The calling terminal sends a document, the
// answering one receives (the usual cases, including a fax sent or received
// in a voice call: whoever starts the fax exchange calls, in T.30's sense);
// polling is not implemented. Error correction mode (ECM) is not
// implemented: pages go as T.4 MH or MR with RTN/retrain on bad copy.
package t30

import (
	"errors"
	"fmt"
	"math/bits"

	"callbox/dsp/fax/hdlc"
	"callbox/dsp/fax/internal/dds"
	"callbox/dsp/fax/modem"
	"callbox/dsp/fax/modem/v17"
	"callbox/dsp/fax/modem/v21"
	"callbox/dsp/fax/modem/v27ter"
	"callbox/dsp/fax/modem/v29"
	"callbox/dsp/fax/t4"
)

// Errors a session ends with. A caller retrying a scheduled fax branches on
// them: ErrNoFax and ErrNoResponse are worth another call, ErrIncompatible
// and ErrRejected are not.
var (
	// ErrNoFax: no fax terminal answered within T1 (35 s).
	ErrNoFax = errors.New("t30: no fax terminal answered (T1)")
	// ErrIncompatible: the other terminal cannot receive what we send.
	ErrIncompatible = errors.New("t30: the other terminal is not compatible")
	// ErrTraining: training failed at every rate.
	ErrTraining = errors.New("t30: training failed at every rate")
	// ErrNoResponse: the other terminal stopped answering commands.
	ErrNoResponse = errors.New("t30: no response to repeated commands")
	// ErrRejected: a page was refused (RTN) too many times.
	ErrRejected = errors.New("t30: page refused after retransmissions")
	// ErrDisconnected: the other terminal sent DCN before the end.
	ErrDisconnected = errors.New("t30: the other terminal disconnected")
	// ErrProtocol: the other terminal sent something out of order.
	ErrProtocol = errors.New("t30: protocol error")
)

// Timers (T.30 section 5.4), in samples.
const (
	second   = 8000
	timeT1   = 35 * second        // to find the other terminal
	timeT2   = 6 * second         // a receiver waiting for a command or page
	timeT4   = 3 * second         // waiting for a response before repeating
	gap75    = 75 * second / 1000 // between a frame and the answer to it
	tcfLen   = 3 * second / 2     // TCF: 1.5 s of zeros
	maxTries = 3                  // a command is sent at most this many times
	maxRTN   = 3                  // retransmissions of a page refused
	// maxBusy is how long a signal on the line (a damaged transmission,
	// noise) may keep a receiver's T2 from running out.
	maxBusy = 60 * second
)

// DefaultLevel is the transmit level, dBm0.
const DefaultLevel = -13

// Config describes a session.
type Config struct {
	// Calling is true on the terminal that starts the fax exchange: it
	// sends CNG and waits for the other's DIS, then sends Pages. The other
	// answers (CED, DIS) and receives.
	Calling bool
	// Pages are the document to send (calling side), 1728 pixels wide
	// (A4; B4 and A3 widths when the receiver takes them), at 98 or 196
	// lines per inch.
	Pages []*t4.Page
	// Ident is our identity (TSI or CSI): up to 20 digits, '+' and spaces.
	Ident string
	// Level is the transmit level in dBm0; 0 picks DefaultLevel.
	Level float64
	// Modems are the image modems we offer or use; 0 means V.29 and
	// V.27ter. V.17 is offered and used only when asked for (AllModems).
	Modems Modems
	// NoMR restricts page coding to MH.
	NoMR bool
	// NoECM turns error correction mode off: it is offered (receiving)
	// and used (sending, when the receiver offers it) otherwise, with
	// MMR coding when the receiver takes it.
	NoECM bool
	// SmallFrames sends ECM frames of 64 octets instead of 256 (for
	// noisy lines: a hit costs less to send again). Receiving takes
	// either.
	SmallFrames bool
}

// Result is how a session ended.
type Result struct {
	Err         error     // nil when the document went through
	Pages       int       // pages confirmed (sent with MCF, or received)
	Rate        int       // the last image data rate, bit/s
	Coding      t4.Coding // the last page coding
	Fine        bool      // the last pages were at fine resolution
	ECM         bool      // error correction mode was used
	RemoteIdent string    // the other terminal's TSI or CSI
}

// Event is something a session did or saw, for logs and tests.
type Event struct {
	At   int64 // sample count
	Text string
}

// maxEvents bounds the event log.
const maxEvents = 512

type state uint8

const (
	stCallWaitDIS  state = iota // CNG, listening for DIS
	stSendDCS                   // V.21: TSI, DCS
	stSendTCF                   // image modem: TCF
	stWaitCFR                   // listening for CFR or FTT
	stSendPage                  // image modem: a page
	stSendPost                  // V.21: MPS or EOP
	stWaitPostResp              // listening for MCF, RTN, RTP
	stSendDCN                   // V.21: DCN, then done
	stAnsCED                    // answering: a pause, then CED
	stSendDIS                   // V.21: CSI, DIS
	stWaitCmd                   // listening for DCS or DCN
	stRecvTCF                   // listening for TCF on the image modem
	stSendResp                  // V.21: a response, then s.after
	stWaitPage                  // listening for a page (or a repeated DCS)
	stWaitPost                  // listening for MPS, EOP, EOM after a page
	stSendECM                   // image modem: a burst of ECM frames
	stSendPPS                   // V.21: PPS (or CTC, EOR, RR: s.ecmCmd)
	stWaitPPSResp               // listening for MCF, PPR, RNR, CTR, ERR
	stDone
)

// txKind is what the transmitter is sending.
type txKind uint8

const (
	txSilence txKind = iota
	txTone
	txV21
	txFast
)

// Session is one fax exchange over a call's audio.
type Session struct {
	cfg     Config
	level   float64
	modems  Modems
	st      state
	after   state // where stSendResp goes when its frames are sent
	clock   int64 // samples processed
	timer   int64 // deadline of the current wait, in samples
	since   int64 // when the session entered its state
	t1      int64 // deadline of T1
	tries   int   // times the current command has been sent
	result  Result
	events  []Event
	failure error // set before the closing DCN when the session fails

	// Transmitter.
	tx       txKind
	gap      int // silence still to send before tx starts
	toneInc  uint32
	tonePh   uint32
	toneAmp  int32
	toneOn   int // samples of tone left in the current burst (txTone)
	toneOff  int // silence after each burst, samples; 0 for a single burst
	toneLeft int // samples until the cadence repeats
	hdlcTx   hdlc.Tx
	v21tx    *v21.Tx
	v17tx    *v17.Tx
	v29tx    *v29.Tx
	v27tx    *v27ter.Tx
	fastTx   modem.Transmitter
	zeros    zeroSource
	pageSrc  byteSource
	enc      t4.Encoder
	encBuf   []byte

	// Receivers.
	listen  bool // feed the receivers (false while we transmit)
	v21rx   *v21.Rx
	hdlcRx  hdlc.Rx
	v21in   v21Sink
	v17rx   *v17.Rx
	v29rx   *v29.Rx
	v27rx   *v27ter.Rx
	fastRx  modem.Receiver
	fastOn  bool
	fastIn  fastSink
	frames  [8]frameSlot
	fhead   int
	fcount  int
	v21Down bool // the V.21 carrier dropped since last looked at

	// The exchange.
	remote   caps
	p        params
	rateIdx  int    // index into fallback
	page     int    // page being sent
	rtn      int    // refusals of the current page
	pending  []byte // the last frames sent by stSendResp (for repeats)
	lastPost byte   // the last post-page command answered
	lastResp byte   // and our answer to it
	dec      t4.Decoder
	received []*t4.Page

	// Error correction mode, sending: the page's data in transmission
	// order, cut into partial pages of up to 256 frames of 256 octets.
	ecmTx     hdlc.Tx
	ecmSrc    ecmSource
	ecmData   []byte
	block     int       // partial page being sent
	nframes   int       // its frames
	resend    [256]bool // frames for the next burst
	nextFrame int       // the next frame the burst may queue
	rcp       int       // RCP frames still to queue
	ppr       int       // PPRs for this partial page
	ecmCmd    byte      // what stSendPPS sends: PPS, CTC, EOR or RR
	lastBlock bool      // the partial page ends the page
	frameBuf  [4 + ecmFrameLen]byte

	// Error correction mode, receiving.
	ecmRx    hdlc.Rx
	blk      *[256][ecmFrameLen]byte
	blkLen   [256]int16 // -1 for a frame not (yet) received
	blkN     int        // frames in the partial page, as PPS said
	rxBlock  int        // the partial page expected
	rxPage   int        // and its page
	pageData []byte     // the page's data so far, most significant bit first
}

// ecmFrameLen is the most page data an ECM frame carries (T.4 annex A:
// 256 octets, or 64 when the DCS says so).
const ecmFrameLen = 256

// frameSlot holds a received frame.
type frameSlot struct {
	buf [hdlc.MaxFrame]byte
	n   int
}

// New returns a session ready to run from the first sample of the call's
// fax phase.
func New(cfg Config) (*Session, error) {
	if err := checkIdent(cfg.Ident); err != nil {
		return nil, err
	}
	switch {
	case cfg.Calling && len(cfg.Pages) == 0:
		return nil, fmt.Errorf("t30: the calling terminal sends, and there are no pages (polling is not supported)")
	case !cfg.Calling && len(cfg.Pages) > 0:
		return nil, fmt.Errorf("t30: the answering terminal receives (polling is not supported)")
	}
	for i, p := range cfg.Pages {
		switch {
		case p.Width != t4.WidthA4 && p.Width != t4.WidthB4 && p.Width != t4.WidthA3:
			return nil, fmt.Errorf("t30: page %d is %d pixels wide (want %d, %d or %d)", i+1, p.Width, t4.WidthA4, t4.WidthB4, t4.WidthA3)
		case p.Height == 0:
			return nil, fmt.Errorf("t30: page %d is empty", i+1)
		}
	}
	s := &Session{cfg: cfg, level: cfg.Level, modems: cfg.Modems}
	if s.level == 0 {
		s.level = DefaultLevel
	}
	if s.modems == 0 {
		s.modems = V29 | V27ter
	}
	var err error
	if s.v21tx, err = v21.NewTx(s.level, &s.hdlcTx); err != nil {
		return nil, fmt.Errorf("t30: %w", err)
	}
	if s.v17tx, err = v17.NewTx(14400, s.level, &s.zeros); err != nil {
		return nil, fmt.Errorf("t30: %w", err)
	}
	if s.v29tx, err = v29.NewTx(9600, s.level, &s.zeros); err != nil {
		return nil, fmt.Errorf("t30: %w", err)
	}
	if s.v27tx, err = v27ter.NewTx(4800, s.level, &s.zeros); err != nil {
		return nil, fmt.Errorf("t30: %w", err)
	}
	s.v21in.s, s.fastIn.s = s, s
	s.v21rx = v21.NewRx(&s.v21in)
	if s.v17rx, err = v17.NewRx(14400, &s.fastIn); err != nil {
		return nil, err
	}
	if s.v29rx, err = v29.NewRx(9600, &s.fastIn); err != nil {
		return nil, err
	}
	if s.v27rx, err = v27ter.NewRx(4800, &s.fastIn); err != nil {
		return nil, err
	}
	s.events = make([]Event, 0, 64)
	s.ecmSrc.s = s
	s.t1 = timeT1
	if cfg.Calling {
		s.enter(stCallWaitDIS)
	} else {
		s.enter(stAnsCED)
	}
	return s, nil
}

// Done reports whether the session is over.
func (s *Session) Done() bool { return s.st == stDone }

// Result returns how the session ended (or how far it has got).
func (s *Session) Result() Result { return s.result }

// Received returns the pages received so far.
func (s *Session) Received() []*t4.Page { return s.received }

// Events returns what the session did and saw.
func (s *Session) Events() []Event { return s.events }

func (s *Session) logf(format string, args ...any) {
	if len(s.events) < maxEvents {
		s.events = append(s.events, Event{At: s.clock, Text: fmt.Sprintf(format, args...)})
	}
}

// Process takes a block of audio heard from the line and fills tx (which
// may be as long as rx, or any length) with the audio to send. Once Done,
// it sends silence.
func (s *Session) Process(rx, tx []int16) {
	if s.listen && s.st != stDone {
		s.v21rx.Receive(rx)
		if s.fastOn {
			s.fastRx.Receive(rx)
		}
		s.handleFrames()
	}
	for n := 0; n < len(tx); {
		n += s.transmit(tx[n:])
	}
	s.clock += int64(max(len(rx), len(tx)))
	if s.timer > 0 && s.busy() {
		// T2 runs from the end of what the line carries: a transmission
		// the receiver could not make out is still the other terminal
		// talking.
		s.timer = max(s.timer, s.clock+timeT2)
	}
	if s.st != stDone && s.timer > 0 && s.clock >= s.timer {
		s.timer = 0
		s.timeout()
	}
}

// Connect runs a and b against each other in memory, each hearing the
// other 20 ms late, until both are done or limit samples have gone by, and
// returns what each sent (for tools and tests: a whole fax as audio).
func Connect(a, b *Session, limit int) (fromA, fromB []int16) {
	const block = 160
	inA, outA := make([]int16, block), make([]int16, block)
	inB, outB := make([]int16, block), make([]int16, block)
	for n := 0; n < limit && !(a.Done() && b.Done()); n += block {
		a.Process(inA, outA)
		b.Process(inB, outB)
		copy(inB, outA)
		copy(inA, outB)
		fromA = append(fromA, outA...)
		fromB = append(fromB, outB...)
	}
	return fromA, fromB
}

// busy reports whether a receiver waiting under T2 hears a signal on the
// line, for at most maxBusy in one state.
func (s *Session) busy() bool {
	switch s.st {
	case stWaitPage, stWaitPost, stWaitCmd:
		return s.clock-s.since < maxBusy && (s.v21rx.Carrier() || s.fastOn && s.fastRx.Carrier())
	}
	return false
}

// ---- transmitter ----

// startTx begins sending kind after gap samples of silence; receivers stop
// hearing the line while we send (except under CNG).
func (s *Session) startTx(kind txKind, gap int) {
	s.tx, s.gap = kind, gap
	s.listen = kind == txTone && s.st == stCallWaitDIS
	s.timer = 0
}

// transmit fills some of dst and returns how much; at the end of a
// transmission it moves the state machine on.
func (s *Session) transmit(dst []int16) int {
	if s.gap > 0 {
		n := min(s.gap, len(dst))
		clear(dst[:n])
		s.gap -= n
		return n
	}
	switch s.tx {
	case txTone:
		return s.tone(dst)
	case txV21:
		n := s.v21tx.Transmit(dst)
		if n < len(dst) {
			s.txDone()
		}
		return n
	case txFast:
		n := s.fastTx.Transmit(dst)
		if n < len(dst) {
			s.txDone()
		}
		return n
	}
	clear(dst)
	return len(dst)
}

// startTone sends hz for on samples, then (if off > 0) silence for off
// samples, repeating; or a single burst when off is 0.
func (s *Session) startTone(hz float64, on, off int) {
	s.toneInc = dds.Rate(hz)
	s.toneAmp = int32(modem.Amplitude(s.level))
	s.toneOn, s.toneOff, s.toneLeft = on, off, on+off
	s.startTx(txTone, 0)
}

func (s *Session) tone(dst []int16) int {
	for i := range dst {
		if s.toneLeft == 0 {
			if s.toneOff == 0 {
				s.txDone()
				return i
			}
			s.toneLeft = s.toneOn + s.toneOff
		}
		if s.toneLeft > s.toneOff {
			dst[i] = int16(s.toneAmp * dds.SinFast(s.tonePh) >> 15)
			s.tonePh += s.toneInc
		} else {
			dst[i] = 0
		}
		s.toneLeft--
	}
	return len(dst)
}

// sendFrames sends frames on V.21 after gap samples, with the one-second
// preamble of flags; the last is marked final.
func (s *Session) sendFrames(gap int, frames ...[]byte) {
	s.hdlcTx.Reset()
	s.hdlcTx.Flags(38) // 1 s at 300 bit/s
	for _, f := range frames {
		if err := s.hdlcTx.Frame(f); err != nil {
			s.logf("cannot send a frame: %v", err)
		}
	}
	s.hdlcTx.Flags(2)
	s.v21tx.Restart(&s.hdlcTx)
	s.startTx(txV21, gap)
}

// frame builds a frame with the X bit ours (set on the calling side,
// which received DIS).
func (s *Session) frame(fcf byte, final bool, fif ...byte) []byte {
	ctl := byte(ctlNonFinal)
	if final {
		ctl = ctlFinal
	}
	if hasX(fcf) && s.cfg.Calling {
		fcf |= 1
	}
	return append([]byte{address, ctl, fcf}, fif...)
}

// startFast sends src on the image modem at the session's rate. V.17
// trains long for the TCF and short for the pages after it.
func (s *Session) startFast(src modem.BitSource, gap int) {
	r := fallback[s.rateIdx]
	switch r.modem {
	case V17:
		s.v17tx.Restart(r.bps, s.st != stSendTCF, src)
		s.fastTx = s.v17tx
	case V29:
		s.v29tx.Restart(r.bps, src)
		s.fastTx = s.v29tx
	default:
		s.v27tx.Restart(r.bps, src)
		s.fastTx = s.v27tx
	}
	s.startTx(txFast, gap)
}

// zeroSource sends n zeros (TCF).
type zeroSource struct{ n int }

func (z *zeroSource) NextBit() (int, bool) {
	if z.n == 0 {
		return 0, false
	}
	z.n--
	return 0, true
}

func (z *zeroSource) NextBits() (uint32, int) {
	n := min(z.n, 32)
	z.n -= n
	return 0, n
}

// byteSource sends the bits of a byte slice, most significant first.
type byteSource struct {
	b []byte
	i int // next bit
}

func (b *byteSource) NextBit() (int, bool) {
	if b.i >= 8*len(b.b) {
		return 0, false
	}
	v := int(b.b[b.i>>3]>>(7-b.i&7)) & 1
	b.i++
	return v, true
}

// NextBits hands out the rest of the current byte, first bit lowest.
func (b *byteSource) NextBits() (uint32, int) {
	if b.i >= 8*len(b.b) {
		return 0, 0
	}
	k := 8 - b.i&7
	v := uint32(bits.Reverse8(b.b[b.i>>3])) >> (b.i & 7)
	b.i += k
	return v, k
}

// ---- receivers ----

// hear turns the receivers on (after our own transmission), the image
// modem's too when fast is set, at the session's rate.
func (s *Session) hear(fast bool) {
	s.listen = true
	s.v21rx.Restart()
	s.hdlcRx.Reset()
	s.fcount = 0
	s.v21Down = false
	s.fastOn = fast
	s.fastIn.ecm = fast && s.p.ecm && s.st == stWaitPage
	s.ecmRx.Reset()
	if fast {
		// A new reception: what the sink holds (a page waiting for its
		// post-page command) stays until then.
		s.fastIn.reset()
		r := fallback[s.rateIdx]
		switch r.modem {
		case V17:
			// The TCF comes after a long training, the pages after a
			// short one.
			s.v17rx.Restart(r.bps, s.st != stRecvTCF)
			s.fastRx = s.v17rx
		case V29:
			s.v29rx.Restart(r.bps)
			s.fastRx = s.v29rx
		default:
			s.v27rx.Restart(r.bps)
			s.fastRx = s.v27rx
		}
	}
}

// v21Sink takes the control channel's bits into the HDLC receiver and
// queues the frames.
type v21Sink struct{ s *Session }

func (v *v21Sink) PutBit(b int) {
	s := v.s
	if s.hdlcRx.PutBit(b) != hdlc.Frame {
		return
	}
	f := s.hdlcRx.Frame()
	if len(f) < frameHeadLen || f[0] != address || s.fcount == len(s.frames) {
		return
	}
	slot := &s.frames[(s.fhead+s.fcount)%len(s.frames)]
	slot.n = copy(slot.buf[:], f)
	s.fcount++
}

func (v *v21Sink) Status(st modem.Status) {
	switch st {
	case modem.CarrierDown:
		v.s.v21Down = true
	case modem.CarrierUp:
		// A message is arriving: give it time to finish before the
		// current wait runs out.
		if s := v.s; s.timer > 0 && s.timer < s.clock+2*second {
			s.timer = s.clock + 2*second
		}
	}
}

// fastSink takes the image modem's bits: counts TCF, or keeps page data.
type fastSink struct {
	s        *Session
	upAt     int64 // when the carrier came up
	trained  bool
	down     bool // carrier dropped after training or a failure
	failed   bool
	bits     int // bits received since training
	zeroRun  int
	maxZeros int
	keep     bool   // keep bits as page data
	ecm      bool   // the bits are ECM frames
	data     []byte // page data, most significant bit first
	acc      byte
	nacc     int
}

// maxPageBytes bounds a received page's data (a dense A3 page at fine
// resolution in MH is well under this).
const maxPageBytes = 4 << 20

func (f *fastSink) reset() {
	f.trained, f.down, f.failed, f.bits, f.zeroRun, f.maxZeros = false, false, false, 0, 0, 0
	f.data, f.acc, f.nacc = f.data[:0], 0, 0
}

func (f *fastSink) PutBit(b int) {
	if !f.trained {
		return
	}
	if f.ecm {
		f.s.ecmBit(b)
		return
	}
	f.bits++
	if b == 0 {
		if f.zeroRun++; f.zeroRun > f.maxZeros {
			f.maxZeros = f.zeroRun
		}
	} else {
		f.zeroRun = 0
	}
	if f.keep && len(f.data) < maxPageBytes {
		f.acc = f.acc<<1 | byte(b&1)
		if f.nacc++; f.nacc == 8 {
			f.data = append(f.data, f.acc)
			f.acc, f.nacc = 0, 0
		}
	}
}

func (f *fastSink) Status(st modem.Status) {
	switch st {
	case modem.CarrierUp:
		f.upAt = f.s.clock
	case modem.TrainingOK:
		f.trained = true
		f.s.logf("image modem trained at %d bit/s", fallback[f.s.rateIdx].bps)
		switch f.s.st {
		case stWaitPage:
			f.s.timer = 0 // the page takes as long as it takes
		case stRecvTCF:
			// The TCF's 1.5 s from now on: a long training (V.17's
			// 1.4 s) may have used up most of T4.
			f.s.timer = max(f.s.timer, f.s.clock+tcfLen+second/2)
		}
	case modem.TrainingFailed:
		f.failed = true
	case modem.CarrierDown:
		// A failed carrier shorter than a training is something else
		// (the tail of a V.21 message): keep waiting.
		if f.trained || f.failed && f.s.clock-f.upAt >= second {
			f.down = true
		}
		f.failed = false
	}
}
