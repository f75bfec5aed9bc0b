package t30

import (
	"math/bits"

	"callbox/dsp/fax/hdlc"
)

// Error correction mode (T.30 annex A, T.4 annex A): the page goes as HDLC
// frames of 256 octets (or 64, Config.SmallFrames) on the image modem, numbered within partial pages
// of up to 256; after each partial page the sender asks (PPS) and the
// receiver answers MCF or lists the frames it lost (PPR), which go again.
// After four PPRs for a partial page the sender continues at a lower rate
// (CTC/CTR) or, if there is none, gives up on the missing frames (EOR/ERR).

// maxPPR is how many PPRs a partial page gets before CTC or EOR.
const maxPPR = 4

// ecmSource feeds the image modem the burst's frames, queueing them into
// the HDLC transmitter as it has room.
type ecmSource struct{ s *Session }

func (e *ecmSource) NextBit() (int, bool) {
	s := e.s
	for s.ecmTx.Room() > 0 {
		if !s.queueFrame() {
			break
		}
	}
	return s.ecmTx.NextBit()
}

// queueFrame queues the burst's next frame (FCD, then three RCP); false
// when the burst is all queued.
func (s *Session) queueFrame() bool {
	for s.nextFrame < s.nframes && !s.resend[s.nextFrame] {
		s.nextFrame++
	}
	if s.nextFrame < s.nframes {
		i := s.nextFrame
		s.nextFrame++
		size := s.p.frameLen()
		start := (s.block*256 + i) * size
		data := s.ecmData[start:min(start+size, len(s.ecmData))]
		f := append(s.frameBuf[:0], address, ctlNonFinal, fcfFCD, byte(i))
		f = append(f, data...)
		// A short last frame is padded, as most senders do.
		for len(f) < 4+size {
			f = append(f, 0)
		}
		s.ecmTx.Frame(f)
		return true
	}
	if s.rcp > 0 {
		s.rcp--
		s.ecmTx.Frame([]byte{address, ctlNonFinal, fcfRCP})
		return true
	}
	return false
}

// startPage codes the current page for ECM: the T.4/T.6 data with its
// end (RTC or EOFB) and no fill, each octet's bits reversed so that HDLC,
// sending octets least significant bit first, sends them in order.
func (s *Session) startPage() error {
	if err := s.encodePage(); err != nil {
		return err
	}
	s.ecmData = append(s.ecmData[:0], s.encBuf...)
	for i, b := range s.ecmData {
		s.ecmData[i] = bits.Reverse8(b)
	}
	s.block = 0
	s.lastPost = fcfMPS
	if s.page == len(s.cfg.Pages)-1 {
		s.lastPost = fcfEOP
	}
	s.startBlock()
	return nil
}

// startBlock readies the current partial page: all its frames to send.
func (s *Session) startBlock() {
	size := s.p.frameLen()
	at := s.block * 256 * size
	left := len(s.ecmData) - at
	s.nframes = min(256, (left+size-1)/size)
	s.lastBlock = at+s.nframes*size >= len(s.ecmData)
	for i := range s.resend {
		s.resend[i] = i < s.nframes
	}
	s.ppr = 0
}

// startBurst sends the frames marked for sending, then three RCP, on the
// image modem after 200 ms of flags.
func (s *Session) startBurst() {
	s.nextFrame, s.rcp = 0, 3
	s.ecmTx.Reset()
	s.ecmTx.Flags(s.p.rate.bps / 5 / 8)
	s.ecmSrc.s = s
	s.startFast(&s.ecmSrc, gap75)
}

// ppsFIF is the PPS information field: what follows the partial page (NULL
// or the post-page command), page and partial page numbers, and the count
// of frames less one.
func (s *Session) ppsFIF() []byte {
	next := byte(fcfNULL)
	if s.lastBlock {
		next = s.lastPost | 1 // with our X bit
	}
	return []byte{next, byte(s.page), byte(s.block), byte(s.nframes - 1)}
}

// onPPSResponse acts on the answer to PPS, CTC, EOR or RR.
func (s *Session) onPPSResponse(fcf byte, fif []byte) {
	switch fcf {
	case fcfMCF, fcfERR:
		s.tries, s.ppr = 0, 0
		if !s.lastBlock {
			s.block++
			s.startBlock()
			s.enter(stSendECM)
			return
		}
		s.result.Pages++
		if s.lastPost == fcfEOP {
			s.enter(stSendDCN)
			return
		}
		s.page++
		s.sendPage()
	case fcfPPR:
		s.tries = 0
		n := 0
		for i := range s.resend {
			s.resend[i] = i < s.nframes && len(fif) > i/8 && fif[i/8]&(1<<(i%8)) != 0
			if s.resend[i] {
				n++
			}
		}
		s.logf("rx PPR: %d frames to send again", n)
		if n == 0 {
			// Nothing missing after all: ask again.
			s.ecmCmd = fcfPPS
			s.enter(stSendPPS)
			return
		}
		if s.ppr++; s.ppr >= maxPPR {
			s.ppr = 0
			if s.fallBack() {
				s.ecmCmd = fcfCTC
			} else {
				s.ecmCmd = fcfEOR
			}
			s.enter(stSendPPS)
			return
		}
		s.enter(stSendECM)
	case fcfCTR:
		s.tries = 0
		s.enter(stSendECM)
	case fcfRNR:
		// The receiver is busy: ask whether it is ready, as long as T5.
		s.ecmCmd = fcfRR
		s.enter(stSendPPS)
	case fcfCRP:
		s.retryOr(stSendPPS)
	}
}

// ecmCommand is the frame stSendPPS sends.
func (s *Session) ecmCommand() []byte {
	switch s.ecmCmd {
	case fcfCTC:
		// The rate to continue at, in DCS's bits 11-14.
		fif := dcsFIF(s.p)[:2]
		return s.frame(fcfCTC, true, fif...)
	case fcfEOR:
		next := byte(fcfNULL)
		if s.lastBlock {
			next = s.lastPost | 1
		}
		return s.frame(fcfEOR, true, next)
	case fcfRR:
		return s.frame(fcfRR, true)
	}
	return s.frame(fcfPPS, true, s.ppsFIF()...)
}

// ---- receiving ----

// ecmBit takes a bit of an ECM burst on the image modem.
func (s *Session) ecmBit(b int) {
	if s.ecmRx.PutBit(b) == hdlc.Frame {
		f := s.ecmRx.Frame()
		if len(f) < 3 || f[0] != address {
			return
		}
		switch f[2] {
		case fcfFCD:
			if len(f) < 5 {
				return
			}
			i := int(f[3])
			n := copy(s.blk[i][:], f[4:])
			s.blkLen[i] = int16(n)
		case fcfRCP:
			// The end of the burst: the carrier drops next.
		}
	}
}

// takeBlock appends the partial page's data to dst, most significant bit
// first (missing frames, after EOR, left out), and forgets it.
func (s *Session) takeBlock(dst []byte) []byte {
	for i := range s.blkN {
		for _, b := range s.blk[i][:max(s.blkLen[i], 0)] {
			dst = append(dst, bits.Reverse8(b))
		}
	}
	s.clearBlock()
	return dst
}

// clearBlock forgets the partial page's frames.
func (s *Session) clearBlock() {
	for i := range s.blkLen {
		s.blkLen[i] = -1
	}
	s.blkN = 0
}

// onPPS answers a PPS (or an EOR, which accepts the partial page as it is).
func (s *Session) onPPS(fcf byte, fif []byte) {
	if fcf == fcfEOR && len(fif) >= 1 {
		// EOR names only what follows; it is about the partial page
		// being received.
		fif = []byte{fif[0], byte(s.rxPage), byte(s.rxBlock), byte(max(s.blkN, 1) - 1)}
	}
	if len(fif) < 4 {
		s.logf("short %s", fcfName(fcf))
		return
	}
	next, page, block, n := normalise(fif[0]), int(fif[1]), int(fif[2]), int(fif[3])+1
	if page != s.rxPage&0xff || block != s.rxBlock&0xff {
		// Our MCF to the previous partial page went missing: again.
		s.logf("%s for page %d block %d again", fcfName(fcf), page, block)
		s.respond(fcfMCF, s.st)
		return
	}
	s.blkN = max(s.blkN, n)
	var ppr [32]byte
	missing := 0
	for i := range s.blkN {
		if s.blkLen[i] < 0 {
			ppr[i/8] |= 1 << (i % 8)
			missing++
		}
	}
	if missing > 0 && fcf != fcfEOR {
		s.logf("partial page %d: %d of %d frames missing", block, missing, s.blkN)
		s.lastResp = fcfPPR
		s.pending = append(s.pending[:0], s.frame(fcfPPR, true, ppr[:]...)...)
		s.after = stWaitPage
		s.logf("tx PPR")
		s.enter(stSendResp)
		return
	}
	// The partial page is in: its data joins the page's.
	s.pageData = s.takeBlock(s.pageData)
	s.rxBlock++
	resp := byte(fcfMCF)
	if fcf == fcfEOR {
		resp = fcfERR
	}
	after := stWaitPage
	if next != fcfNULL {
		s.ecmPageDone()
		s.lastPost = next
		switch next {
		case fcfEOP:
			after = stWaitCmd
		case fcfEOM:
			after = stSendDIS
		}
	}
	s.respond(resp, after)
	if next != fcfNULL && resp == fcfMCF {
		s.lastResp = fcfMCF
	}
}

// ecmPageDone decodes the page the partial pages made.
func (s *Session) ecmPageDone() {
	pg, st, err := decodePage(&s.dec, s.p, s.pageData)
	switch {
	case err != nil:
		s.logf("rx page %d (ECM) does not decode: %v", len(s.received)+1, err)
	case st.Rows == 0:
		s.logf("rx page %d (ECM): no rows", len(s.received)+1)
	default:
		s.logf("rx page %d (ECM): %d rows, %d bad, end %v", len(s.received)+1, st.Rows, st.BadRows, st.End)
		s.received = append(s.received, pg)
		s.result.Pages++
	}
	s.pageData = s.pageData[:0]
	s.rxPage++
	s.rxBlock = 0
}
