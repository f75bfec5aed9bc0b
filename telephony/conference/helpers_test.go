package conference

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/telephony/internal/memkv"
	"callbox/telephony/media"
	"callbox/telephony/pin"
	"callbox/telephony/prompt"
)

func init() { pin.Params.Memory, pin.Params.Passes = 64, 1 }

// memStore is a Store in memory.
type memStore = memkv.Store

func newMemStore() *memStore { return memkv.New() }

// opsAudio is an Audio that logs what the room asks of it.
type opsAudio struct {
	mu  sync.Mutex
	ops []string
}

func (a *opsAudio) log(f string, args ...any) {
	a.mu.Lock()
	a.ops = append(a.ops, fmt.Sprintf(f, args...))
	a.mu.Unlock()
}

func (a *opsAudio) Add(p PartyID, talk bool) { a.log("add %d talk=%v", p, talk) }
func (a *opsAudio) Remove(p PartyID)         { a.log("remove %d", p) }
func (a *opsAudio) Talk(p PartyID, talk bool) {
	a.log("talk %d %v", p, talk)
}
func (a *opsAudio) Play(p PartyID, s Sound, _ func()) {
	what := strings.Join(s.Prompts, "+")
	if s.Music {
		what = "music"
	}
	a.log("play %d %s", p, what)
}
func (a *opsAudio) StopPlay(p PartyID)  { a.log("stop %d", p) }
func (a *opsAudio) Record(t *media.Tap) { a.log("record %v", t != nil) }
func (a *opsAudio) Close()              { a.log("close") }

func (a *opsAudio) take() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := strings.Join(a.ops, "; ")
	a.ops = nil
	return s
}

// party is a scripted caller: keys come from a channel, prompts are
// logged.
type fakeCall struct {
	keys chan string
	mu   sync.Mutex
	said []string
	gone bool
}

func newFakeCall() *fakeCall { return &fakeCall{keys: make(chan string, 16)} }

func (c *fakeCall) Say(s Sound, cut bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return ErrHangup
	}
	for _, name := range s.Prompts {
		if sp, ok := prompt.SystemNamed(name); !ok || sp.Tone == nil && (sp.ZH == "" || sp.EN == "") {
			panic(fmt.Sprintf("prompt %q is not a system prompt in both languages", name))
		}
	}
	w := strings.Join(s.Prompts, "+")
	if s.Count {
		w += fmt.Sprintf("(%d)", s.Number)
	}
	c.said = append(c.said, w)
	return nil
}

func (c *fakeCall) Collect(max int, term string, wait time.Duration) (string, error) {
	select {
	case k, ok := <-c.keys:
		if !ok {
			c.mu.Lock()
			c.gone = true
			c.mu.Unlock()
			return "", ErrHangup
		}
		return strings.TrimSuffix(k, term), nil
	case <-time.After(min(wait, 20*time.Millisecond)):
		return "", nil
	}
}

func (c *fakeCall) Hangup() {
	c.mu.Lock()
	c.gone = true
	c.said = append(c.said, "hangup")
	c.mu.Unlock()
}

func (c *fakeCall) heard() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.said, " ")
}

func newService(t testing.TB, cfg Config) *Service {
	t.Helper()
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
	t.Cleanup(func() { s.Close() })
	return s
}

// eventually waits for cond.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for range 300 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
