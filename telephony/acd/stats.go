package acd

import (
	"fmt"
	"time"
)

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
				s.TalkTime += now.Sub(later(a.call.answered, dayStart(now)))
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

// DayCounts are the day's counters a restart counts again (from the
// status log and the fact rows) and gives back to a new engine with
// SeedToday.
type DayCounts struct {
	// Day is any time in the day counted; counts of another day than the
	// engine's are dropped.
	Day    time.Time
	Groups map[int]GroupCounts
	Agents map[AgentID]AgentCounts
}

// GroupCounts are a group's counters of the day (see QueueStats).
type GroupCounts struct {
	Offered, Answered, AnsweredSL, Abandoned, TimedOut int
}

// AgentCounts are an agent's counters of the day: calls answered and
// their talk time.
type AgentCounts struct {
	Answered int
	Talk     time.Duration
}

// SeedToday sets today's counters of the groups and agents d names
// (unknown ids are left out), for a restart in the middle of the day. It
// is for the start only: with a call waiting, ringing or talking it is
// refused (ErrBadState), since that call's counts would be lost or
// doubled. Restored callbacks do not count as calls here.
func (e *Engine) SeedToday(d DayCounts) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock.Now()
	e.rollDay(now)
	for _, c := range e.calls {
		if c.state == callWaiting || c.state == callTalking || c.state == callCBDialing {
			return fmt.Errorf("%w: seeding the day's counts with call %s in progress", ErrBadState, c.id)
		}
	}
	if dayKey(d.Day.In(now.Location())) != e.day {
		return nil
	}
	for id, n := range d.Groups {
		if gi, ok := e.groupIdx[id]; ok {
			e.groups[gi].c = counters{offered: n.Offered, answered: n.Answered, answeredSL: n.AnsweredSL,
				abandoned: n.Abandoned, timedOut: n.TimedOut}
		}
	}
	for id, n := range d.Agents {
		if ai, ok := e.agentIdx[id]; ok {
			e.agents[ai].answered, e.agents[ai].talk = n.Answered, n.Talk
		}
	}
	return nil
}
