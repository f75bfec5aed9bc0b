package acd

import "time"

// QueueStats are a group's live figures; counters are for today (the
// clock's calendar day) and reset at midnight.
type QueueStats struct {
	Group       int
	Name        string
	Waiting     int           // callers waiting now with this primary group (callbacks excluded)
	Callbacks   int           // callbacks keeping a place
	LongestWait time.Duration // of those waiting now
	Offered     int
	Answered    int
	AnsweredSL  int // answered within the service-level threshold
	// SLThreshold is the group's service-level threshold.
	SLThreshold time.Duration
	Abandoned   int
	TimedOut    int // left by max wait, join refusal or leave rule
	// ServiceLevel is AnsweredSL / (Answered + Abandoned + TimedOut); 1 when
	// no call has finished waiting yet.
	ServiceLevel float64
}

// AgentStatus is an agent's live figures.
type AgentStatus struct {
	Agent    AgentID
	Name     string
	State    State
	Reason   string
	Since    time.Time
	InState  time.Duration
	Call     CallID // ringing or talking
	Answered int    // today
	TalkTime time.Duration
}

// WaitingCall is one line of the supervisor's waiting list.
type WaitingCall struct {
	Call     CallID
	Number   string
	Type     int
	Group    int // primary group id (0 when its groups were removed)
	Waited   time.Duration
	Callback bool
	Ringing  []AgentID
}

// Queues returns every group's figures, in configuration order.
func (e *Engine) Queues() []QueueStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock.Now()
	e.rollDay(now)
	out := make([]QueueStats, len(e.groups))
	for i, g := range e.groups {
		q := QueueStats{Group: g.cfg.ID, Name: g.cfg.Name, Offered: g.c.offered, Answered: g.c.answered,
			AnsweredSL: g.c.answeredSL, SLThreshold: g.cfg.SLThreshold, Abandoned: g.c.abandoned, TimedOut: g.c.timedOut,
			ServiceLevel: 1}
		if n := g.c.answered + g.c.abandoned + g.c.timedOut; n > 0 {
			q.ServiceLevel = float64(g.c.answeredSL) / float64(n)
		}
		for _, c := range e.queue {
			if c.primary() != i {
				continue
			}
			if c.state == callWaiting {
				q.Waiting++
				q.LongestWait = max(q.LongestWait, now.Sub(c.queued))
			} else {
				q.Callbacks++
			}
		}
		out[i] = q
	}
	return out
}

// Agents returns every agent's figures, in configuration order.
func (e *Engine) Agents() []AgentStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock.Now()
	e.rollDay(now)
	out := make([]AgentStatus, len(e.agents))
	for i, a := range e.agents {
		s := AgentStatus{Agent: a.cfg.ID, Name: a.cfg.Name, State: a.state, Reason: a.reason, Since: a.since,
			InState: now.Sub(a.since), Answered: a.answered, TalkTime: a.talk}
		if a.call != nil {
			s.Call = a.call.id
			if a.state == Talking {
				s.TalkTime += now.Sub(a.call.answered)
			}
		}
		out[i] = s
	}
	return out
}

// Agent returns one agent's figures.
func (e *Engine) Agent(id AgentID) (AgentStatus, error) {
	e.mu.Lock()
	i, ok := e.agentIdx[id]
	e.mu.Unlock()
	if !ok {
		return AgentStatus{}, ErrUnknownAgent
	}
	return e.Agents()[i], nil
}

// Waiting returns the waiting list in order of service.
func (e *Engine) Waiting() []WaitingCall {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock.Now()
	out := make([]WaitingCall, 0, len(e.queue))
	for _, c := range e.queue {
		w := WaitingCall{Call: c.id, Number: c.number, Type: c.typ.cfg.ID,
			Waited: now.Sub(c.queued), Callback: c.state != callWaiting}
		if gi := c.primary(); gi >= 0 {
			w.Group = e.groups[gi].cfg.ID
		}
		for _, ai := range c.ringing {
			w.Ringing = append(w.Ringing, e.agents[ai].cfg.ID)
		}
		if c.state == callCBDialing {
			w.Ringing = append(w.Ringing, e.agents[c.agent].cfg.ID)
		}
		out = append(out, w)
	}
	return out
}
