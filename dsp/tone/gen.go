package tone

import "math"

// Generator plays one Tone into 8 kHz int16 audio. Oscillators are phase
// accumulators over a sine table (no floating point per sample) and keep
// their phase across Read calls of any length.
type Generator struct {
	tone   Tone
	seg    int   // current segment
	left   int64 // samples left in it; <0 means forever
	plays  int   // completed passes over Segments
	inTail bool  // playing Tone.Then after the repeats
	done   bool
	oscs   [maxComponents]osc
	nosc   int
}

// maxComponents is the most frequencies a segment may mix.
const maxComponents = 4

type osc struct {
	phase, step       uint32
	amp               int32 // peak, linear
	modPhase, modStep uint32
	modDepth          int32 // Q15; 0 without modulation
}

// NewGenerator returns a generator at the start of t.
func NewGenerator(t Tone) *Generator {
	g := &Generator{tone: t}
	g.start(0)
	return g
}

// Reset restarts the tone from its beginning.
func (g *Generator) Reset() {
	*g = Generator{tone: g.tone}
	g.start(0)
}

// Done reports whether a tone with a finite number of repeats and no
// steady tail has finished; Read then writes silence.
func (g *Generator) Done() bool { return g.done }

func (g *Generator) setComponents(cs []Component) {
	g.nosc = min(len(cs), maxComponents)
	for i := range g.nosc {
		c := cs[i]
		o := &g.oscs[i]
		o.step = phaseStep(c.Hz)
		o.amp = int32(math.Round(amplitude(c.Level)))
		o.modStep = phaseStep(c.ModHz)
		o.modDepth = int32(math.Round(32767 * c.ModDepth))
		if c.ModHz == 0 {
			o.modDepth = 0
		}
	}
}

func (g *Generator) start(seg int) {
	segs := g.tone.Segments
	if len(segs) == 0 {
		g.done = true
		return
	}
	g.seg = seg
	s := segs[seg]
	g.setComponents(s.Freqs)
	if s.MS <= 0 {
		g.left = -1
	} else {
		g.left = int64(s.MS) * fs / 1000
	}
}

// next moves to the segment after the current one.
func (g *Generator) next() {
	if g.seg+1 < len(g.tone.Segments) {
		g.start(g.seg + 1)
		return
	}
	g.plays++
	if g.tone.Repeat > 0 && g.plays >= g.tone.Repeat {
		if len(g.tone.Then) == 0 {
			g.done = true
			g.nosc = 0
			return
		}
		g.inTail = true
		g.setComponents(g.tone.Then)
		g.left = -1
		return
	}
	g.start(0)
}

// Read fills out with the tone and returns len(out).
func (g *Generator) Read(out []int16) int {
	n := len(out)
	for len(out) > 0 {
		if g.done {
			clear(out)
			break
		}
		k := len(out)
		if g.left >= 0 && int64(k) > g.left {
			k = int(g.left)
		}
		g.render(out[:k])
		out = out[k:]
		if g.left >= 0 {
			g.left -= int64(k)
			if g.left == 0 {
				g.next()
			}
		}
	}
	return n
}

func (g *Generator) render(out []int16) {
	clear(out)
	for i := range g.nosc {
		o := &g.oscs[i]
		ph, st, amp := o.phase, o.step, o.amp
		if o.modDepth == 0 {
			for j := range out {
				v := int32(out[j]) + (sinQ15(ph)*amp)>>15
				out[j] = int16(max(-32768, min(32767, v)))
				ph += st
			}
		} else {
			mph, mst, md := o.modPhase, o.modStep, o.modDepth
			for j := range out {
				env := 32768 + (sinQ15(mph)*md)>>15 // 1 + m sin, Q15
				s := (sinQ15(ph) * amp) >> 15
				v := int32(out[j]) + int32((int64(s)*int64(env))>>15)
				out[j] = int16(max(-32768, min(32767, v)))
				ph += st
				mph += mst
			}
			o.modPhase = mph
		}
		o.phase = ph
	}
}
