package t30

import (
	"callbox/dsp/fax/t4"
)

// enter moves the session to st and starts what st does.
func (s *Session) enter(st state) {
	s.st, s.since = st, s.clock
	s.tx = txSilence
	s.timer = 0
	switch st {
	case stCallWaitDIS:
		s.hear(false)
		s.startTone(1100, second/2, 3*second) // CNG
		s.timer = s.t1
	case stSendDCS:
		var frames [][]byte
		if s.cfg.Ident != "" {
			frames = append(frames, s.frame(fcfTSI, false, identFIF(s.cfg.Ident)...))
		}
		frames = append(frames, s.frame(fcfDCS, true, dcsFIF(s.p)...))
		s.logf("tx DCS %d bit/s %v %s%s", s.p.rate.bps, s.p.coding, resName(s.p.fine), s.p.ecmName())
		s.sendFrames(gap75, frames...)
	case stSendTCF:
		s.zeros.n = s.p.rate.bps * tcfLen / second
		s.logf("tx TCF")
		s.startFast(&s.zeros, gap75)
	case stWaitCFR, stWaitPostResp:
		s.hear(false)
		s.timer = s.clock + timeT4
	case stSendPage:
		if err := s.encodePage(); err != nil {
			s.fail(err)
			return
		}
		s.logf("tx page %d (%d bytes)", s.page+1, len(s.encBuf))
		s.pageSrc = byteSource{b: s.encBuf}
		s.startFast(&s.pageSrc, gap75)
	case stSendPost:
		fcf := byte(fcfMPS)
		if s.page == len(s.cfg.Pages)-1 {
			fcf = fcfEOP
		}
		s.lastPost = fcf
		s.logf("tx %s", fcfName(fcf))
		s.sendFrames(gap75, s.frame(fcf, true))
	case stSendDCN:
		s.logf("tx DCN")
		s.sendFrames(gap75, s.frame(fcfDCN, true))
	case stAnsCED:
		s.startTone(2100, 3*second, 0) // CED
		s.gap = second / 5
		s.timer = s.t1
	case stSendDIS:
		var frames [][]byte
		if s.cfg.Ident != "" {
			frames = append(frames, s.frame(fcfCSI, false, identFIF(s.cfg.Ident)...))
		}
		frames = append(frames, s.frame(fcfDIS, true, disFIF(s.modems, !s.cfg.NoMR, !s.cfg.NoECM)...))
		s.logf("tx DIS")
		s.sendFrames(gap75, frames...)
	case stWaitCmd:
		s.hear(false)
		if s.p.rate.bps == 0 {
			s.timer = s.clock + timeT4 // repeat DIS
		} else {
			s.timer = s.clock + timeT2
		}
	case stRecvTCF:
		s.hear(true)
		s.fastIn.keep = false
		s.timer = s.clock + timeT4
	case stSendResp:
		s.sendFrames(gap75, s.pending)
	case stWaitPage:
		s.hear(true)
		s.fastIn.keep = true
		s.timer = s.clock + timeT2
	case stWaitPost:
		s.hear(false)
		s.timer = s.clock + timeT2
	case stSendECM:
		s.logf("tx page %d partial page %d: %d frames", s.page+1, s.block, countTrue(s.resend[:s.nframes]))
		s.startBurst()
	case stSendPPS:
		f := s.ecmCommand()
		s.logf("tx %s", fcfName(s.ecmCmd))
		s.sendFrames(gap75, f)
	case stWaitPPSResp:
		s.hear(false)
		s.timer = s.clock + timeT4
	case stDone:
		s.listen = false
		if s.failure != nil {
			s.result.Err = s.failure
		}
		s.logf("done: %d pages, %v", s.result.Pages, s.result.Err)
	}
}

func resName(fine bool) string {
	if fine {
		return "fine"
	}
	return "standard"
}

// txDone is called when a transmission has gone out.
func (s *Session) txDone() {
	s.tx = txSilence
	switch s.st {
	case stSendDCS:
		s.enter(stSendTCF)
	case stSendTCF:
		s.enter(stWaitCFR)
	case stSendPage:
		s.enter(stSendPost)
	case stSendPost:
		s.enter(stWaitPostResp)
	case stSendDCN:
		s.enter(stDone)
	case stAnsCED:
		s.enter(stSendDIS)
	case stSendDIS:
		s.enter(stWaitCmd)
	case stSendResp:
		s.enter(s.after)
	case stSendECM:
		s.ecmCmd = fcfPPS
		s.enter(stSendPPS)
	case stSendPPS:
		s.enter(stWaitPPSResp)
	}
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// respond sends a response frame, then goes to next.
func (s *Session) respond(fcf byte, next state) {
	s.logf("tx %s", fcfName(fcf))
	s.lastResp = fcf
	s.pending = append(s.pending[:0], s.frame(fcf, true)...)
	s.after = next
	s.enter(stSendResp)
}

// fail ends the session with err, sending DCN first.
func (s *Session) fail(err error) {
	s.failure = err
	s.logf("failed: %v", err)
	s.enter(stSendDCN)
}

// handleFrames acts on the frames received and on the image modem's news.
func (s *Session) handleFrames() {
	for s.fcount > 0 && s.listen && s.st != stDone {
		slot := &s.frames[s.fhead]
		s.fhead = (s.fhead + 1) % len(s.frames)
		s.fcount--
		s.onFrame(slot.buf[:slot.n])
	}
	if !s.listen || !s.fastIn.down {
		return
	}
	switch s.st {
	case stRecvTCF:
		// TCF passes with a second of clean zeros in its 1.5 s.
		ok := s.fastIn.trained && s.fastIn.maxZeros >= s.p.rate.bps
		s.logf("rx TCF: %d bits, longest run of zeros %d", s.fastIn.bits, s.fastIn.maxZeros)
		if ok {
			s.respond(fcfCFR, stWaitPage)
		} else {
			s.respond(fcfFTT, stWaitCmd)
		}
	case stWaitPage:
		s.logf("rx page data: %d bytes", len(s.fastIn.data))
		s.enter(stWaitPost)
	}
}

// onFrame acts on one received frame.
func (s *Session) onFrame(f []byte) {
	final := f[1]&0x10 != 0
	fcf := normalise(f[2])
	fif := f[3:]
	s.logf("rx %s", fcfName(fcf))
	switch fcf {
	case fcfCSI, fcfTSI:
		s.result.RemoteIdent = parseIdent(fif)
		return
	case fcfNSF, fcfNSS, fcfCIG, fcfNSC:
		return
	case fcfDCN:
		if s.cfg.Calling || s.lastPost != fcfEOP || s.lastResp != fcfMCF {
			s.failure = ErrDisconnected
		}
		s.enter(stDone)
		return
	}
	if !final {
		return
	}
	if s.cfg.Calling {
		s.onSenderFrame(fcf, fif)
	} else {
		s.onReceiverFrame(fcf, fif)
	}
}

// ---- the calling side: sending a document ----

func (s *Session) onSenderFrame(fcf byte, fif []byte) {
	switch s.st {
	case stCallWaitDIS:
		if fcf != fcfDIS {
			return
		}
		s.remote = parseDIS(fif)
		if err := s.choose(); err != nil {
			s.fail(err)
			return
		}
		s.tries = 1
		s.enter(stSendDCS)
	case stWaitCFR:
		switch fcf {
		case fcfCFR:
			s.tries = 0
			s.sendPage()
		case fcfFTT:
			if !s.fallBack() {
				s.fail(ErrTraining)
				return
			}
			s.tries = 1
			s.enter(stSendDCS)
		case fcfDIS:
			// Our DCS was not heard: the answerer repeats DIS.
			s.retryOr(stSendDCS)
		case fcfCRP:
			s.retryOr(stSendDCS)
		}
	case stWaitPPSResp:
		s.onPPSResponse(fcf, fif)
	case stWaitPostResp:
		switch fcf {
		case fcfMCF, fcfPIP, fcfRTP:
			s.result.Pages++
			s.tries, s.rtn = 0, 0
			if s.lastPost == fcfEOP {
				s.enter(stSendDCN)
				return
			}
			s.page++
			if fcf == fcfRTP {
				// Good, but train again before the next page.
				s.tries = 1
				s.enter(stSendDCS)
				return
			}
			s.sendPage()
		case fcfRTN, fcfPIN:
			// Retrain and send the page again; from the second refusal
			// on, at a lower rate if there is one.
			if s.rtn++; s.rtn > maxRTN {
				s.fail(ErrRejected)
				return
			}
			if s.rtn > 1 {
				s.fallBack()
			}
			s.tries = 1
			s.enter(stSendDCS)
		case fcfCRP:
			s.retryOr(stSendPost)
		}
	}
}

// sendPage starts sending the current page: in one burst, or in ECM
// partial pages.
func (s *Session) sendPage() {
	if !s.p.ecm {
		s.enter(stSendPage)
		return
	}
	if err := s.startPage(); err != nil {
		s.fail(err)
		return
	}
	s.enter(stSendECM)
}

// retryOr repeats a command (entering st) unless it has been sent too
// often.
func (s *Session) retryOr(st state) {
	if s.tries++; s.tries > maxTries {
		s.fail(ErrNoResponse)
		return
	}
	s.enter(st)
}

// choose picks the parameters for the document from the remote's DIS.
func (s *Session) choose() error {
	r := s.remote
	if !r.receive {
		return ErrIncompatible
	}
	s.rateIdx = -1
	for i, rt := range fallback {
		if rt.modem&r.modems&s.modems != 0 {
			s.rateIdx = i
			break
		}
	}
	if s.rateIdx < 0 {
		return ErrIncompatible
	}
	first := s.cfg.Pages[0]
	for _, p := range s.cfg.Pages {
		if p.Width > r.width || p.Width != first.Width {
			return ErrIncompatible
		}
	}
	s.p = params{rate: fallback[s.rateIdx], coding: t4.MH, width: first.Width, scanMS: r.scanMS}
	if r.mr && !s.cfg.NoMR {
		s.p.coding = t4.MR
	}
	s.p.fine = r.fine && first.YRes > t4.YResStandard+10
	if r.ecm && !s.cfg.NoECM {
		// ECM: no minimum scan line time; MMR when the receiver has it.
		s.p.ecm, s.p.scanMS, s.p.small = true, 0, s.cfg.SmallFrames
		if r.mmr && !s.cfg.NoMR {
			s.p.coding = t4.MMR
		}
	}
	s.result.Rate, s.result.Coding, s.result.Fine, s.result.ECM = s.p.rate.bps, s.p.coding, s.p.fine, s.p.ecm
	return nil
}

// fallBack moves to the next lower rate both ends have; false if none.
func (s *Session) fallBack() bool {
	for i := s.rateIdx + 1; i < len(fallback); i++ {
		if fallback[i].modem&s.remote.modems&s.modems != 0 {
			s.rateIdx = i
			s.p.rate = fallback[i]
			s.result.Rate = fallback[i].bps
			s.logf("falling back to %d bit/s", fallback[i].bps)
			return true
		}
	}
	return false
}

// encodePage codes the current page for the line at the agreed
// resolution, coding and minimum scan line time.
func (s *Session) encodePage() error {
	pg := s.cfg.Pages[s.page]
	yres := t4.YResStandard
	if s.p.fine {
		yres = t4.YResFine
	}
	if (pg.YRes > t4.YResStandard+10) != s.p.fine {
		var err error
		if pg, err = t4.FromImage(pg, t4.FitOptions{Width: pg.Width, YRes: yres, Height: 2 * pg.Height, Dither: t4.Threshold}); err != nil {
			return err
		}
	}
	var err error
	s.encBuf, err = s.enc.Encode(s.encBuf[:0], pg, t4.EncodeOptions{
		Coding:     s.p.coding,
		Layout:     t4.Line,
		MinRowBits: s.p.rate.bps * s.p.scanMS / 1000,
	})
	return err
}

// ---- the answering side: receiving a document ----

func (s *Session) onReceiverFrame(fcf byte, fif []byte) {
	switch fcf {
	case fcfDCS:
		p, ok := parseDCS(fif)
		if !ok || p.rate.modem&s.modems == 0 {
			s.logf("DCS asks for a modem we do not have")
			s.respond(fcfFTT, stWaitCmd)
			return
		}
		for i, r := range fallback {
			if r == p.rate {
				s.rateIdx = i
			}
		}
		s.p = p
		s.logf("DCS: %d bit/s %v %s%s", p.rate.bps, p.coding, resName(p.fine), p.ecmName())
		s.result.Rate, s.result.Coding, s.result.Fine, s.result.ECM = p.rate.bps, p.coding, p.fine, p.ecm
		if p.ecm && s.blk == nil {
			s.blk = new([256][ecmFrameLen]byte)
			s.clearBlock()
		}
		s.enter(stRecvTCF)
	case fcfPPS, fcfEOR:
		if s.st != stWaitPost && s.st != stWaitPage && s.st != stWaitCmd || !s.p.ecm {
			return
		}
		s.onPPS(fcf, fif)
	case fcfCTC:
		// Continue at the rate CTC names (DCS's bits 11-14).
		if len(fif) >= 2 {
			for i, r := range fallback {
				if fif[1]&0x3c == r.code && r.modem&s.modems != 0 {
					s.rateIdx, s.p.rate = i, r
					s.result.Rate = r.bps
				}
			}
		}
		s.respond(fcfCTR, stWaitPage)
	case fcfRR:
		s.respond(fcfMCF, s.st)
	case fcfMPS, fcfEOP, fcfEOM, fcfPRIMPS, fcfPRIEOP, fcfPRIEOM:
		if s.st != stWaitPost && s.st != stWaitPage && s.st != stWaitCmd {
			return
		}
		post := fcf &^ 0x10 // procedure interrupts count as their plain kind
		var resp byte
		switch {
		case s.st == stWaitCmd && post == s.lastPost:
			// Our answer was lost: say it again.
			resp = s.lastResp
		case s.st == stWaitCmd:
			return
		default:
			resp = s.judgePage()
		}
		s.lastPost = post
		next := stWaitPage
		switch {
		case post == fcfEOP || resp == fcfRTN:
			next = stWaitCmd
		case post == fcfEOM:
			next = stSendDIS
		}
		s.respond(resp, next)
	}
}

// judgePage decodes the page just received and says whether to keep it.
func (s *Session) judgePage() byte {
	f := &s.fastIn
	if !f.trained || len(f.data) == 0 {
		s.logf("no page data")
		return fcfRTN
	}
	pg, st, err := decodePage(&s.dec, s.p, f.data)
	s.logf("rx page %d: %d rows, %d bad (longest run %d), %d of %d bits bad, end %v", len(s.received)+1, st.Rows, st.BadRows, st.MaxBadRun, st.BadBits, st.Bits, st.End)
	// Copy quality: at most 5% of the rows (and of the data) bad, no long
	// streak of bad rows.
	if err != nil || st.Rows == 0 || st.BadRows*20 > st.Rows || st.BadBits*20 > st.Bits || st.MaxBadRun > 16 {
		return fcfRTN
	}
	s.received = append(s.received, pg)
	s.result.Pages++
	f.data = f.data[:0]
	return fcfMCF
}

// timeout acts when the current wait runs out.
func (s *Session) timeout() {
	switch s.st {
	case stCallWaitDIS:
		s.failure = ErrNoFax
		s.enter(stDone)
	case stWaitCFR:
		s.retryOr(stSendDCS)
	case stWaitPostResp:
		s.retryOr(stSendPost)
	case stWaitPPSResp:
		s.retryOr(stSendPPS)
	case stWaitCmd:
		switch {
		case s.lastPost == fcfEOP && s.lastResp == fcfMCF:
			s.enter(stDone) // the document is in; the DCN went missing
		case s.p.rate.bps == 0 && s.clock < s.t1:
			s.enter(stSendDIS)
		case s.p.rate.bps == 0:
			s.failure = ErrNoFax
			s.enter(stDone)
		default:
			s.failure = ErrNoResponse
			s.enter(stDone)
		}
	case stRecvTCF, stWaitPage, stWaitPost:
		s.enter(stWaitCmd)
	}
}
