package qam

import (
	"math"

	"callbox/dsp/fax/internal/dds"
)

// TxUnit is the transmitter's constellation unit: symbols are given in
// 1/TxUnit.
const TxUnit = 1024

// txShift scales the shaper's sums to samples.
const txShift = 12

// Shaper turns symbols into passband samples. It writes the modulated
// signal as sum_k Re{b_k p(t - kT)}, where b_k is the symbol turned by the
// carrier phase at its own time and p the pulse already on the carrier, so
// that a sample costs two multiplies per overlapping symbol and no mixing.
type Shaper struct {
	phases, step int     // symbol clock: +step per sample, a symbol every phases
	span         int     // symbols the pulse covers
	pre, pim     []int32 // pulse on the carrier, [phase][span], newest symbol first
	bre, bim     []int32 // the last span symbols turned, twice over (no wrap in the sum)
	pos          int
	phase        int
	rot, rotStep uint32 // carrier phase at the next symbol; its step per symbol
	// scale is the amplitude gain built into the pulse tables.
	scale float64

	// On 64-bit machines each symbol is scattered at its arrival onto the
	// samples its pulse covers, two samples a multiply: out holds pairs of
	// sums (even sample low, odd high, see dotPacked), spread[t] the pulse
	// for arrival phase t/2 and sample parity t%2, packed the same way.
	out      [outPairs]int64
	spreadRe [][]int64
	spreadIm [][]int64
	n        int // samples produced (its parity places the pairs)
}

// outPairs is the scatter ring's length in sample pairs (a power of two
// beyond any pulse's length in samples).
const outPairs = 64

// NewShaper returns a shaper for a symbol rate of baud (8000*step/phases
// exactly), carrier hz, root-raised-cosine roll-off beta over span symbols,
// scaled so that symbols of RMS magnitude rms (in constellation units) come
// out at levelDBm0.
func NewShaper(baud, phases, step int, hz, beta float64, span int, rms, levelDBm0 float64) *Shaper {
	s := &Shaper{phases: phases, step: step, span: span}
	s.pre = make([]int32, phases*span)
	s.pim = make([]int32, phases*span)
	s.bre = make([]int32, 2*span)
	s.bim = make([]int32, 2*span)
	s.rotStep = uint32(int64(math.Round(hz/float64(baud)*(1<<32))) & 0xffffffff)
	s.SetLevel(baud, hz, beta, rms, levelDBm0)
	return s
}

// SetLevel rebuilds the pulse tables for another level or constellation
// power (set-up work, done when a transmission starts).
func (s *Shaper) SetLevel(baud int, hz, beta, rms, levelDBm0 float64) {
	amp := 32767 * math.Pow(10, (levelDBm0-3.14)/20) // peak of a sine at the level
	s.scale = amp / (TxUnit * rms)
	sps := 8000 / float64(baud) // samples per symbol
	delay := float64(s.span) / 2
	for ph := range s.phases {
		for k := range s.span {
			t := float64(k) + float64(ph)/float64(s.phases) - delay // symbols
			g := RRC(t, beta) * s.scale * (1 << txShift)
			w := 2 * math.Pi * hz / 8000 * t * sps
			s.pre[ph*s.span+k] = int32(math.Round(g * math.Cos(w)))
			s.pim[ph*s.span+k] = int32(math.Round(g * math.Sin(w)))
		}
	}
	if wide {
		s.buildSpread()
	}
}

// buildSpread derives the scatter tables from the gather ones: for a
// symbol arriving at phase a (0 <= a < step), the coefficients of the
// samples from its arrival on, while it is among the span newest symbols.
func (s *Shaper) buildSpread() {
	s.spreadRe = make([][]int64, 2*s.step)
	s.spreadIm = make([][]int64, 2*s.step)
	for a := range s.step {
		var cr, ci []int32
		for ph, k := a, 0; k < s.span; {
			cr = append(cr, s.pre[ph*s.span+k])
			ci = append(ci, s.pim[ph*s.span+k])
			if ph += s.step; ph >= s.phases {
				ph -= s.phases
				k++
			}
		}
		for parity := range 2 {
			// An odd arrival starts in the high half of a pair.
			r := append(make([]int32, parity), cr...)
			m := append(make([]int32, parity), ci...)
			if len(r)%2 == 1 {
				r, m = append(r, 0), append(m, 0)
			}
			pr := make([]int64, len(r)/2)
			pm := make([]int64, len(r)/2)
			for i := range pr {
				pr[i] = int64(r[2*i]) + int64(r[2*i+1])<<32
				pm[i] = int64(m[2*i]) + int64(m[2*i+1])<<32
			}
			s.spreadRe[2*a+parity], s.spreadIm[2*a+parity] = pr, pm
		}
	}
}

// Reset clears the symbol history and clocks, for a new transmission.
func (s *Shaper) Reset() {
	clear(s.bre)
	clear(s.bim)
	clear(s.out[:])
	s.pos, s.phase, s.rot, s.n = 0, 0, 0, 0
}

// SymbolSource supplies a transmitter's symbols.
type SymbolSource interface {
	// Symbol returns the next symbol (in 1/TxUnit), or ok false when the
	// transmission is over.
	Symbol() (p Point, ok bool)
}

// Fill writes samples to dst, taking symbols from src as they fall due. It
// returns the samples written: fewer than len(dst) once src is over (the
// transmission then ends at that symbol boundary).
func (s *Shaper) Fill(dst []int16, src SymbolSource) int {
	if wide {
		return s.fillWide(dst, src)
	}
	n := s.span
	phase, step, phases := s.phase, s.step, s.phases
	br := s.bre[s.pos : s.pos+n]
	bi := s.bim[s.pos : s.pos+n]
	for i := range dst {
		if phase += step; phase >= phases {
			phase -= phases
			p, ok := src.Symbol()
			if !ok {
				s.phase = phase
				return i
			}
			s.push(p)
			br = s.bre[s.pos : s.pos+n]
			bi = s.bim[s.pos : s.pos+n]
		}
		pr := s.pre[phase*n : phase*n+n]
		pi := s.pim[phase*n : phase*n+n]
		pr, pi = pr[:len(br)], pi[:len(br)]
		bi := bi[:len(br)]
		var acc int32
		for k, b := range br {
			acc += b*pr[k] - bi[k]*pi[k]
		}
		v := acc >> txShift
		if v != int32(int16(v)) {
			v = max(-32768, min(32767, v))
		}
		dst[i] = int16(v)
	}
	s.phase = phase
	return len(dst)
}

// fillWide is Fill by scattering symbols (64-bit machines), reading the
// sums a pair at a time.
func (s *Shaper) fillWide(dst []int16, src SymbolSource) int {
	phase, step, phases, n := s.phase, s.step, s.phases, s.n
	out := &s.out
	i := 0
	for i < len(dst) {
		if phase += step; phase >= phases {
			phase -= phases
			p, ok := src.Symbol()
			if !ok {
				break
			}
			s.scatter(p, 2*phase+n&1, n>>1)
		}
		pair := &out[(n>>1)&(outPairs-1)]
		if n&1 == 0 && i+1 < len(dst) {
			// The next sample's symbol, if one is due, before the
			// pair is read.
			next := phase + step
			if next >= phases {
				next -= phases
				p, ok := src.Symbol()
				if !ok {
					lo, _ := unpack(*pair)
					dst[i] = toSample(lo)
					i, n = i+1, n+1
					break
				}
				s.scatter(p, 2*next+1, n>>1)
			}
			phase = next
			lo, hi := unpack(*pair)
			*pair = 0 // both samples are out: the pair is free
			dst[i], dst[i+1] = toSample(lo), toSample(hi)
			i, n = i+2, n+2
			continue
		}
		lo, hi := unpack(*pair)
		v := lo
		if n&1 == 1 {
			v = hi
			*pair = 0
		}
		dst[i] = toSample(v)
		i, n = i+1, n+1
	}
	s.phase, s.n = phase, n
	return i
}

// toSample scales a sum to a sample, saturating.
func toSample(v int32) int16 {
	v >>= txShift
	if v != int32(int16(v)) {
		v = max(-32768, min(32767, v))
	}
	return int16(v)
}

// scatter adds symbol p, turned by the carrier phase at its time, onto the
// pairs from base on, with the pulse of arrival phase and parity t.
func (s *Shaper) scatter(p Point, t, base int) {
	c, sn := dds.CosSin(s.rot)
	b := Rotate(p, c, sn)
	s.rot += s.rotStep
	re, im := s.spreadRe[t], s.spreadIm[t]
	im = im[:len(re)]
	br, bi := int64(b.Re), int64(b.Im)
	out := &s.out
	for k, r := range re {
		out[(base+k)&(outPairs-1)] += br*r - bi*im[k]
	}
}

// push adds the next symbol (in 1/TxUnit), turned by the carrier's phase
// at its time.
func (s *Shaper) push(p Point) {
	c, sn := dds.CosSin(s.rot)
	b := Rotate(p, c, sn)
	s.rot += s.rotStep
	if s.pos--; s.pos < 0 {
		s.pos = s.span - 1
	}
	s.bre[s.pos], s.bre[s.pos+s.span] = b.Re, b.Re
	s.bim[s.pos], s.bim[s.pos+s.span] = b.Im, b.Im
}
