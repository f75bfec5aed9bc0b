package voicemail

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/dsp/wav"
	"callbox/telephony/internal/memkv"
	"callbox/telephony/pin"
	"callbox/telephony/prompt"
)

func init() {
	// Cheap hashes in tests.
	pin.Params.Memory, pin.Params.Passes = 64, 1
}

// memStore is a Store in memory.
type memStore = memkv.Store

func newMemStore() *memStore { return memkv.New() }

// lamps records what MessageWaiting was told, by box.
type lamps struct {
	mu sync.Mutex
	m  map[string][2]int
}

func (l *lamps) MessageWaiting(b Box, n, s int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string][2]int{}
	}
	l.m[b.Number] = [2]int{n, s}
}

func (l *lamps) get(box string) [2]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[box]
}

// take is what a scripted caller says when recorded.
type take struct {
	dur    time.Duration
	spoken bool
	key    byte
	hangup bool // the caller hangs up at its end
}

// caller is a scripted Call: it answers Collect from keys, Record from
// takes (writing a real WAV of a tone), and logs what it was told.
type caller struct {
	t        testing.TB
	keys     []string
	takes    []take
	said     []string
	gone     bool
	callback string
}

func (c *caller) Say(p Prompt, cut bool) error {
	if c.gone {
		return ErrHangup
	}
	switch {
	case p.Name != "":
		if sp, ok := prompt.SystemNamed(p.Name); !ok || sp.ZH == "" || sp.EN == "" {
			c.t.Errorf("prompt %q is not a system prompt in both languages", p.Name)
		}
		c.said = append(c.said, p.Name)
	case p.File != "":
		if _, err := os.Stat(p.File); err != nil {
			c.t.Errorf("playing a missing file: %v", err)
		}
		c.said = append(c.said, "file:"+filepath.Base(p.File))
	case p.Number != "":
		c.said = append(c.said, "n:"+p.Number)
	case p.Digits != "":
		c.said = append(c.said, "d:"+p.Digits)
	}
	return nil
}

func (c *caller) Collect(max int, term string, first, inter time.Duration) (string, error) {
	if c.gone {
		return "", ErrHangup
	}
	if len(c.keys) == 0 {
		c.gone = true // the script is over: the caller leaves
		return "", ErrHangup
	}
	k := c.keys[0]
	c.keys = c.keys[1:]
	if i := strings.IndexAny(k, term); term != "" && i >= 0 {
		k = k[:i]
	}
	if max > 0 && len(k) > max {
		k = k[:max]
	}
	return k, nil
}

func (c *caller) Record(spec RecordSpec) (Recorded, error) {
	if c.gone {
		return Recorded{}, ErrHangup
	}
	if len(c.takes) == 0 {
		c.t.Fatal("Record not in the script")
	}
	tk := c.takes[0]
	c.takes = c.takes[1:]
	c.said = append(c.said, "record")
	n := int(min(tk.dur, spec.Max) / time.Millisecond * 8)
	samples := make([]int16, n)
	if tk.spoken {
		for i := range samples {
			samples[i] = int16(5000 * math.Sin(2*math.Pi*440*float64(i)/8000))
		}
	}
	b, _ := wav.Encode(samples)
	if err := os.WriteFile(spec.Path, b, 0o640); err != nil {
		return Recorded{}, err
	}
	rec := Recorded{Duration: time.Duration(n) * time.Second / 8000, Spoken: tk.spoken, Key: tk.key}
	if tk.hangup {
		c.gone = true
		return rec, fmt.Errorf("caller: %w", ErrHangup)
	}
	return rec, nil
}

func (c *caller) CallBack(number string) error {
	c.callback = number
	c.gone = true
	return nil
}

func (c *caller) Hangup() { c.said = append(c.said, "hangup"); c.gone = true }

// newService starts a service on a new directory.
func newService(t testing.TB, cfg Config) *Service {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.Store == nil {
		cfg.Store = newMemStore()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// addBox creates box n with PIN 1234.
func addBox(t testing.TB, s *Service, b Box) Box {
	t.Helper()
	if b.Kind == "" {
		b.Kind = KindAgent
	}
	got, err := s.PutBox(BoxInput{Box: b, PIN: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func said(c *caller) string { return strings.Join(c.said, " ") }
