package ivr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// scriptedCall is a caller that presses keys from a script. Each Collect
// consumes one entry: the keys typed, "" for silence until the timeout, or
// "!" to hang up. An exhausted script is silence. Everything the engine
// does is logged as one line per action.
type scriptedCall struct {
	script    []string
	missing   map[string]bool // prompt files that do not exist
	log       []string
	queue     QueueOutcome
	queueErr  error
	xferErr   error
	vmErr     error
	recErr    error
	agentErr  error
	hangupAt  int // hang up on the n-th action (1-based); 0 never
	onCollect func()
	actions   int
}

func (c *scriptedCall) act(ctx context.Context, line string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.actions++
	if c.hangupAt > 0 && c.actions >= c.hangupAt {
		c.log = append(c.log, "gone")
		return fmt.Errorf("fake: %w", ErrHangup)
	}
	c.log = append(c.log, line)
	return nil
}

func (c *scriptedCall) prompt(ctx context.Context, verb string, p Prompt) error {
	if p.IsZero() {
		return nil
	}
	if p.File != "" {
		if c.missing[p.File] {
			return fmt.Errorf("fake: %q: %w", p.File, ErrPromptMissing)
		}
		return c.act(ctx, verb+" "+p.File)
	}
	return c.act(ctx, "say "+p.Text)
}

func (c *scriptedCall) Play(ctx context.Context, p Prompt) error { return c.prompt(ctx, "play", p) }

func (c *scriptedCall) Collect(ctx context.Context, req CollectRequest) (string, error) {
	if err := c.prompt(ctx, "play", req.Prompt); err != nil {
		return "", err
	}
	if c.onCollect != nil {
		c.onCollect()
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var keys string
	if len(c.script) > 0 {
		keys, c.script = c.script[0], c.script[1:]
	}
	if keys == "!" {
		c.log = append(c.log, "gone")
		return "", ErrHangup
	}
	if req.Terminator != "" {
		if i := strings.Index(keys, req.Terminator); i >= 0 {
			keys = keys[:i]
		}
	}
	if len(keys) > req.Max {
		keys = keys[:req.Max]
	}
	c.log = append(c.log, "keys "+keys)
	return keys, nil
}

func (c *scriptedCall) Record(ctx context.Context, req RecordRequest) (Recording, error) {
	if err := c.prompt(ctx, "play", req.Prompt); err != nil {
		return Recording{}, err
	}
	if c.recErr != nil {
		return Recording{}, c.recErr
	}
	if err := c.act(ctx, fmt.Sprintf("record beep=%v max=%v", req.Beep, req.Max)); err != nil {
		return Recording{}, err
	}
	return Recording{ID: "rec-1", Duration: 7 * time.Second}, nil
}

func (c *scriptedCall) Transfer(ctx context.Context, req TransferRequest) error {
	if err := c.act(ctx, "transfer "+req.To); err != nil {
		return err
	}
	return c.xferErr
}

func (c *scriptedCall) Queue(ctx context.Context, req QueueRequest) (QueueOutcome, error) {
	q := fmt.Sprintf("queue group=%d", req.Group)
	if req.CustomerType != "" {
		q = "queue type=" + req.CustomerType
	}
	if err := c.act(ctx, q); err != nil {
		return QueueOutcome{}, err
	}
	return c.queue, c.queueErr
}

func (c *scriptedCall) Voicemail(ctx context.Context, req VoicemailRequest) error {
	if err := c.act(ctx, "voicemail "+req.Box); err != nil {
		return err
	}
	return c.vmErr
}

func (c *scriptedCall) Hangup(ctx context.Context) error { return c.act(ctx, "hangup") }

func (c *scriptedCall) ReturnToAgent(ctx context.Context, agent string) error {
	if err := c.act(ctx, "agent "+agent); err != nil {
		return err
	}
	return c.agentErr
}

// fixedClock is an injected clock.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// fakeFetcher answers HTTP lookups from a table.
type fakeFetcher struct {
	answers map[string]string // URL -> body
	err     error
	got     []HTTPRequest
}

func (f *fakeFetcher) Fetch(ctx context.Context, req HTTPRequest) ([]byte, error) {
	f.got = append(f.got, req)
	if f.err != nil {
		return nil, f.err
	}
	body, ok := f.answers[req.URL]
	if !ok {
		return nil, errors.New("fake: status 404")
	}
	return []byte(body), nil
}

// mustParse parses a flow for a test.
func mustParse(t testing.TB, src string) *Flow {
	t.Helper()
	f, err := ParseFlow([]byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

// repoOf saves flows in order (sub-flows first) into a repository.
func repoOf(t testing.TB, srcs ...string) *Repository {
	t.Helper()
	r := &Repository{}
	for _, s := range srcs {
		if _, err := r.Save(mustParse(t, s)); err != nil {
			t.Fatalf("save: %v", err)
		}
	}
	return r
}
