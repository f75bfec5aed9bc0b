package rtcp

import "time"

// Sequence tracking limits of RFC 3550 appendix A.1.
const (
	maxDropout    = 3000
	maxMisorder   = 100
	minSequential = 2
	seqMod        = 1 << 16
)

// Receiver keeps the reception statistics of one remote source.
type Receiver struct {
	SSRC uint32

	maxSeq         uint16
	cycles         uint32 // shifted count of sequence number wraps
	baseSeq        uint32
	badSeq         uint32
	probation      int
	received       uint32
	expectedPrior  uint32
	receivedPrior  uint32
	transit        int32
	jitter         uint32 // scaled by 16 (A.8)
	started        bool
	haveTransit    bool
	lastSRMiddle   uint32
	lastSRArrival  time.Time
	lastFraction   uint8
	duplicatesSeen uint32
}

// Packet records a packet with sequence number seq and RTP timestamp ts that
// arrived at arrival, given in the same timestamp units (the receiver's own
// sample clock). It reports whether the packet counts as valid: a source is
// on probation for its first packets, and a jump in sequence numbers is only
// believed when the next packet confirms it.
func (s *Receiver) Packet(seq uint16, ts, arrival uint32) bool {
	if !s.Sequence(seq) {
		return false
	}
	// A.8: D(i-1,i) = (Rj - Ri) - (Sj - Si), J += (|D| - J)/16.
	transit := int32(arrival - ts)
	if s.haveTransit {
		d := transit - s.transit
		if d < 0 {
			d = -d
		}
		s.jitter += uint32(d) - (s.jitter+8)>>4
	}
	s.transit, s.haveTransit = transit, true
	return true
}

// Sequence records a packet that counts for loss but not for jitter: a
// telephone-event packet, whose timestamp stays at the event's start.
func (s *Receiver) Sequence(seq uint16) bool {
	if !s.started {
		s.started = true
		s.initSeq(seq)
		s.maxSeq = seq - 1
		s.probation = minSequential
	}
	return s.updateSeq(seq)
}

func (s *Receiver) initSeq(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.badSeq = seqMod + 1
	s.cycles = 0
	s.received = 0
	s.receivedPrior = 0
	s.expectedPrior = 0
	// A restarted source has a new timestamp base: its jitter starts over.
	s.haveTransit = false
	s.jitter = 0
}

// updateSeq is RFC 3550 appendix A.1's update_seq.
func (s *Receiver) updateSeq(seq uint16) bool {
	udelta := seq - s.maxSeq
	if s.probation > 0 {
		if seq == s.maxSeq+1 {
			s.probation--
			s.maxSeq = seq
			if s.probation == 0 {
				s.initSeq(seq)
				s.received++
				return true
			}
		} else {
			s.probation = minSequential - 1
			s.maxSeq = seq
		}
		return false
	}
	switch {
	case udelta < maxDropout:
		if seq < s.maxSeq {
			s.cycles += seqMod
		}
		s.maxSeq = seq
	case udelta <= seqMod-maxMisorder:
		if uint32(seq) == s.badSeq {
			// Two sequential packets: the source restarted.
			s.initSeq(seq)
		} else {
			s.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return false
		}
	default:
		// Duplicate or reordered packet.
		s.duplicatesSeen++
	}
	s.received++
	return true
}

// SenderReport records an SR from the source, received at arrival, for the
// LSR and DLSR of the next report block.
func (s *Receiver) SenderReport(ntp uint64, arrival time.Time) {
	s.lastSRMiddle = Middle(ntp)
	s.lastSRArrival = arrival
}

// Stats are the cumulative reception figures of a source.
type Stats struct {
	Received   uint32 // valid packets
	Expected   uint32 // from the sequence numbers
	Lost       int32  // Expected - Received (negative with duplicates)
	HighestSeq uint32 // extended
	Jitter     uint32 // timestamp units
}

// Stats returns the cumulative figures.
func (s *Receiver) Stats() Stats {
	ext := s.cycles + uint32(s.maxSeq)
	st := Stats{Received: s.received, HighestSeq: ext, Jitter: s.jitter >> 4}
	if s.started && s.probation == 0 {
		st.Expected = ext - s.baseSeq + 1
		st.Lost = int32(st.Expected - s.received)
	}
	return st
}

// Block fills a report block at now and starts a new loss interval (A.3):
// the fraction lost covers the packets since the previous Block.
func (s *Receiver) Block(now time.Time) ReportBlock {
	st := s.Stats()
	expectedInterval := st.Expected - s.expectedPrior
	receivedInterval := s.received - s.receivedPrior
	s.expectedPrior, s.receivedPrior = st.Expected, s.received
	var fraction uint8
	if lost := int64(expectedInterval) - int64(receivedInterval); expectedInterval != 0 && lost > 0 {
		fraction = uint8(lost << 8 / int64(expectedInterval))
	}
	s.lastFraction = fraction
	b := ReportBlock{
		SSRC:         s.SSRC,
		FractionLost: fraction,
		TotalLost:    clampLost(st.Lost),
		HighestSeq:   st.HighestSeq,
		Jitter:       st.Jitter,
	}
	if s.lastSRMiddle != 0 {
		b.LSR = s.lastSRMiddle
		b.DLSR = uint32(now.Sub(s.lastSRArrival) * 65536 / time.Second)
	}
	return b
}

// LastFraction returns the fraction lost in the last Block, in 1/256.
func (s *Receiver) LastFraction() uint8 { return s.lastFraction }
