package t30

import (
	"callbox/dsp/fax/hdlc"
	"callbox/dsp/fax/modem"
	"callbox/dsp/fax/modem/v17"
	"callbox/dsp/fax/modem/v21"
	"callbox/dsp/fax/modem/v27ter"
	"callbox/dsp/fax/modem/v29"
	"callbox/dsp/fax/t4"
)

// Monitor decodes a fax call passively from a recording of the line: the
// sender's direction, or both directions mixed. It follows the control
// messages on V.21, starts the image modem a DCS announces, and decodes
// every burst of image data as a page with the DCS's parameters (the TCF,
// all zeros, decodes to nothing). A page answered RTN is dropped: the
// sender sends it again. In error correction mode it gathers the frames
// of each partial page, retransmissions included, and decodes the page
// once the last partial page is whole.
type Monitor struct {
	v21rx    *v21.Rx
	hdlcRx   hdlc.Rx
	v21in    monitorV21
	v17rx    *v17.Rx
	v29rx    *v29.Rx
	v27rx    *v27ter.Rx
	fastRx   modem.Receiver
	fastIn   fastSink
	p        params
	haveDCS  bool
	dec      t4.Decoder
	pages    []*t4.Page
	stats    []t4.Stats
	lastNew  bool   // the last page was added since the last response
	pageData []byte // ECM: the page's partial pages so far
	clock    int64
	sess     Session // only its event log and frame ring are used
}

// NewMonitor returns a monitor.
func NewMonitor() *Monitor {
	m := &Monitor{}
	m.v21in.m = m
	m.v21rx = v21.NewRx(&m.v21in)
	m.v17rx, _ = v17.NewRx(14400, &m.fastIn)
	m.v29rx, _ = v29.NewRx(9600, &m.fastIn)
	m.v27rx, _ = v27ter.NewRx(4800, &m.fastIn)
	m.fastIn.s = &m.sess
	m.fastIn.keep = true
	m.sess.events = make([]Event, 0, 64)
	return m
}

// monitorV21 feeds the control channel to the monitor's HDLC receiver.
type monitorV21 struct{ m *Monitor }

func (v *monitorV21) PutBit(b int) {
	m := v.m
	if m.hdlcRx.PutBit(b) != hdlc.Frame {
		return
	}
	if f := m.hdlcRx.Frame(); len(f) >= frameHeadLen && f[0] == address {
		m.frame(f)
	}
}

func (v *monitorV21) Status(modem.Status) {}

// Process takes the next block of the recording.
func (m *Monitor) Process(x []int16) {
	m.sess.clock = m.clock
	m.v21rx.Receive(x)
	if m.fastRx != nil {
		m.fastRx.Receive(x)
		if m.fastIn.down {
			m.burstEnded()
		}
	}
	m.clock += int64(len(x))
}

// Finish decodes a burst still under way when the recording ends.
func (m *Monitor) Finish() {
	if m.fastIn.trained {
		m.burstEnded()
	}
}

// Pages returns the pages decoded, and their decoding statistics.
func (m *Monitor) Pages() ([]*t4.Page, []t4.Stats) { return m.pages, m.stats }

// Events returns what the monitor saw.
func (m *Monitor) Events() []Event { return m.sess.events }

func (m *Monitor) frame(f []byte) {
	fcf := normalise(f[2])
	fif := f[3:]
	switch fcf {
	case fcfDCS:
		p, ok := parseDCS(fif)
		if !ok {
			m.sess.logf("rx DCS with an unknown modem")
			return
		}
		m.p, m.haveDCS = p, true
		m.sess.p = p
		m.sess.logf("rx DCS %d bit/s %v %s%s", p.rate.bps, p.coding, resName(p.fine), p.ecmName())
		if p.ecm && m.sess.blk == nil {
			m.sess.blk = new([256][ecmFrameLen]byte)
			m.sess.clearBlock()
		}
		switch p.rate.modem {
		case V17:
			m.v17rx.Restart(p.rate.bps, false) // the TCF's long training
			m.fastRx = m.v17rx
		case V29:
			m.v29rx.Restart(p.rate.bps)
			m.fastRx = m.v29rx
		default:
			m.v27rx.Restart(p.rate.bps)
			m.fastRx = m.v27rx
		}
		m.fastIn.reset()
		m.fastIn.ecm = p.ecm
	case fcfPPS:
		m.pps(fif)
	case fcfCSI, fcfTSI:
		m.sess.logf("rx %s %q", fcfName(fcf), parseIdent(fif))
	case fcfRTN:
		m.sess.logf("rx RTN")
		if m.lastNew && len(m.pages) > 0 {
			m.pages, m.stats = m.pages[:len(m.pages)-1], m.stats[:len(m.stats)-1]
			m.sess.logf("page %d dropped: it will come again", len(m.pages)+1)
		}
		m.lastNew = false
	case fcfMCF, fcfRTP:
		m.sess.logf("rx %s", fcfName(fcf))
		m.lastNew = false
	default:
		m.sess.logf("rx %s", fcfName(fcf))
	}
}

// pps takes a partial page the sender says is complete once all its
// frames are in (retransmitted ones included), and decodes the page at its
// end.
func (m *Monitor) pps(fif []byte) {
	s := &m.sess
	if len(fif) < 4 || s.blk == nil {
		return
	}
	next, n := normalise(fif[0]), int(fif[3])+1
	s.blkN = max(s.blkN, n)
	for i := range s.blkN {
		if s.blkLen[i] < 0 {
			m.sess.logf("rx PPS: partial page %d incomplete", fif[2])
			return // a retransmission will follow
		}
	}
	m.pageData = s.takeBlock(m.pageData)
	m.sess.logf("rx PPS-%s: partial page %d complete", fcfName(next), fif[2])
	if next == fcfNULL {
		return
	}
	if pg, st, err := decodePage(&m.dec, m.p, m.pageData); err == nil && st.Rows > 0 {
		m.pages, m.stats = append(m.pages, pg), append(m.stats, st)
		m.sess.logf("page %d: %d rows, %d bad", len(m.pages), st.Rows, st.BadRows)
	}
	m.pageData = m.pageData[:0]
}

// burstEnded decodes the image data of a burst that has ended.
func (m *Monitor) burstEnded() {
	f := &m.fastIn
	if f.trained && m.fastRx == m.v17rx {
		// After V.17's long training (the TCF's), short ones.
		m.v17rx.Restart(m.p.rate.bps, true)
	}
	if f.ecm {
		f.reset()
		return // ECM pages come together at PPS
	}
	if f.trained && f.maxZeros >= m.p.rate.bps {
		// A second of zeros: TCF, not a page.
		m.sess.logf("TCF: %d bits, longest run of zeros %d", f.bits, f.maxZeros)
	} else if f.trained && m.haveDCS && len(f.data) > 0 {
		if pg, st, err := decodePage(&m.dec, m.p, f.data); err == nil && st.Rows > st.BadRows {
			m.pages, m.stats = append(m.pages, pg), append(m.stats, st)
			m.lastNew = true
			m.sess.logf("page %d: %d rows, %d bad", len(m.pages), st.Rows, st.BadRows)
		}
	}
	f.reset()
}
