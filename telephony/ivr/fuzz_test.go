package ivr

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// randomCall is a caller driven by fuzz bytes: each decision takes a byte.
type randomCall struct {
	b       []byte
	actions []string
	ended   bool // hung up or handed over: nothing may follow
	t       *testing.T
}

func (c *randomCall) next() byte {
	if len(c.b) == 0 {
		return 0
	}
	v := c.b[0]
	c.b = c.b[1:]
	return v
}

func (c *randomCall) do(ctx context.Context, what string) error {
	if c.ended {
		c.t.Fatalf("%s after the call ended (%q)", what, c.actions)
	}
	c.actions = append(c.actions, what)
	if err := ctx.Err(); err != nil {
		return err
	}
	switch v := c.next(); {
	case v == 0xFF:
		c.ended = true
		return ErrHangup
	case v == 0xFE:
		return ErrPromptMissing
	case v == 0xFD:
		return errors.New("random failure")
	}
	return nil
}

func (c *randomCall) Play(ctx context.Context, p Prompt) error { return c.do(ctx, "play") }

func (c *randomCall) Collect(ctx context.Context, req CollectRequest) (string, error) {
	if err := c.do(ctx, "collect"); err != nil {
		return "", err
	}
	n := int(c.next() % 6)
	keys := make([]byte, n)
	for i := range keys {
		keys[i] = "0123456789*#ABCDx"[c.next()%17]
	}
	return string(keys), nil
}

func (c *randomCall) Record(ctx context.Context, req RecordRequest) (Recording, error) {
	return Recording{ID: "r"}, c.do(ctx, "record")
}

func (c *randomCall) Transfer(ctx context.Context, req TransferRequest) error {
	err := c.do(ctx, "transfer")
	if err == nil && c.next()%2 == 0 {
		c.ended = true
		return nil
	}
	if err == nil {
		err = errors.New("busy")
	}
	return err
}

func (c *randomCall) Queue(ctx context.Context, req QueueRequest) (QueueOutcome, error) {
	err := c.do(ctx, "queue")
	out := QueueOutcome{Served: err == nil && c.next()%2 == 0}
	if out.Served {
		c.ended = true
	}
	return out, err
}

func (c *randomCall) Voicemail(ctx context.Context, req VoicemailRequest) error {
	return c.do(ctx, "voicemail")
}

func (c *randomCall) Hangup(ctx context.Context) error {
	if c.ended {
		c.t.Fatalf("hangup after the call ended (%q)", c.actions)
	}
	c.actions = append(c.actions, "hangup")
	c.ended = true
	return nil
}

func (c *randomCall) ReturnToAgent(ctx context.Context, agent string) error {
	if c.ended {
		c.t.Fatalf("return after the call ended (%q)", c.actions)
	}
	c.actions = append(c.actions, "agent")
	if c.next() == 0xFC {
		return errors.New("agent gone")
	}
	c.ended = true
	return nil
}

type randomFetcher struct{ b []byte }

func (f randomFetcher) Fetch(ctx context.Context, req HTTPRequest) ([]byte, error) {
	if len(f.b) > 0 && f.b[0]%3 == 0 {
		return nil, errors.New("down")
	}
	return f.b, nil
}

// singleFlow serves one flow as every version of its id.
type singleFlow struct{ f *Flow }

func (s singleFlow) Flow(id string, version int) (*Flow, error) {
	if id != s.f.ID {
		return nil, ErrNoFlow
	}
	return s.f, nil
}

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, []byte{1, 2, 3, 0xFE, 5, 0xFD, 7, 1, 0, 2})
	}
	f.Add([]byte(`{"id":"f","entry":"a","nodes":[{"id":"a","type":"menu","prompt":"m","options":{"1":"a","2":"b"},"fallback":"a"},{"id":"b","type":"return"}]}`), []byte{1, 1, '1'})
	f.Add([]byte(`{"id":"f","entry":"a","nodes":[{"id":"a","type":"play","prompt":"x","next":"a"}]}`), []byte{})
	f.Add([]byte(`{"id":"f","entry":"a","nodes":[{"id":"a","type":"time","tz":"+08:00","hours":{"mon-fri":"09:00-18:00"},"holidays":["2026-10-01..2026-10-07"],"open":"b","closed":"b"},{"id":"b","type":"hangup"}]}`), []byte{0xFF})
	f.Add([]byte(`{"id":"f","entry":"a","error":"e","nodes":[{"id":"a","type":"http","url":"http://x/${caller}","results":{"v":"a.b"},"next":"s","error":"e"},{"id":"s","type":"survey","question":"q","prompt":"p","next":"e"},{"id":"e","type":"hangup"}]}`), []byte(`{"a":{"b":1}}`))
	f.Add([]byte(`{"id":"f","entry":"a","nodes":[{"id":"a","type":"plya"}]}`), []byte{})
	f.Add([]byte(`{"id":"f","entry":"a","nodes":[{"id":"a","type":"collect","max":3,"min":9,"var":"x","next":"a"}]}`), []byte{})
}

// FuzzFlow checks the parser and validator never panic, that every error
// names a node or the flow, that a parsed flow survives a JSON round trip
// with the same verdict, and that a flow that validates runs to an end
// against a random caller without acting on a call that already ended.
func FuzzFlow(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data, caller []byte) {
		flow, err := ParseFlow(data)
		if err != nil {
			var ves ValidationErrors
			if errors.As(err, &ves) {
				checkNamed(t, ves)
			}
			return
		}
		verr := Validate(flow, ValidateOptions{})
		var ves ValidationErrors
		if verr != nil {
			if !errors.As(verr, &ves) {
				t.Fatalf("Validate returned %T", verr)
			}
			checkNamed(t, ves)
		}
		out, err := json.Marshal(flow)
		if err != nil {
			t.Fatalf("marshal a parsed flow: %v", err)
		}
		again, err := ParseFlow(out)
		if err != nil {
			t.Fatalf("re-parse %s: %v", out, err)
		}
		if v2 := Validate(again, ValidateOptions{}); errString(v2) != errString(verr) {
			t.Fatalf("verdict changed over a round trip:\n%v\n%v", verr, v2)
		}
		if verr != nil {
			return
		}
		const maxSteps = 100
		e := &Engine{Flows: singleFlow{flow}, HTTP: randomFetcher{caller}, MaxSteps: maxSteps,
			Clock: fixedClock(time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(len(caller)) * time.Hour))}
		call := &randomCall{b: caller, t: t}
		agent := ""
		if len(caller) > 0 && caller[0]%2 == 1 {
			agent = "1001"
		}
		res, err := e.Run(context.Background(), call, Request{Flow: flow.ID, Caller: "10086", Agent: agent})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if res.End < EndReturned || res.End > EndFailed {
			t.Fatalf("end %v", res.End)
		}
		if len(res.Trace) > maxSteps {
			t.Fatalf("%d steps", len(res.Trace))
		}
		// Every end leaves the caller somewhere: hung up, with an agent,
		// transferred, or gone by themselves.
		if !call.ended {
			t.Fatalf("end %v left the caller on the line: %q", res.End, call.actions)
		}
	})
}

func checkNamed(t *testing.T, ves ValidationErrors) {
	t.Helper()
	if len(ves) == 0 {
		t.Fatal("empty ValidationErrors")
	}
	for _, e := range ves {
		if s := e.Error(); !strings.HasPrefix(s, "flow: ") && !strings.HasPrefix(s, `node "`) {
			t.Fatalf("error names no node: %q", s)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestRandomCallerEndsEveryRun is the fuzz property on a fixed set of
// callers, so it runs in every plain test pass too.
func TestRandomCallerEndsEveryRun(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example flows: %v", err)
	}
	for _, name := range files {
		data, _ := os.ReadFile(name)
		flow, err := ParseFlow(data)
		if err != nil {
			t.Fatal(err)
		}
		repo := &Repository{}
		repo.Save(flow)
		for seed := 0; seed < 200; seed++ {
			b := make([]byte, 64)
			x := uint32(seed)*2654435761 + 1
			for i := range b {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				b[i] = byte(x)
			}
			call := &randomCall{b: b, t: t}
			res, _ := (&Engine{Flows: singleFlow{flow}, HTTP: randomFetcher{b}}).Run(context.Background(), call, Request{Flow: flow.ID})
			if !call.ended || res.End == 0 {
				t.Fatalf("%s seed %d: end %v, actions %q", name, seed, res.End, call.actions)
			}
		}
	}
}
