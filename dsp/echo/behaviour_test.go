package echo

import (
	"math"
	"slices"
	"testing"
)

// TestBlockSizes: feeding the same signals in blocks of 1, 80, 102, 160 or
// 1000 samples gives identical output (the tone disabler included).
func TestBlockSizes(t *testing.T) {
	const n = rate
	far := noise(5, n, farRMS)
	near := add(convolve(far, echoPath(g168Models[1], 10, 10)), concat(make([]int16, n/2), noise(6, n/2, 1500)))
	var want []int16
	for _, bs := range []int{1, 80, 102, 160, 1000} {
		c := newCanceller(t, 256)
		out := make([]int16, n)
		for i := 0; i < n; i += bs {
			j := min(i+bs, n)
			c.Process(out[i:j], near[i:j], far[i:j])
		}
		if want == nil {
			want = out
		} else if !slices.Equal(out, want) {
			t.Errorf("blocks of %d give a different output", bs)
		}
	}
}

// TestLongTail: 1024 taps (128 ms) converge on an echo 100 ms deep and stay
// stable, with near-end noise, where spandsp diverged.
func TestLongTail(t *testing.T) {
	const n = 5 * rate
	far := noise(7, n, farRMS)
	echo := convolve(far, echoPath(g168Models[3], 800, 10))
	near := add(echo, noise(8, n, 3)) // -70 dBm0 line noise
	c := newCanceller(t, 1024, WithNLP(false))
	out := run(c, near, far)
	mid := erle(echo, out, 3*rate, 4*rate)
	end := erle(echo, out, 4*rate, 5*rate)
	t.Logf("1024 taps, model D.5 behind 100 ms: ERLE %.1f dB at 3..4 s, %.1f dB at 4..5 s", mid, end)
	if mid < 35 || end < mid-1 {
		t.Errorf("1024 taps: ERLE %.1f then %.1f dB, want >= 35 and not falling", mid, end)
	}
}

// TestLeak follows G.168 test 4: after convergence the far end goes silent
// for a long time; the model must still be there when it talks again.
func TestLeak(t *testing.T) {
	far := concat(noise(9, 2*rate, farRMS), make([]int16, 5*rate), noise(10, rate, farRMS))
	echo := convolve(far, echoPath(g168Models[4], 20, 10))
	near := add(echo, noise(11, len(far), 3))
	c := newCanceller(t, 256, WithNLP(false))
	out := run(c, near, far)
	back := 7 * rate
	if got := erle(echo, out, back, back+800); got < 40 {
		t.Errorf("ERLE %.1f dB right after 5 s of far-end silence, want >= 40", got)
	}
}

// TestNarrowband follows G.168 test 6: after convergence on noise, the
// G.168 tones and tone pairs (500 ms each here, to keep the test fast)
// must not make the canceller diverge.
func TestNarrowband(t *testing.T) {
	tones := [][]float64{{697}, {941}, {1336}, {1633}, {697, 1209}, {770, 1336}, {852, 1477}, {941, 1633}}
	parts := [][]int16{noise(12, rate+rate/2, farRMS)}
	for _, f := range tones {
		parts = append(parts, sines(rate/2, 6000/float64(len(f)), f...))
	}
	parts = append(parts, noise(13, rate/2, farRMS))
	far := concat(parts...)
	echo := convolve(far, echoPath(g168Models[0], 20, 10))
	c := newCanceller(t, 256, WithNLP(false))
	out := run(c, echo, far)
	before := erle(echo, out, rate, rate+rate/2)
	back := len(far) - rate/2
	after := erle(echo, out, back, back+800)
	t.Logf("ERLE %.1f dB before the tones, %.1f dB on noise right after", before, after)
	if after < before-10 {
		t.Errorf("narrowband signals made the canceller diverge: %.1f -> %.1f dB", before, after)
	}
	for i, f := range tones {
		s := rate + rate/2 + i*rate/2
		if got := erle(echo, out, s, s+rate/2); got < 20 {
			t.Errorf("tone %v: ERLE %.1f dB, want >= 20", f, got)
		}
	}
}

// TestPathChange: the echo path changes (a transfer to another line); the
// canceller reconverges within a second.
func TestPathChange(t *testing.T) {
	const n = 4 * rate
	far := noise(14, n, farRMS)
	e1 := convolve(far, echoPath(g168Models[0], 20, 10))
	e2 := convolve(far, echoPath(g168Models[5], 60, 8))
	echo := concat(e1[:2*rate], e2[2*rate:])
	c := newCanceller(t, 256, WithNLP(false))
	out := run(c, echo, far)
	if got := erle(echo, out, 3*rate, n); got < 40 {
		t.Errorf("ERLE %.1f dB one second after the path changed, want >= 40", got)
	}
}

// TestComfortNoise: with the NLP on, the residual echo is replaced by noise
// at the level of the near-end background (G.168 test 9 in spirit), and
// near-end speech still passes.
func TestComfortNoise(t *testing.T) {
	const n = 4 * rate
	const bgRMS = 30 // about -55 dBm0
	far := noise(15, n, farRMS)
	echo := convolve(far, echoPath(g168Models[0], 20, 10))
	bg := noise(16, n, bgRMS)
	c := newCanceller(t, 256)
	out := run(c, add(echo, bg), far)
	lvl := db(power(out[3*rate:]), power(bg[3*rate:]))
	t.Logf("output %.1f dB relative to the background noise while the far end talks", lvl)
	if math.Abs(lvl) > 3 {
		t.Errorf("comfort noise %.1f dB from the background level, want within 3 dB", lvl)
	}
	// The NLP must replace, not just attenuate: the echo's own waveform
	// must be gone (correlation with the echo well below the noise).
	var xc, ee float64
	for i := 3 * rate; i < n; i++ {
		xc += float64(out[i]) * float64(echo[i])
		ee += float64(echo[i]) * float64(echo[i])
	}
	if r := xc / ee; math.Abs(r) > 0.01 {
		t.Errorf("output still correlates with the echo: %.3f", r)
	}
}

// TestNLPDoubleTalk: with the NLP on, near-end speech during far-end speech
// passes at its level.
func TestNLPDoubleTalk(t *testing.T) {
	far := scaleTo(speech(t, "demo-congrats", 6), farRMS)
	echo := convolve(far, echoPath(g168Models[0], 20, 10))
	talk := scaleTo(speech(t, "vm-options", 2), farRMS/2)
	nearSpeech := concat(make([]int16, 4*rate), talk)
	c := newCanceller(t, 256)
	out := run(c, add(echo, nearSpeech), far)
	if g := db(power(out[4*rate:]), power(talk)); math.Abs(g) > 1.5 {
		t.Errorf("near-end speech %.1f dB off its level through the NLP", g)
	}
}

// TestDCRemoval: a DC offset on the line (a hybrid or codec offset) does not
// reach the output and does not disturb the cancelling.
func TestDCRemoval(t *testing.T) {
	const n = 2 * rate
	far := noise(17, n, farRMS)
	echo := convolve(far, echoPath(g168Models[0], 20, 10))
	dc := make([]int16, n)
	for i := range dc {
		dc[i] = 1500
	}
	c := newCanceller(t, 256, WithNLP(false))
	out := run(c, add(echo, dc), add(far, dc))
	var mean float64
	for _, v := range out[rate:] {
		mean += float64(v)
	}
	mean /= float64(n - rate)
	if math.Abs(mean) > 1 {
		t.Errorf("DC of %.1f left in the output", mean)
	}
	if got := erle(echo, out, rate, n); got < 45 {
		t.Errorf("ERLE %.1f dB with DC offsets, want >= 45", got)
	}
}

// TestBypass: bypass passes the near end unchanged and keeps the model.
func TestBypass(t *testing.T) {
	const n = 3 * rate
	far := noise(18, n, farRMS)
	echo := convolve(far, echoPath(g168Models[0], 20, 10))
	c := newCanceller(t, 256, WithNLP(false))
	out := make([]int16, n)
	c.Process(out[:rate], echo[:rate], far[:rate])
	c.SetBypass(true)
	if !c.Bypassed() {
		t.Fatal("Bypassed() = false after SetBypass(true)")
	}
	c.Process(out[rate:2*rate], echo[rate:2*rate], far[rate:2*rate])
	if !slices.Equal(out[rate:2*rate], echo[rate:2*rate]) {
		t.Error("bypass changed the near-end signal")
	}
	c.SetBypass(false)
	c.Process(out[2*rate:], echo[2*rate:], far[2*rate:])
	if got := erle(echo, out, 2*rate, 2*rate+800); got < 40 {
		t.Errorf("ERLE %.1f dB right after bypass, want >= 40 (model kept)", got)
	}
}

// ansTone is a 2100 Hz answer tone with a phase reversal every 450 ms when
// reversals is set (V.25 /ANS), n samples, peak amp.
func ansTone(n int, amp float64, reversals bool) []int16 {
	s := make([]int16, n)
	ph := 0.0
	for i := range s {
		if reversals && i > 0 && i%3600 == 0 {
			ph += math.Pi
		}
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*2100*float64(i)/rate+ph)))
	}
	return s
}

// TestToneDisable: /ANS on the far path switches the canceller off (the
// near end passes unchanged); 250 ms of quiet on both paths switches it back
// on. An answer tone without phase reversals leaves it on.
func TestToneDisable(t *testing.T) {
	for _, tc := range []struct {
		name      string
		reversals bool
		off       bool
	}{{"ANS/PR", true, true}, {"ANS", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			conv := noise(19, rate, farRMS)
			ans := ansTone(2*rate, 8000, tc.reversals)
			far := concat(conv, ans, make([]int16, rate/2), noise(20, rate/2, farRMS))
			echo := convolve(far, echoPath(g168Models[0], 20, 10))
			c := newCanceller(t, 256, WithNLP(false))
			out := make([]int16, len(far))
			var offAt, onAt = -1, -1
			for i := 0; i < len(far); i += 80 {
				was := c.ToneDisabled()
				c.Process(out[i:i+80], echo[i:i+80], far[i:i+80])
				if !was && c.ToneDisabled() && offAt < 0 {
					offAt = i + 80
				}
				if was && !c.ToneDisabled() {
					onAt = i + 80
				}
			}
			if !tc.off {
				if offAt >= 0 {
					t.Errorf("disabled at %d ms by a tone without phase reversals", offAt/8)
				}
				return
			}
			// The first reversal is 450 ms into the tone.
			if offAt < 0 || offAt > rate+3600+rate/5 {
				t.Fatalf("disabled at %d ms, want within 200 ms of the first reversal at %d ms", offAt/8, (rate+3600)/8)
			}
			end := 3 * rate
			if !slices.Equal(out[offAt:end], echo[offAt:end]) {
				t.Error("output differs from the near end while disabled")
			}
			if onAt < end+rate/10 || onAt > end+rate*4/10 {
				t.Errorf("re-enabled at %d ms, want 100..400 ms after the tone ended at %d ms", onAt/8, end/8)
			}
		})
	}
}
