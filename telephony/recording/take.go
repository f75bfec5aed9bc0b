package recording

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"callbox/telephony/media"
)

// TakeConfig sets up a Take.
type TakeConfig struct {
	// Path is the file to create (it must not exist; its directory must).
	Path string
	// Encoding of the file (default 16-bit PCM: messages go to browsers
	// and mail).
	Encoding Encoding
	// Max ends the take at this length (default 3 minutes).
	Max time.Duration
	// Silence ends the take after this long without speech (0: never);
	// the silence is cut off, all but a short tail.
	Silence time.Duration
	// Level is the speech threshold in dBm0 (default -42): quieter frames
	// count as silence.
	Level float64
}

// TakeResult says how a take went.
type TakeResult struct {
	Duration time.Duration
	// Ended is "max", "silence" or "stopped" (Stop before either).
	Ended string
	// Spoken reports whether any frame was over the speech threshold: a
	// take nobody spoke in (a caller who hung up at the beep) is empty.
	Spoken bool
}

// Take is a short mono recording of what one party says (Rx of its tap):
// a voicemail message, a greeting, a prompt recorded by phone. It ends by
// itself at its maximum length or after enough silence (Done is closed
// then; the tap keeps being drained until Stop), or when Stop is called
// (a key, a hang-up).
type Take struct {
	cfg  TakeConfig
	tap  *media.Tap
	w    *wavWriter
	stop chan struct{}
	done chan struct{} // the take ended by itself
	exit chan struct{} // the goroutine returned

	// Written by the goroutine, read after exit.
	werr     error
	ended    string
	spoken   bool
	voiceEnd int64 // frames up to the last one spoken

	stopped bool
}

// silenceTail is the silence kept after the last spoken frame.
const silenceTail = 300 * time.Millisecond

// StartTake creates the file and drains tap (which the caller puts on the
// party's leg) into it on a goroutine until Stop.
func StartTake(cfg TakeConfig, tap *media.Tap) (*Take, error) {
	if cfg.Encoding == 0 {
		cfg.Encoding = PCM16
	}
	if cfg.Max <= 0 {
		cfg.Max = 3 * time.Minute
	}
	if cfg.Level == 0 {
		cfg.Level = -42
	}
	w, err := createWAV(cfg.Path, cfg.Encoding, 1, 50*media.FrameSamples)
	if err != nil {
		return nil, fmt.Errorf("recording: take: %w", err)
	}
	t := &Take{cfg: cfg, tap: tap, w: w, stop: make(chan struct{}), done: make(chan struct{}), exit: make(chan struct{})}
	go t.run()
	return t, nil
}

// Done is closed when the take ended by itself (maximum length, silence).
func (t *Take) Done() <-chan struct{} { return t.done }

// threshold returns the mean square of a frame at level dBm0 (0 dBm0 is
// a sine of RMS 16135 in 16-bit linear, G.711's full scale being +3.14).
func threshold(level float64) int64 {
	rms := 16135 * math.Pow(10, level/20)
	return int64(rms * rms)
}

func (t *Take) run() {
	defer close(t.exit)
	var (
		frames  int64
		quiet   int64
		max     = int64(t.cfg.Max / media.FrameDuration)
		silence = int64(t.cfg.Silence / media.FrameDuration)
		th      = threshold(t.cfg.Level)
		tail    = int64(silenceTail / media.FrameDuration)
	)
	end := func(why string) {
		t.ended = why
		close(t.done)
	}
	drainTap(t.tap, t.stop, func(rx, _ []int16) {
		if t.ended != "" || t.werr != nil {
			return
		}
		var e int64
		for _, v := range rx {
			e += int64(v) * int64(v)
		}
		if e/int64(len(rx)) >= th {
			t.spoken, quiet = true, 0
			t.voiceEnd = frames + 1
		} else {
			quiet++
		}
		t.w.put(rx, nil)
		frames++
		if t.w.full() {
			t.werr = t.w.flush()
		}
		switch {
		case frames >= max:
			end("max")
		case silence > 0 && quiet >= silence:
			t.voiceEnd = min(t.voiceEnd+tail, frames)
			end("silence")
		}
	})
}

// Stop ends the take (if it has not ended by itself), finishes the file
// and returns what it holds. The tap must be off the leg.
func (t *Take) Stop() (TakeResult, error) {
	if !t.stopped {
		t.stopped = true
		close(t.stop)
	}
	<-t.exit
	res := TakeResult{Ended: t.ended, Spoken: t.spoken}
	if res.Ended == "" {
		res.Ended = "stopped"
	}
	err := t.werr
	if err == nil {
		err = t.w.flush()
	}
	if err == nil && res.Ended == "silence" {
		err = t.w.truncate(t.voiceEnd * media.FrameSamples * int64(t.cfg.Encoding.bytesPerSample()))
	}
	if cerr := t.w.close(); err == nil {
		err = cerr
	}
	res.Duration = t.w.duration()
	if err != nil {
		return res, fmt.Errorf("recording: take %s: %w", filepath.Base(t.cfg.Path), err)
	}
	return res, nil
}

// Discard stops the take and removes its file.
func (t *Take) Discard() error {
	_, err := t.Stop()
	if rerr := os.Remove(t.cfg.Path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		return rerr
	}
	return err
}
