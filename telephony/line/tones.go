package line

import (
	"fmt"

	"callbox/dsp/tone"
)

// tonePlayer plays the tones of one plan. Every generator is made up front,
// so switching tones per call allocates nothing.
type tonePlayer struct {
	plan tone.Plan
	gens map[string]*tone.Generator
	cur  *tone.Generator
	name string
}

func newTonePlayer(p tone.Plan) *tonePlayer {
	tp := &tonePlayer{plan: p, gens: make(map[string]*tone.Generator, len(p.Tones))}
	for _, t := range p.Tones {
		tp.gens[t.Name] = tone.NewGenerator(t)
	}
	return tp
}

// play starts the named tone from its beginning ("" is silence); a tone
// already playing goes on undisturbed.
func (tp *tonePlayer) play(name string) error {
	if name == "" {
		tp.stop()
		return nil
	}
	if name == tp.name {
		return nil
	}
	g, ok := tp.gens[name]
	if !ok {
		return fmt.Errorf("line: %w: %q in plan %s", tone.ErrUnknownTone, name, tp.plan.Country)
	}
	g.Reset()
	tp.cur, tp.name = g, name
	return nil
}

func (tp *tonePlayer) stop() { tp.cur, tp.name = nil, "" }

// read fills f with the current tone, or silence.
func (tp *tonePlayer) read(f *Frame) {
	if tp.cur == nil {
		clear(f[:])
		return
	}
	tp.cur.Read(f[:])
}

// mix adds the current tone to f, saturating; nothing when silent.
func (tp *tonePlayer) mix(f *Frame, tmp *Frame) {
	if tp.cur == nil {
		return
	}
	tp.cur.Read(tmp[:])
	for i, s := range tmp {
		f[i] = sat16(int32(f[i]) + int32(s))
	}
}

func sat16(v int32) int16 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}
