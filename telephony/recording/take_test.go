package recording

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"callbox/telephony/media"
)

// speaker says a tone for the first talk ticks, then nothing.
type speaker struct {
	talk, n int
	ph      float64
}

func (s *speaker) ReadFrame(f []int16) {
	for i := range f {
		if s.n < s.talk {
			f[i] = int16(4000 * math.Sin(s.ph))
			s.ph += 2 * math.Pi * 700 / media.SampleRate
		} else {
			f[i] = int16(i%3 - 1) // a faint hiss
		}
	}
	s.n++
}
func (*speaker) WriteFrame([]int16) {}

// take records a speaker talking for talk ticks through a take until it
// ends by itself or limit ticks pass.
func take(t *testing.T, cfg TakeConfig, talk, limit int) (TakeResult, string) {
	t.Helper()
	e := media.NewEngine(media.Config{Workers: 1})
	defer e.Close()
	ch, err := e.NewChannel("caller", &speaker{talk: talk}, media.ChannelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Path = filepath.Join(t.TempDir(), "take.wav")
	tap := media.NewTap(50)
	tk, err := StartTake(cfg, tap)
	if err != nil {
		t.Fatal(err)
	}
	e.SetTap(ch, tap)
tick:
	for range limit {
		select {
		case <-tk.Done():
			break tick
		default:
		}
		e.Tick()
		time.Sleep(200 * time.Microsecond) // in step with the writer, as in real time
	}
	e.SetTap(ch, nil)
	res, err := tk.Stop()
	if err != nil {
		t.Fatal(err)
	}
	return res, cfg.Path
}

func TestTake(t *testing.T) {
	// Speech then silence: ends by silence, the silence cut to a tail.
	res, path := take(t, TakeConfig{Silence: time.Second}, 150, 1000)
	if res.Ended != "silence" || !res.Spoken || res.Duration != 1800*time.Millisecond {
		t.Fatalf("speech then silence: %+v", res)
	}
	if got := soxChannel(t, path, 1); len(got) != 14400 || goertzel(got[:12000], 700) < 0.9 {
		t.Fatalf("sox reads %d samples", len(got))
	}
	// Longer than the maximum.
	res, _ = take(t, TakeConfig{Max: 2 * time.Second, Silence: time.Second}, 1000, 1000)
	if res.Ended != "max" || res.Duration != 2*time.Second {
		t.Fatalf("too long: %+v", res)
	}
	// Nobody speaks: an empty take.
	res, _ = take(t, TakeConfig{Silence: 3 * time.Second}, 0, 1000)
	if res.Ended != "silence" || res.Spoken {
		t.Fatalf("silent: %+v", res)
	}
	// Stopped (a key) before either.
	res, _ = take(t, TakeConfig{Silence: 3 * time.Second}, 1000, 100)
	if res.Ended != "stopped" || !res.Spoken || res.Duration != time.Second {
		t.Fatalf("stopped: %+v", res)
	}
}
