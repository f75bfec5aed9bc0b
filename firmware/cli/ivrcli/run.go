package ivrcli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"callbox/firmware/cli"
	"callbox/telephony/ivr"
)

// dryRun is "ivr run": it runs a flow against a scripted caller and
// prints what the caller would hear and where the call would go, so an
// administrator can try a flow before loading it.
func dryRun(ctx context.Context, args []string, std cli.IO) int {
	fs := flag.NewFlagSet("ivr run", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	keys := fs.String("keys", "", "comma-separated key input, one entry per prompt that waits: \"\" silence, ! hang up")
	at := fs.String("at", "", "time of the call, RFC 3339 (default now)")
	caller := fs.String("caller", "", "calling number")
	ctype := fs.String("type", "", "caller's customer type")
	agent := fs.String("agent", "", "agent who sent the caller into the flow (执行流程)")
	queue := fs.String("queue", "served", "queue outcome: served or unserved")
	transfer := fs.String("transfer", "ok", "transfer outcome: ok or fail")
	online := fs.Bool("http", false, "make HTTP lookups for real (default: they fail)")
	prompts := fs.String("prompts", "", "directory of prompt files; others count as missing")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(files) == 0 {
		fmt.Fprintln(std.Err, "callboxctl ivr run: no flow file given")
		return 2
	}
	if (*queue != "served" && *queue != "unserved") || (*transfer != "ok" && *transfer != "fail") {
		fmt.Fprintln(std.Err, "callboxctl ivr run: --queue is served or unserved, --transfer ok or fail")
		return 2
	}
	now := time.Now()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			fmt.Fprintf(std.Err, "callboxctl ivr run: --at: %v\n", err)
			return 2
		}
	}
	// The flows must be valid to run: check them as "ivr check" does.
	checkArgs := files
	if *prompts != "" {
		checkArgs = append([]string{"--prompts", *prompts}, files...)
	}
	var report strings.Builder
	if code := check(checkArgs, cli.IO{In: std.In, Out: &report, Err: std.Err}); code != 0 {
		io.WriteString(std.Out, report.String())
		return code
	}
	set, first := loadFlows(files)
	call := &consoleCall{out: std.Out, queueServed: *queue == "served", transferOK: *transfer == "ok"}
	if *keys != "" {
		call.keys = strings.Split(*keys, ",")
	}
	if *prompts != "" {
		call.catalogue = ivr.DirCatalogue{Dir: *prompts}
	}
	e := &ivr.Engine{Flows: set, Clock: fixedClock(now)}
	if *online {
		e.HTTP = printingFetcher{out: std.Out, next: ivr.NetHTTP{}}
	} else {
		e.HTTP = printingFetcher{out: std.Out}
	}
	res, err := e.Run(ctx, call, ivr.Request{Flow: first, Caller: *caller, CustomerType: *ctype, Agent: *agent})
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl ivr run: %v\n", err)
		return 1
	}
	fmt.Fprintf(std.Out, "end: %v", res.End)
	if res.Target != "" {
		fmt.Fprintf(std.Out, " (%s)", res.Target)
	}
	fmt.Fprintf(std.Out, " after %d nodes\n", len(res.Trace))
	for _, f := range res.Failures {
		where := f.Flow
		if f.Node != "" {
			where += "/" + f.Node
		}
		fmt.Fprintf(std.Out, "failure: %s: %v\n", where, f.Err)
	}
	for _, s := range res.Surveys {
		if s.Rated {
			fmt.Fprintf(std.Out, "survey: %s = %d\n", s.Question, s.Rating)
		} else {
			fmt.Fprintf(std.Out, "survey: %s not rated\n", s.Question)
		}
	}
	names := make([]string, 0, len(res.Vars))
	for k := range res.Vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if res.Vars[k] != "" {
			fmt.Fprintf(std.Out, "var: %s = %s\n", k, res.Vars[k])
		}
	}
	return 0
}

// loadFlows parses files already known to be valid; the first file's
// flow is the one run.
func loadFlows(files []string) (flowSet, string) {
	set := flowSet{}
	first := ""
	for i, name := range files {
		f, _ := parseFile(name)
		if f == nil {
			continue
		}
		set[f.ID] = f
		if i == 0 {
			first = f.ID
		}
	}
	return set, first
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// consoleCall prints each action and takes keys from a list.
type consoleCall struct {
	out         io.Writer
	keys        []string
	catalogue   ivr.PromptCatalogue
	queueServed bool
	transferOK  bool
}

func (c *consoleCall) say(ctx context.Context, p ivr.Prompt) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.IsZero() {
		return nil
	}
	if p.File != "" {
		if c.catalogue != nil && !c.catalogue.HasPrompt(p.File) {
			fmt.Fprintf(c.out, "play %s: missing\n", p.File)
			return fmt.Errorf("%q: %w", p.File, ivr.ErrPromptMissing)
		}
		fmt.Fprintf(c.out, "play %s\n", p.File)
		return nil
	}
	fmt.Fprintf(c.out, "say %q\n", p.Text)
	return nil
}

func (c *consoleCall) Play(ctx context.Context, p ivr.Prompt) error { return c.say(ctx, p) }

func (c *consoleCall) Collect(ctx context.Context, req ivr.CollectRequest) (string, error) {
	if err := c.say(ctx, req.Prompt); err != nil {
		return "", err
	}
	var k string
	if len(c.keys) > 0 {
		k, c.keys = c.keys[0], c.keys[1:]
	}
	if k == "!" {
		fmt.Fprintln(c.out, "caller hangs up")
		return "", ivr.ErrHangup
	}
	if req.Terminator != "" {
		if i := strings.Index(k, req.Terminator); i >= 0 {
			k = k[:i]
		}
	}
	if len(k) > req.Max {
		k = k[:req.Max]
	}
	if k == "" {
		fmt.Fprintf(c.out, "keys: none within %v\n", req.FirstTimeout)
	} else {
		fmt.Fprintf(c.out, "keys: %s\n", k)
	}
	return k, nil
}

func (c *consoleCall) Record(ctx context.Context, req ivr.RecordRequest) (ivr.Recording, error) {
	if err := c.say(ctx, req.Prompt); err != nil {
		return ivr.Recording{}, err
	}
	fmt.Fprintf(c.out, "record up to %v\n", req.Max)
	return ivr.Recording{ID: "dry-run-recording"}, nil
}

func (c *consoleCall) Transfer(ctx context.Context, req ivr.TransferRequest) error {
	fmt.Fprintf(c.out, "transfer to %s\n", req.To)
	if !c.transferOK {
		return errors.New("no answer")
	}
	return nil
}

func (c *consoleCall) Queue(ctx context.Context, req ivr.QueueRequest) (ivr.QueueOutcome, error) {
	if req.Group != 0 {
		fmt.Fprintf(c.out, "queue group %d\n", req.Group)
	} else {
		fmt.Fprintf(c.out, "queue customer type %s\n", req.CustomerType)
	}
	if c.queueServed {
		return ivr.QueueOutcome{Served: true}, nil
	}
	return ivr.QueueOutcome{Reason: "dry run: unserved"}, nil
}

func (c *consoleCall) Voicemail(ctx context.Context, req ivr.VoicemailRequest) error {
	fmt.Fprintf(c.out, "voicemail box %s\n", req.Box)
	return nil
}

func (c *consoleCall) Hangup(ctx context.Context) error {
	fmt.Fprintln(c.out, "hang up")
	return nil
}

func (c *consoleCall) ReturnToAgent(ctx context.Context, agent string) error {
	fmt.Fprintf(c.out, "back to agent %s\n", agent)
	return nil
}

// printingFetcher prints each lookup and passes it on, or fails it when
// there is nowhere to pass it.
type printingFetcher struct {
	out  io.Writer
	next ivr.Fetcher
}

func (p printingFetcher) Fetch(ctx context.Context, req ivr.HTTPRequest) ([]byte, error) {
	fmt.Fprintf(p.out, "http %s %s\n", req.Method, req.URL)
	if p.next == nil {
		return nil, errors.New("offline (run with --http to make lookups)")
	}
	return p.next.Fetch(ctx, req)
}
