package ivr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"callbox/telephony/calendar"
)

// Clock tells the time; tests inject a fixed one for time branches.
type Clock interface {
	Now() time.Time
}

// Engine runs flows on calls. One Engine serves every call; Run holds all
// per-call state, so calls run concurrently.
type Engine struct {
	// Flows resolves the flow a call starts in and its sub-flows.
	Flows FlowSource
	// HTTP performs HTTP lookups; nil makes every lookup fail (and take
	// its error branch).
	HTTP Fetcher
	// Clock is the time for time branches and survey answers; nil is
	// the system clock.
	Clock Clock
	// Calendars finds the business calendars time branches name; a
	// branch naming one it lacks (or with Calendars nil) fails and takes
	// its error branch.
	Calendars CalendarSource
	// Apology is played when a flow fails with nowhere to go; zero uses
	// DefaultApology.
	Apology Prompt
	// MaxSteps bounds the nodes one call may run (default 1000), so
	// that no flow, however written, holds a caller forever.
	MaxSteps int
	// MaxDepth bounds nested sub-flows (default 8).
	MaxDepth int
}

// DefaultApology is played when a flow fails and has no error node.
var DefaultApology = Prompt{File: "sorry-youre-having-problems", Text: "Sorry, this service is not available now. Please call again later."}

// maxFailuresInRow is how many run-time failures may follow one another
// through error branches before the engine gives up on the flow.
const maxFailuresInRow = 3

// maxVarLen caps a variable's value (an HTTP answer could be large).
const maxVarLen = 1024

// Request starts a flow on a call.
type Request struct {
	// Flow and Version choose the flow; Version 0 is the latest. The
	// call keeps the version it started with even when a newer one is
	// saved while it runs.
	Flow    string
	Version int
	// Caller and Called are the numbers; they become the variables
	// "caller" and "called".
	Caller string
	Called string
	// CustomerType is the caller's customer type from the ACD; it
	// becomes the variable "customer_type".
	CustomerType string
	// Vars are further initial variables.
	Vars map[string]string
	// Agent, when set, is the agent who sent the caller into the flow
	// (执行流程): when the flow returns, fails, or the agent resumes
	// (ErrResume), the caller goes back to the agent instead of being
	// hung up.
	Agent string
}

// End says how a flow run ended.
type End int

// How runs end.
const (
	// EndReturned: the top flow returned; the caller was handed back to
	// the agent, or hung up when no agent sent them.
	EndReturned End = iota + 1
	// EndHangup: a hangup node ended the call.
	EndHangup
	// EndCallerGone: the caller hung up (or the context ended).
	EndCallerGone
	// EndTransferred: a transfer connected.
	EndTransferred
	// EndQueued: an agent answered from a queue.
	EndQueued
	// EndVoicemail: the caller left a voicemail and was hung up.
	EndVoicemail
	// EndResumed: the agent took the caller back mid-flow.
	EndResumed
	// EndFailed: the flow failed with nowhere to go; the caller heard the
	// apology and was hung up or handed back to the agent.
	EndFailed
)

var endNames = [...]string{"", "returned", "hangup", "caller-gone", "transferred", "queued", "voicemail", "resumed", "failed"}

// String names the end as the CLI prints it ("queued", "failed").
func (e End) String() string {
	if e > 0 && int(e) < len(endNames) {
		return endNames[e]
	}
	return fmt.Sprintf("End(%d)", int(e))
}

// Step is one node run, for the call's trace.
type Step struct {
	Flow string
	Node string
}

// SurveyAnswer is one survey result, stored with the call.
type SurveyAnswer struct {
	Flow     string
	Node     string
	Question string
	// Rating is the key pressed; valid only when Rated.
	Rating int
	Rated  bool
	At     time.Time
}

// Failure is a run-time failure the flow recovered from or ended with.
type Failure struct {
	Flow string
	Node string
	Err  error
}

// Result describes a finished run.
type Result struct {
	// Flow and Version are the flow the call started in.
	Flow    string
	Version int
	End     End
	// Trace lists the nodes run, in order.
	Trace []Step
	// Vars are the variables at the end.
	Vars map[string]string
	// Surveys are the survey answers, to store with the call record.
	Surveys []SurveyAnswer
	// Failures are the run-time failures met on the way.
	Failures []Failure
	// Target is the transfer destination, the queue ("group:3" or
	// "type:vip") or the voicemail box, for those ends.
	Target string
}

// Run runs a flow on a call until it ends. It never leaves the caller
// without a way on: failures take the node's or the flow's error branch,
// and with none the caller hears the apology and is hung up (or handed
// back to the agent who sent them). The error is non-nil only when the
// flow could not be started.
func (e *Engine) Run(ctx context.Context, call Call, req Request) (Result, error) {
	r := &run{e: e, call: call, req: req, vars: make(map[string]string, 8+len(req.Vars))}
	for k, v := range req.Vars {
		if isVarName(k) {
			r.vars[k] = clip(v)
		}
	}
	r.vars["caller"] = clip(req.Caller)
	r.vars["called"] = clip(req.Called)
	r.vars["customer_type"] = clip(req.CustomerType)
	r.res.Flow = req.Flow
	r.res.Vars = r.vars

	var flow *Flow
	var err error
	if e.Flows == nil {
		err = errors.New("ivr: engine has no flows")
	} else {
		flow, err = e.Flows.Flow(req.Flow, req.Version)
	}
	if err != nil {
		err = fmt.Errorf("ivr: start flow %q: %w", req.Flow, err)
		r.fail(ctx, Failure{Flow: req.Flow, Err: err})
		return r.res, err
	}
	r.res.Version = flow.Version
	r.loop(ctx, flow)
	return r.res, nil
}

// run is the state of one call in the engine.
type run struct {
	e     *Engine
	call  Call
	req   Request
	vars  map[string]string
	res   Result
	stack []frame
	// pinned holds the latest version of each sub-flow as first called,
	// so a flow saved mid-call does not change the rest of the call.
	pinned map[string]*Flow
}

type frame struct {
	flow *Flow
	call string // the call node in flow
	next string // node in flow to continue at after the sub-flow returns
	sub  *Flow  // the sub-flow being entered, until the loop takes it
}

// endEnterSub is the outcome of a sub-flow call node: the loop enters the
// flow in the frame just pushed.
const endEnterSub End = -1

// outcome is what one node run decided.
type outcome struct {
	next string // node to continue at, when end == 0
	end  End
	err  error // a run-time failure: take the error branch
}

func (r *run) loop(ctx context.Context, flow *Flow) {
	maxSteps := r.e.MaxSteps
	if maxSteps <= 0 {
		maxSteps = 1000
	}
	id := flow.Entry
	failures := 0
	for steps := 0; ; steps++ {
		if ctx.Err() != nil {
			r.stopped(ctx)
			return
		}
		n := flow.Node(id)
		var o outcome
		switch {
		case steps >= maxSteps:
			o.err = fmt.Errorf("ivr: step limit %d reached", maxSteps)
		case n == nil:
			o.err = fmt.Errorf("ivr: no node %q", id)
		default:
			r.res.Trace = append(r.res.Trace, Step{Flow: flow.ID, Node: n.ID})
			o = r.exec(ctx, flow, n)
		}
		if o.err != nil && r.gone(ctx, o.err) {
			r.stopped(ctx)
			return
		}
		if o.err != nil {
			failures++
			r.res.Failures = append(r.res.Failures, Failure{Flow: flow.ID, Node: id, Err: o.err})
			target := ""
			if n != nil {
				target = n.Error
			}
			if target == "" {
				target = flow.Error
			}
			// A sub-flow without an error branch hands the failure to
			// the flow that called it, as if its call node had failed.
			for target == "" && len(r.stack) > 0 {
				top := r.stack[len(r.stack)-1]
				r.stack = r.stack[:len(r.stack)-1]
				flow = top.flow
				if c := flow.Node(top.call); c != nil {
					target = c.Error
				}
				if target == "" {
					target = flow.Error
				}
			}
			if target == "" || failures > maxFailuresInRow || steps >= maxSteps || flow.Node(target) == nil {
				r.giveUp(ctx)
				return
			}
			id = target
			continue
		}
		failures = 0
		switch o.end {
		case 0:
			id = o.next
		case EndReturned:
			if len(r.stack) == 0 {
				r.finish(ctx, EndReturned)
				return
			}
			top := r.stack[len(r.stack)-1]
			r.stack = r.stack[:len(r.stack)-1]
			flow, id = top.flow, top.next
		case endEnterSub:
			flow = r.stack[len(r.stack)-1].sub
			id = flow.Entry
			r.stack[len(r.stack)-1].sub = nil
		default:
			r.finish(ctx, o.end)
			return
		}
	}
}

// gone reports whether err means the caller is no longer there to hear
// anything: they hung up or the run was cancelled.
func (r *run) gone(ctx context.Context, err error) bool {
	return errors.Is(err, ErrHangup) || ctx.Err() != nil || errors.Is(err, context.Canceled)
}

// stopped ends a run whose caller hung up or whose agent resumed.
func (r *run) stopped(ctx context.Context) {
	if errors.Is(context.Cause(ctx), ErrResume) && r.req.Agent != "" {
		r.res.End = EndResumed
		r.backToAgent(context.WithoutCancel(ctx))
		return
	}
	r.res.End = EndCallerGone
}

// fail records a failure at start and gives up.
func (r *run) fail(ctx context.Context, f Failure) {
	r.res.Failures = append(r.res.Failures, f)
	r.giveUp(ctx)
}

// giveUp apologises and ends the call safely.
func (r *run) giveUp(ctx context.Context) {
	if ctx.Err() != nil {
		r.stopped(ctx)
		return
	}
	ap := r.e.Apology
	if ap.IsZero() {
		ap = DefaultApology
	}
	if err := r.play(ctx, ap); err != nil && r.gone(ctx, err) {
		r.stopped(ctx)
		return
	}
	r.finish(ctx, EndFailed)
}

// finish completes the call for an end that still holds the caller.
func (r *run) finish(ctx context.Context, end End) {
	r.res.End = end
	switch end {
	case EndReturned, EndFailed:
		if r.req.Agent != "" {
			r.backToAgent(ctx)
			return
		}
		r.hangup(ctx)
	case EndHangup, EndVoicemail:
		r.hangup(ctx)
	}
}

func (r *run) backToAgent(ctx context.Context) {
	if err := r.call.ReturnToAgent(ctx, r.req.Agent); err != nil {
		// The agent cannot take the caller: do not leave them on hold.
		r.res.Failures = append(r.res.Failures, Failure{Flow: r.req.Flow, Err: fmt.Errorf("ivr: return to agent %q: %w", r.req.Agent, err)})
		r.hangup(ctx)
	}
}

func (r *run) hangup(ctx context.Context) {
	if err := r.call.Hangup(ctx); err != nil && !r.gone(ctx, err) {
		r.res.Failures = append(r.res.Failures, Failure{Flow: r.req.Flow, Err: fmt.Errorf("ivr: hang up: %w", err)})
	}
}

func (r *run) lookup(name string) string { return r.vars[name] }

func (r *run) expand(s string) string { return expand(s, r.lookup, nil) }

func (r *run) expandPrompt(p Prompt) Prompt {
	return Prompt{File: p.File, Text: r.expand(p.Text)}
}

// play plays a prompt, speaking its text when the file is missing.
func (r *run) play(ctx context.Context, p Prompt) error {
	return r.withPrompt(p, func(p Prompt) error { return r.call.Play(ctx, p) })
}

// withPrompt runs fn with the expanded prompt and, when its file is
// missing and it has text, again with the text alone.
func (r *run) withPrompt(p Prompt, fn func(Prompt) error) error {
	p = r.expandPrompt(p)
	err := fn(p)
	if errors.Is(err, ErrPromptMissing) && p.File != "" && p.Text != "" {
		err = fn(Prompt{Text: p.Text})
	}
	return err
}

// playOptional plays a prompt whose loss does not stop the node (a
// re-prompt, a goodbye): a missing file is noted and skipped.
func (r *run) playOptional(ctx context.Context, flow *Flow, n *Node, p Prompt) error {
	if p.IsZero() {
		return nil
	}
	err := r.play(ctx, p)
	if err != nil && !r.gone(ctx, err) {
		r.res.Failures = append(r.res.Failures, Failure{Flow: flow.ID, Node: n.ID, Err: err})
		return nil
	}
	return err
}

func (r *run) collect(ctx context.Context, req CollectRequest) (string, error) {
	var digits string
	err := r.withPrompt(req.Prompt, func(p Prompt) error {
		req.Prompt = p
		var err error
		digits, err = r.call.Collect(ctx, req)
		return err
	})
	if err != nil {
		return "", err
	}
	// Keep only keys a phone can send, and no more than asked for.
	clean := make([]byte, 0, len(digits))
	for i := 0; i < len(digits) && len(clean) < req.Max; i++ {
		if isDTMFKey(digits[i : i+1]) {
			clean = append(clean, digits[i])
		}
	}
	return string(clean), nil
}

func (r *run) now() time.Time {
	if r.e.Clock != nil {
		return r.e.Clock.Now()
	}
	return time.Now()
}

// calendar is the time branch's named calendar, or its literal hours.
func (r *run) calendar(s *TimeBranch) (*calendar.Calendar, error) {
	if s.Calendar == "" {
		cal, ferr := compileSchedule(s)
		if ferr != nil {
			return nil, fmt.Errorf("ivr: time: %s: %s", ferr.field, ferr.msg)
		}
		return cal, nil
	}
	if r.e.Calendars != nil {
		if cal, ok := r.e.Calendars.Calendar(s.Calendar); ok {
			return cal, nil
		}
	}
	return nil, fmt.Errorf("ivr: time: no calendar %q", s.Calendar)
}

func (r *run) exec(ctx context.Context, flow *Flow, n *Node) outcome {
	switch s := n.Spec.(type) {
	case *Play:
		if err := r.play(ctx, s.Prompt); err != nil {
			return outcome{err: fmt.Errorf("ivr: play: %w", err)}
		}
		return outcome{next: s.Next}
	case *Menu:
		return r.menu(ctx, flow, n, s)
	case *Collect:
		return r.collectNode(ctx, flow, n, s)
	case *TimeBranch:
		cal, err := r.calendar(s)
		if err != nil {
			return outcome{err: err}
		}
		switch cal.State(r.now()) {
		case calendar.Open:
			return outcome{next: s.Open}
		case calendar.Holiday:
			if s.Holiday != "" {
				return outcome{next: s.Holiday}
			}
		}
		return outcome{next: s.Closed}
	case *Switch:
		return outcome{next: s.choose(r.vars[s.Var])}
	case *Queue:
		return r.queue(ctx, flow, n, s)
	case *Transfer:
		return r.transfer(ctx, flow, n, s)
	case *Voicemail:
		box := r.expand(s.Box)
		r.res.Target = box
		if !isName(box, false) {
			return outcome{err: fmt.Errorf("ivr: voicemail: bad mailbox %q", box)}
		}
		if err := r.call.Voicemail(ctx, VoicemailRequest{Box: box, Greeting: r.expandPrompt(s.Greeting)}); err != nil {
			return outcome{err: fmt.Errorf("ivr: voicemail %q: %w", box, err)}
		}
		if s.Next != "" {
			return outcome{next: s.Next}
		}
		return outcome{end: EndVoicemail}
	case *Record:
		var rec Recording
		err := r.withPrompt(s.Prompt, func(p Prompt) error {
			var err error
			rec, err = r.call.Record(ctx, RecordRequest{Prompt: p, Beep: s.Beep, Max: orDuration(s.Max, DefaultRecordMax),
				Silence: orDuration(s.Silence, DefaultRecordSilence), Terminator: s.Terminator})
			return err
		})
		if err != nil {
			return outcome{err: fmt.Errorf("ivr: record: %w", err)}
		}
		r.vars[s.Var] = clip(rec.ID)
		return outcome{next: s.Next}
	case *Survey:
		return r.survey(ctx, flow, n, s)
	case *Set:
		vals := make(map[string]string, len(s.Vars))
		for k, v := range s.Vars { // every value sees the variables as they were
			vals[k] = clip(r.expand(v))
		}
		for k, v := range vals {
			r.vars[k] = v
		}
		return outcome{next: s.Next}
	case *HTTPLookup:
		return r.httpLookup(ctx, s)
	case *SubFlow:
		return r.subFlow(flow, n, s)
	case *Return:
		return outcome{end: EndReturned}
	case *Hangup:
		if err := r.playOptional(ctx, flow, n, s.Prompt); err != nil {
			return outcome{err: err}
		}
		return outcome{end: EndHangup}
	case *Fax:
		return r.fax(ctx, s)
	}
	return outcome{err: fmt.Errorf("ivr: node type %q cannot run", n.Type)}
}

func (s *Switch) choose(v string) string {
	if s.Match == "prefix" {
		best, bestLen := s.Default, -1
		for k, target := range s.Cases {
			if strings.HasPrefix(v, k) && (len(k) > bestLen || len(k) == bestLen && k < best) {
				best, bestLen = target, len(k)
			}
		}
		return best
	}
	if t, ok := s.Cases[v]; ok {
		return t
	}
	return s.Default
}

func (r *run) menu(ctx context.Context, flow *Flow, n *Node, s *Menu) outcome {
	attempts := orInt(s.Attempts, DefaultMenuAttempts)
	for try := 1; try <= attempts; try++ {
		key, err := r.collect(ctx, CollectRequest{Prompt: s.Prompt, Max: 1, FirstTimeout: orDuration(s.Timeout, DefaultMenuTimeout)})
		if err != nil {
			return outcome{err: fmt.Errorf("ivr: menu: %w", err)}
		}
		if target, ok := s.Options[key]; ok && key != "" {
			return outcome{next: target}
		}
		if try == attempts {
			break
		}
		re := s.InvalidPrompt
		if key == "" {
			re = s.TimeoutPrompt
		}
		if err := r.playOptional(ctx, flow, n, re); err != nil {
			return outcome{err: err}
		}
	}
	if s.Fallback != "" {
		return outcome{next: s.Fallback}
	}
	return outcome{err: errors.New("ivr: menu: no valid choice")}
}

func (r *run) collectNode(ctx context.Context, flow *Flow, n *Node, s *Collect) outcome {
	attempts := orInt(s.Attempts, 1)
	for try := 1; try <= attempts; try++ {
		digits, err := r.collect(ctx, CollectRequest{Prompt: s.Prompt, Max: s.Max, Terminator: s.Terminator,
			FirstTimeout: orDuration(s.Timeout, DefaultMenuTimeout), InterDigit: orDuration(s.InterDigit, DefaultInterDigit)})
		if err != nil {
			return outcome{err: fmt.Errorf("ivr: collect: %w", err)}
		}
		if len(digits) >= s.Min && (digits != "" || s.Min == 0) {
			r.vars[s.Var] = digits
			return outcome{next: s.Next}
		}
		if try < attempts {
			if err := r.playOptional(ctx, flow, n, s.InvalidPrompt); err != nil {
				return outcome{err: err}
			}
		}
	}
	r.vars[s.Var] = ""
	if s.Fail != "" {
		return outcome{next: s.Fail}
	}
	return outcome{next: s.Next}
}

func (r *run) survey(ctx context.Context, flow *Flow, n *Node, s *Survey) outcome {
	lo, hi := s.bounds()
	attempts := orInt(s.Attempts, DefaultSurveyAttempts)
	ans := SurveyAnswer{Flow: flow.ID, Node: n.ID, Question: s.Question}
	for try := 1; try <= attempts; try++ {
		key, err := r.collect(ctx, CollectRequest{Prompt: s.Prompt, Max: 1, FirstTimeout: orDuration(s.Timeout, DefaultMenuTimeout)})
		if err != nil {
			return outcome{err: fmt.Errorf("ivr: survey: %w", err)}
		}
		if len(key) == 1 && key[0] >= '0' && key[0] <= '9' && int(key[0]-'0') >= lo && int(key[0]-'0') <= hi {
			ans.Rating, ans.Rated = int(key[0]-'0'), true
			break
		}
		if key == "" { // silence: the caller does not want to rate
			break
		}
		if try < attempts {
			if err := r.playOptional(ctx, flow, n, s.InvalidPrompt); err != nil {
				return outcome{err: err}
			}
		}
	}
	ans.At = r.now()
	r.res.Surveys = append(r.res.Surveys, ans)
	if s.Var != "" {
		if ans.Rated {
			r.vars[s.Var] = string(rune('0' + ans.Rating))
		} else {
			r.vars[s.Var] = ""
		}
	}
	if ans.Rated {
		if err := r.playOptional(ctx, flow, n, s.Thanks); err != nil {
			return outcome{err: err}
		}
	}
	return outcome{next: s.Next}
}

func (r *run) queue(ctx context.Context, flow *Flow, n *Node, s *Queue) outcome {
	if err := r.playOptional(ctx, flow, n, s.Prompt); err != nil {
		return outcome{err: err}
	}
	req := QueueRequest{Group: s.Group, MaxWait: s.MaxWait.D(), Vars: copyVars(r.vars)}
	if s.Group != 0 {
		r.res.Target = fmt.Sprintf("group:%d", s.Group)
	} else {
		req.CustomerType = r.expand(s.CustomerType)
		r.res.Target = "type:" + req.CustomerType
		if req.CustomerType == "" {
			return outcome{err: errors.New("ivr: queue: customer type is empty")}
		}
	}
	out, err := r.call.Queue(ctx, req)
	if err != nil {
		return outcome{err: fmt.Errorf("ivr: queue %s: %w", r.res.Target, err)}
	}
	if out.Served {
		return outcome{end: EndQueued}
	}
	if s.Overflow != "" {
		return outcome{next: s.Overflow}
	}
	return outcome{err: fmt.Errorf("ivr: queue %s: not served (%s)", r.res.Target, out.Reason)}
}

func (r *run) transfer(ctx context.Context, flow *Flow, n *Node, s *Transfer) outcome {
	if err := r.playOptional(ctx, flow, n, s.Prompt); err != nil {
		return outcome{err: err}
	}
	to := r.expand(s.To)
	r.res.Target = to
	var err error
	if to == "" || !isDialString(to) {
		err = fmt.Errorf("ivr: transfer: %q is not a number", to)
	} else if err = r.call.Transfer(ctx, TransferRequest{To: to, Timeout: s.Timeout.D()}); err == nil {
		return outcome{end: EndTransferred}
	}
	if r.gone(ctx, err) {
		return outcome{err: err}
	}
	r.res.Failures = append(r.res.Failures, Failure{Flow: flow.ID, Node: n.ID, Err: err})
	if s.Fail != "" {
		return outcome{next: s.Fail}
	}
	return outcome{err: fmt.Errorf("ivr: transfer to %q: %w", to, err)}
}

func (r *run) httpLookup(ctx context.Context, s *HTTPLookup) outcome {
	if r.e.HTTP == nil {
		return outcome{err: errors.New("ivr: http: no HTTP client configured")}
	}
	req := HTTPRequest{Method: s.method(), URL: expand(s.URL, r.lookup, url.QueryEscape)}
	if u, err := url.Parse(req.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return outcome{err: fmt.Errorf("ivr: http: bad url %q", req.URL)}
	}
	if req.Method == "POST" {
		body := make(map[string]string, len(s.Body))
		for k, v := range s.Body {
			body[k] = r.expand(v)
		}
		b, err := json.Marshal(body)
		if err != nil {
			return outcome{err: fmt.Errorf("ivr: http: %w", err)}
		}
		req.Body = b
	}
	hctx, cancel := context.WithTimeout(ctx, orDuration(s.Timeout, DefaultHTTPTimeout))
	defer cancel()
	data, err := r.e.HTTP.Fetch(hctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{err: ctx.Err()}
		}
		return outcome{err: fmt.Errorf("ivr: http %s %s: %w", req.Method, req.URL, err)}
	}
	if len(s.Results) == 0 {
		return outcome{next: s.Next}
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return outcome{err: fmt.Errorf("ivr: http %s: answer is not JSON: %w", req.URL, err)}
	}
	vals := make(map[string]string, len(s.Results))
	for v, path := range s.Results {
		vals[v], _ = jsonPath(doc, path)
	}
	for k, v := range vals {
		r.vars[k] = clip(v)
	}
	return outcome{next: s.Next}
}

func (r *run) subFlow(flow *Flow, n *Node, s *SubFlow) outcome {
	maxDepth := r.e.MaxDepth
	if maxDepth <= 0 {
		maxDepth = 8
	}
	if len(r.stack) >= maxDepth {
		return outcome{err: fmt.Errorf("ivr: call %q: sub-flows nested deeper than %d", s.Flow, maxDepth)}
	}
	sub := r.pinned[s.Flow]
	if s.Version != 0 || sub == nil {
		var err error
		if sub, err = r.e.Flows.Flow(s.Flow, s.Version); err != nil {
			return outcome{err: fmt.Errorf("ivr: call %q: %w", s.Flow, err)}
		}
		if s.Version == 0 {
			if r.pinned == nil {
				r.pinned = make(map[string]*Flow)
			}
			r.pinned[s.Flow] = sub
		}
	}
	r.stack = append(r.stack, frame{flow: flow, call: n.ID, next: s.Next, sub: sub})
	return outcome{end: endEnterSub}
}

// jsonPath follows a dotted path ("customer.name", "items.0.id") into a
// decoded JSON document and formats the value found.
func jsonPath(doc any, path string) (string, bool) {
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[part]
			if !ok {
				return "", false
			}
			cur = next
		case []any:
			i := 0
			if part == "" || len(part) > 6 {
				return "", false
			}
			for _, c := range part {
				if c < '0' || c > '9' {
					return "", false
				}
				i = i*10 + int(c-'0')
			}
			if i >= len(v) {
				return "", false
			}
			cur = v[i]
		default:
			return "", false
		}
	}
	switch v := cur.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
}

func copyVars(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func clip(s string) string {
	if len(s) <= maxVarLen {
		return s
	}
	// Cut on a rune boundary so a Chinese name stays valid UTF-8.
	cut := maxVarLen
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut]
}

// fax runs a fax node: the prompt, then the document sent to the caller's
// fax machine, or one received from it, on the same call.
func (r *run) fax(ctx context.Context, s *Fax) outcome {
	fc, ok := r.call.(FaxCall)
	if !ok {
		return outcome{err: errors.New("ivr: fax: this call cannot fax")}
	}
	if !s.Prompt.IsZero() {
		if err := r.play(ctx, s.Prompt); err != nil {
			return outcome{err: fmt.Errorf("ivr: fax: %w", err)}
		}
	}
	res, err := fc.Fax(ctx, FaxRequest{Document: s.Send})
	if err != nil {
		return outcome{err: fmt.Errorf("ivr: fax: %w", err)}
	}
	if s.Var != "" {
		r.vars[s.Var] = clip(res.ID)
	}
	if s.Next == "" {
		return outcome{end: EndHangup}
	}
	return outcome{next: s.Next}
}
