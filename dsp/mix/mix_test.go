package mix

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func noise(seed uint64, n int, rms float64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(max(-32768, min(32767, math.Round(r.NormFloat64()*rms))))
	}
	return s
}

func power(s []int16) float64 {
	var p float64
	for _, v := range s {
		p += float64(v) * float64(v)
	}
	return p / float64(max(1, len(s)))
}

func TestGainDB(t *testing.T) {
	for _, tc := range []struct {
		db   float64
		want float64 // linear factor
	}{
		{0, 1}, {6.0206, 2}, {-6.0206, 0.5}, {20, 10}, {-20, 0.1}, {24, 15.849}, {30, 15.849}, {-60, 0.001}, {-61, 0}, {math.Inf(-1), 0}, {math.NaN(), 0},
	} {
		g := GainDB(tc.db)
		got := float64(g) / float64(Unity)
		// 0.25 dB steps: within 1.5 % (and exact zero for a mute).
		if math.Abs(got-tc.want) > 0.015*tc.want+1e-4 {
			t.Errorf("GainDB(%v) = %v, want %v", tc.db, got, tc.want)
		}
	}
	if GainDB(0) != Unity {
		t.Errorf("GainDB(0) = %d, want Unity", GainDB(0))
	}
	if d := GainDB(-12).DB(); math.Abs(d+12) > 0.01 {
		t.Errorf("GainDB(-12).DB() = %v", d)
	}
}

func TestGainApply(t *testing.T) {
	src := []int16{0, 1, -1, 100, -100, 20000, -20000, 32767, -32768}
	for _, tc := range []struct {
		g    Gain
		want []int16
	}{
		{Unity, src},
		{0, make([]int16, len(src))},
		{Unity * 2, []int16{0, 2, -2, 200, -200, 32767, -32768, 32767, -32768}},
		{Unity / 2, []int16{0, 1, 0, 50, -50, 10000, -10000, 16384, -16384}},
	} {
		dst := make([]int16, len(src))
		tc.g.Apply(dst, src)
		if !slices.Equal(dst, tc.want) {
			t.Errorf("gain %d: %v, want %v", tc.g, dst, tc.want)
		}
	}
	// In place.
	s := slices.Clone(src)
	(Unity * 2).Apply(s, s)
	if s[3] != 200 {
		t.Errorf("in place: %v", s)
	}
}

// reference mixes with float64 and the same rounding, then saturates.
func reference(in [][]int16, gin, gout []Gain) [][]int16 {
	out := make([][]int16, len(in))
	for p := range in {
		out[p] = make([]int16, len(in[0]))
		for i := range out[p] {
			var sum int64
			for q := range in {
				if q != p && in[q] != nil {
					sum += int64(gin[q].scale(in[q][i]))
				}
			}
			v := (sum*int64(gout[p]) + 1<<(gainShift-1)) >> gainShift
			out[p][i] = int16(max(-32768, min(32767, v)))
		}
	}
	return out
}

func TestMixer(t *testing.T) {
	const n = 400
	for _, tc := range []struct {
		name       string
		parties    int
		rms        float64
		gin, gout  func(p int) Gain
		silentLast bool
	}{
		{"3 parties unity", 3, 3000, nil, nil, false},
		{"8 parties loud saturating", 8, 15000, nil, nil, false},
		{"30 parties", 30, 1000, nil, nil, false},
		{"gains", 5, 4000, func(p int) Gain { return GainDB(float64(p*3 - 6)) }, func(p int) Gain { return GainDB(float64(6 - 2*p)) }, false},
		{"muted and silent", 4, 4000, func(p int) Gain {
			if p == 1 {
				return 0
			}
			return Unity
		}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMixer(tc.parties, n)
			if err != nil {
				t.Fatal(err)
			}
			gin := make([]Gain, tc.parties)
			gout := make([]Gain, tc.parties)
			in := make([][]int16, tc.parties)
			out := make([][]int16, tc.parties)
			for p := range in {
				gin[p], gout[p] = Unity, Unity
				if tc.gin != nil {
					gin[p] = tc.gin(p)
				}
				if tc.gout != nil {
					gout[p] = tc.gout(p)
				}
				m.SetInputGain(p, gin[p])
				m.SetOutputGain(p, gout[p])
				in[p] = noise(uint64(p+1), n, tc.rms)
				out[p] = make([]int16, n)
			}
			if tc.silentLast {
				in[tc.parties-1] = nil
			}
			m.Mix(out, in)
			want := reference(in, gin, gout)
			for p := range out {
				if !slices.Equal(out[p], want[p]) {
					t.Errorf("party %d hears the wrong mix", p)
				}
			}
		})
	}
}

// TestMixerNoSelf: a party alone talking hears silence; the others hear it.
func TestMixerNoSelf(t *testing.T) {
	m, _ := NewMixer(3, 80)
	talk := noise(9, 80, 5000)
	in := [][]int16{talk, make([]int16, 80), make([]int16, 80)}
	out := [][]int16{make([]int16, 80), make([]int16, 80), make([]int16, 80)}
	m.Mix(out, in)
	if power(out[0]) != 0 {
		t.Error("the talker hears itself")
	}
	if !slices.Equal(out[1], talk) || !slices.Equal(out[2], talk) {
		t.Error("the listeners do not hear the talker unchanged")
	}
}

// TestMixerAlias: out may alias in.
func TestMixerAlias(t *testing.T) {
	const n = 160
	in := [][]int16{noise(1, n, 3000), noise(2, n, 3000), noise(3, n, 3000)}
	want := reference(in, []Gain{Unity, Unity, Unity}, []Gain{Unity, GainDB(-6), Unity})
	m, _ := NewMixer(3, n)
	m.SetOutputGain(1, GainDB(-6))
	m.Mix(in, in)
	for p := range in {
		if !slices.Equal(in[p], want[p]) {
			t.Errorf("party %d wrong when mixing in place", p)
		}
	}
}

func TestNewMixer(t *testing.T) {
	for _, n := range []int{-1, 0, 1, MaxParties + 1} {
		if _, err := NewMixer(n, 80); !errors.Is(err, errParties) {
			t.Errorf("NewMixer(%d) = %v, want errParties", n, err)
		}
	}
	if _, err := NewMixer(2, 0); err == nil {
		t.Error("NewMixer with a zero block length succeeded")
	}
}
