package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"callbox/firmware/store"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/ivr"
	"callbox/telephony/prompt"
	callswitch "callbox/telephony/switch"
	"callbox/webui"
)

// ccLive serves the running call-centre service to the web API
// (webui.CCLive): each operation is one of the service's Go methods, its
// errors mapped onto webui's sentinels with the service's own words.
type ccLive struct {
	a *App
	// desk remembers the agents a web login bound to their PC's
	// extension, so that the web logout unbinds only those.
	mu   sync.Mutex
	desk map[string]bool
}

var _ webui.CCLive = (*ccLive)(nil)

func (l *ccLive) svc() (*cc.Service, error) {
	if s, _ := l.a.CallCentre(); s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("%w: the call centre is not running", webui.ErrConflict)
}

// liveErr maps the service's errors onto webui's sentinels.
func liveErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cc.ErrUnknownAgent), errors.Is(err, acd.ErrUnknownAgent),
		errors.Is(err, cc.ErrNoCall), errors.Is(err, acd.ErrUnknownCall):
		return fmt.Errorf("%w: %w", webui.ErrNotFound, err)
	case errors.Is(err, ivr.ErrPromptMissing), errors.Is(err, prompt.ErrInvalid):
		return fmt.Errorf("%w: prompts: %w", webui.ErrInvalid, err)
	case errors.Is(err, cc.ErrRefused), errors.Is(err, cc.ErrNotInCall), errors.Is(err, acd.ErrEngaged),
		errors.Is(err, acd.ErrBadState), errors.Is(err, cc.ErrClosed), errors.Is(err, prompt.ErrNoSpeech):
		return fmt.Errorf("%w: %w", webui.ErrConflict, err)
	}
	return err
}

func invalid(field, why string) error {
	return fmt.Errorf("%w: %s: %s", webui.ErrInvalid, field, why)
}

// target turns the API's target into the service's.
func target(t webui.CCTarget) (cc.Target, error) {
	if t.Value == "" {
		return cc.Target{}, invalid("target", "no destination")
	}
	switch t.Kind {
	case "agent":
		return cc.Target{Kind: cc.ToAgent, Agent: acd.AgentID(t.Value)}, nil
	case "group":
		g, err := strconv.Atoi(t.Value)
		if err != nil {
			return cc.Target{}, invalid("target", "a group is its number")
		}
		return cc.Target{Kind: cc.ToGroup, Group: g}, nil
	case "extension":
		return cc.Target{Kind: cc.ToExtension, Number: t.Value}, nil
	case "number":
		return cc.Target{Kind: cc.ToNumber, Number: t.Value}, nil
	}
	return cc.Target{}, invalid("target", "kind is agent, group, extension or number")
}

// prompts are what play asks for: up to three prompts, or a text.
func prompts(req webui.CCRequest) ([]ivr.Prompt, error) {
	var out []ivr.Prompt
	for _, p := range req.Prompts {
		out = append(out, ivr.Prompt{File: p})
	}
	if req.Text != "" {
		out = append(out, ivr.Prompt{Text: req.Text})
	}
	switch {
	case len(out) == 0:
		return nil, invalid("prompts", "name a prompt or give a text")
	case len(out) > 3:
		return nil, invalid("prompts", "at most three")
	}
	return out, nil
}

// CCAgent implements webui.CCLive.
func (l *ccLive) CCAgent(ctx context.Context, actor, agent, op string, req webui.CCRequest) (json.RawMessage, error) {
	s, err := l.svc()
	if err != nil {
		return nil, err
	}
	id := acd.AgentID(agent)
	if _, ok := s.Config().Agent(agent); !ok {
		return nil, fmt.Errorf("%w: agent %s", webui.ErrNotFound, agent)
	}
	// An actor acting on another agent is a supervisor: SetState says so in
	// its event.
	by := ""
	if actor != agent {
		by = actor
	}
	switch op {
	case "login":
		err = s.Login(ctx, id, cc.Device{Extension: req.Device})
	case "logout":
		if by != "" {
			err = s.SetState(ctx, id, acd.Offline, req.Reason, by)
		} else {
			err = s.Logout(ctx, id)
		}
	case "state":
		var to acd.State
		switch req.State {
		case "ready":
			to = acd.Idle
		case "break":
			to = acd.Break
		case "busy":
			to = acd.Busy
		default:
			return nil, invalid("state", "ready, break or busy")
		}
		err = s.SetState(ctx, id, to, req.Reason, by)
	case "wrap-up-done":
		err = s.WrapUpDone(ctx, id)
	case "dial":
		var call string
		if call, err = s.Dial(ctx, id, req.Number, req.CallerID); err == nil {
			return json.Marshal(map[string]string{"call": call})
		}
	case "hold":
		err = s.Hold(ctx, id)
	case "resume":
		err = s.Resume(ctx, id)
	case "hangup":
		err = s.HangupCaller(ctx, id)
	case "transfer", "invite":
		var t cc.Target
		if t, err = target(req.Target); err != nil {
			return nil, err
		}
		if op == "invite" {
			err = s.Invite(ctx, id, t)
		} else {
			err = s.Transfer(ctx, id, t, req.Consult)
		}
	case "transfer-complete":
		err = s.CompleteTransfer(ctx, id)
	case "drop-third":
		err = s.DropThird(ctx, id)
	case "play":
		var ps []ivr.Prompt
		if ps, err = prompts(req); err != nil {
			return nil, err
		}
		err = s.PlayPrompts(ctx, id, ps, req.Release)
	case "run-flow":
		if req.Flow == "" {
			return nil, invalid("flow", "required")
		}
		err = s.RunFlow(ctx, id, req.Flow)
	case "release-ivr":
		err = s.ReleaseToIVR(ctx, id, req.Flow)
	case "dtmf":
		if req.Digits == "" || len(req.Digits) > 32 {
			return nil, invalid("digits", "1 to 32 keys")
		}
		err = s.SendDTMF(ctx, id, req.Digits)
	case "record":
		if req.On == nil {
			return nil, invalid("on", "required")
		}
		err = s.Record(ctx, id, *req.On)
	default:
		return nil, fmt.Errorf("%w: operation %s", webui.ErrNotFound, op)
	}
	return nil, liveErr(err)
}

// CCCall implements webui.CCLive.
func (l *ccLive) CCCall(ctx context.Context, actor, call, op string, req webui.CCRequest) error {
	s, err := l.svc()
	if err != nil {
		return err
	}
	switch op {
	case "stop":
		err = s.StopRequest(ctx, actor, call)
	case "assign", "transfer":
		if req.Agent == "" {
			return invalid("agent", "required")
		}
		if op == "assign" {
			err = s.Assign(ctx, actor, call, acd.AgentID(req.Agent))
		} else {
			err = s.TransferService(ctx, actor, call, acd.AgentID(req.Agent))
		}
	case "teardown":
		err = s.TearDown(ctx, actor, call)
	case "monitor":
		err = s.Monitor(ctx, acd.AgentID(actor), call, req.Phone)
	case "monitor-mode":
		modes := map[string]callswitch.Mode{"listen": callswitch.ModeListen, "whisper": callswitch.ModeWhisper, "barge": callswitch.ModeTalk}
		m, ok := modes[req.State]
		if !ok {
			return invalid("state", "listen, whisper or barge")
		}
		err = s.SetMonitorMode(ctx, acd.AgentID(actor), call, m)
	case "play":
		var ps []ivr.Prompt
		if ps, err = prompts(req); err != nil {
			return err
		}
		if len(ps) != 1 {
			return invalid("prompts", "one prompt or a text")
		}
		err = s.PlayToCaller(ctx, actor, call, ps[0])
	default:
		return fmt.Errorf("%w: operation %s", webui.ErrNotFound, op)
	}
	return liveErr(err)
}

// The live views as the API shows them (snake_case, durations in
// seconds): the contract the desks read.
type (
	queueView struct {
		Group        int     `json:"group"`
		Name         string  `json:"name"`
		Waiting      int     `json:"waiting"`
		Callbacks    int     `json:"callbacks"`
		LongestWaitS float64 `json:"longest_wait_s"`
		Offered      int     `json:"offered"`
		Answered     int     `json:"answered"`
		AnsweredSL   int     `json:"answered_in_sl"`
		Abandoned    int     `json:"abandoned"`
		TimedOut     int     `json:"timed_out"`
		SLThresholdS float64 `json:"sl_threshold_s"`
		// SL is the engine's live service level, SLFormula how it counts.
		SL        float64 `json:"sl"`
		SLFormula string  `json:"sl_formula"`
	}
	agentView struct {
		Agent    string    `json:"agent"`
		Name     string    `json:"name"`
		State    string    `json:"state"`
		Reason   string    `json:"reason,omitempty"`
		Since    time.Time `json:"since"`
		InStateS float64   `json:"in_state_s"`
		Call     string    `json:"call,omitempty"`
		// AnsweredToday and TalkS count today's calls in.
		AnsweredToday int       `json:"answered_today"`
		TalkS         float64   `json:"talk_s"`
		Device        cc.Device `json:"device"`
		// Registered: the device is reachable (a SIP phone registered, an
		// FXS port working); false with no device.
		Registered bool `json:"registered"`
	}
	waitingView struct {
		Call     string   `json:"call"`
		Number   string   `json:"number"`
		Type     int      `json:"customer_type,omitempty"`
		Group    int      `json:"group"`
		WaitedS  float64  `json:"waited_s"`
		Callback bool     `json:"callback,omitempty"`
		Ringing  []string `json:"ringing,omitempty"`
	}
	figuresView struct {
		Queues    []queueView      `json:"queues"`
		Agents    []agentView      `json:"agents"`
		Waiting   []waitingView    `json:"waiting"`
		Services  []cc.ServiceInfo `json:"services"`
		SLFormula string           `json:"sl_formula"`
	}
)

func waitingViews(ws []acd.WaitingCall) []waitingView {
	out := make([]waitingView, 0, len(ws))
	for _, w := range ws {
		v := waitingView{Call: string(w.Call), Number: w.Number, Type: w.Type, Group: w.Group,
			WaitedS: w.Waited.Seconds(), Callback: w.Callback}
		for _, r := range w.Ringing {
			v.Ringing = append(v.Ringing, string(r))
		}
		out = append(out, v)
	}
	return out
}

func figures(f cc.Figures, svcs []cc.ServiceInfo) figuresView {
	v := figuresView{Queues: []queueView{}, Agents: []agentView{}, Waiting: waitingViews(f.Waiting), Services: svcs,
		SLFormula: f.SLFormula}
	if v.Services == nil {
		v.Services = []cc.ServiceInfo{}
	}
	for _, q := range f.Queues {
		v.Queues = append(v.Queues, queueView{Group: q.Group, Name: q.Name, Waiting: q.Waiting, Callbacks: q.Callbacks,
			LongestWaitS: q.LongestWait.Seconds(), Offered: q.Offered, Answered: q.Answered, AnsweredSL: q.AnsweredSL,
			Abandoned: q.Abandoned, TimedOut: q.TimedOut, SLThresholdS: q.SLThreshold.Seconds(), SL: q.ServiceLevel,
			SLFormula: f.SLFormula})
	}
	for _, a := range f.Agents {
		v.Agents = append(v.Agents, agentView{Agent: string(a.Agent), Name: a.Name, State: a.State.String(), Reason: a.Reason,
			Since: a.Since, InStateS: a.InState.Seconds(), Call: string(a.Call), AnsweredToday: a.Answered,
			TalkS: a.TalkTime.Seconds(), Device: a.Device, Registered: !a.Device.IsZero() && !a.DeviceDown})
	}
	return v
}

// CCView implements webui.CCLive.
func (l *ccLive) CCView(ctx context.Context, view string) (json.RawMessage, error) {
	s, err := l.svc()
	if err != nil {
		return nil, err
	}
	var v any
	switch view {
	case "figures":
		f, err := s.Figures(ctx)
		if err != nil {
			return nil, liveErr(err)
		}
		svcs, err := s.Services(ctx)
		if err != nil {
			return nil, liveErr(err)
		}
		v = figures(f, svcs)
	case "waiting":
		v = map[string]any{"waiting": waitingViews(s.Waiting())}
	case "services":
		svcs, err := s.Services(ctx)
		if err != nil {
			return nil, liveErr(err)
		}
		if svcs == nil {
			svcs = []cc.ServiceInfo{}
		}
		v = map[string]any{"services": svcs}
	default:
		agent, ok := strings.CutPrefix(view, "agent:")
		if !ok {
			return nil, fmt.Errorf("%w: view %s", webui.ErrNotFound, view)
		}
		if v, err = agentLine(ctx, s, agent); err != nil {
			return nil, err
		}
	}
	return json.Marshal(v)
}

// agentLineView is GET /api/v1/cc/agents/:agent: the agent's line of the
// figures and the service they are in, if any.
type agentLineView struct {
	agentView
	Service *cc.ServiceInfo `json:"service,omitempty"`
}

func agentLine(ctx context.Context, s *cc.Service, agent string) (agentLineView, error) {
	f, err := s.Figures(ctx)
	if err != nil {
		return agentLineView{}, liveErr(err)
	}
	svcs, err := s.Services(ctx)
	if err != nil {
		return agentLineView{}, liveErr(err)
	}
	for _, a := range figures(f, nil).Agents {
		if a.Agent != agent {
			continue
		}
		out := agentLineView{agentView: a}
		for i := range svcs {
			if string(svcs[i].Agent) == agent {
				out.Service = &svcs[i]
			}
		}
		return out, nil
	}
	return agentLineView{}, fmt.Errorf("%w: agent %s", webui.ErrNotFound, agent)
}

// CCExport implements webui.CCLive: the fact rows whose call entered the
// queue in [from, to), or every agent's state log in it.
func (l *ccLive) CCExport(ctx context.Context, w io.Writer, what string, from, to time.Time) error {
	switch what {
	case "facts":
		var facts []cc.Fact
		err := l.a.withDB(func(db *store.DB) (err error) {
			facts, err = (&factStore{db: db}).Facts()
			return err
		})
		if err != nil {
			return err
		}
		facts = slices.DeleteFunc(facts, func(f cc.Fact) bool { return f.Queued.Before(from) || !f.Queued.Before(to) })
		return cc.WriteFactsCSV(w, facts)
	case "status":
		snap := l.a.callCentreSnapshot()
		if snap == nil {
			return fmt.Errorf("%w: the call centre is not running", webui.ErrConflict)
		}
		var all []acd.StatusEntry
		err := l.a.withDB(func(db *store.DB) error {
			st := NewACDStore(db)
			for _, ag := range snap.Config().Agents {
				es, err := st.StatusEntries(acd.AgentID(ag.ID), from, to)
				if err != nil {
					return err
				}
				all = append(all, es...)
			}
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortStableFunc(all, func(x, y acd.StatusEntry) int { return x.At.Compare(y.At) })
		return cc.WriteStatusCSV(w, all)
	}
	return fmt.Errorf("%w: export %s", webui.ErrNotFound, what)
}

// CCDeskLogin implements webui.CCLive: an agent logging in to the web desk
// from a PC with an extension-to-PC binding is logged in on that
// extension.
func (l *ccLive) CCDeskLogin(ctx context.Context, agent, addr string) (bool, error) {
	s, err := l.svc()
	if err != nil {
		return false, nil // no call centre: nothing to bind
	}
	ext, ok := s.Config().Binding(addr)
	if !ok {
		return false, nil
	}
	if _, known := s.Config().Agent(agent); !known {
		return false, nil // a web user who is no agent of the configuration
	}
	if err := s.Login(ctx, acd.AgentID(agent), cc.Device{Extension: ext}); err != nil {
		return false, liveErr(err)
	}
	l.mu.Lock()
	l.desk[agent] = true
	l.mu.Unlock()
	return true, nil
}

// CCDeskLogout implements webui.CCLive: the web logout of an agent the
// desk bound logs it out, unbinding the PC's extension.
func (l *ccLive) CCDeskLogout(ctx context.Context, agent string) error {
	l.mu.Lock()
	bound := l.desk[agent]
	delete(l.desk, agent)
	l.mu.Unlock()
	if !bound {
		return nil
	}
	s, err := l.svc()
	if err != nil {
		return nil
	}
	return liveErr(s.Logout(ctx, acd.AgentID(agent)))
}
