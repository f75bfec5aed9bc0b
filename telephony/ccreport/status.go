// Package ccreport turns the call centre's stored rows into the logs and
// reports people read: the agents' status log as spans (seed 003's 客服状态
// 日志: agent, state, device state, start, end, duration), and reports from
// the fact rows (telephony/cc.Fact) per group or per agent by hour, day,
// week or month. It is pure: the caller reads the rows from its store and
// hands them in; nothing here keeps state or starts goroutines.
package ccreport

import (
	"cmp"
	"slices"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc"
)

// Device states of a status span.
const (
	DeviceRegistered   = "registered"
	DeviceUnregistered = "unregistered"
)

// Span is one row of the status log: an agent in one state from Start to
// End (zero while the agent is still in it).
type Span struct {
	Agent  string
	State  string // acd.State names: offline, idle, break, busy, ringing, talking, wrap_up
	Reason string
	// Device is DeviceRegistered or DeviceUnregistered while the agent is
	// signed in, "" while offline. The log keeps no device events of its
	// own: the engine puts an agent whose device goes away on break with
	// cc.ReasonDeviceDown and back with cc.ReasonDeviceBack, so the device
	// is down from the one to the other (or to the next sign-in).
	Device string
	Call   string
	Start  time.Time
	End    time.Time
}

// Duration is how long the span lasted, 0 while it is open.
func (s Span) Duration() time.Duration {
	if s.End.IsZero() {
		return 0
	}
	return s.End.Sub(s.Start)
}

// Spans turns agents' status entries (any order, any agents) into spans,
// newest start first as the seed's log lists them. An agent's last span is
// open.
func Spans(es []acd.StatusEntry) []Span {
	es = slices.Clone(es)
	slices.SortStableFunc(es, func(x, y acd.StatusEntry) int {
		return cmp.Or(cmp.Compare(x.Agent, y.Agent), x.At.Compare(y.At))
	})
	out := make([]Span, 0, len(es))
	down := false
	for i, e := range es {
		if i == 0 || es[i-1].Agent != e.Agent {
			down = false
		}
		switch {
		case e.To == acd.Offline || e.From == acd.Offline:
			down = false
		case e.Reason == cc.ReasonDeviceBack:
			down = false
		}
		if e.To == acd.Break && e.Reason == cc.ReasonDeviceDown {
			down = true
		}
		s := Span{Agent: string(e.Agent), State: e.To.String(), Reason: e.Reason, Call: string(e.Call), Start: e.At}
		if e.To != acd.Offline {
			s.Device = DeviceRegistered
			if down {
				s.Device = DeviceUnregistered
			}
		}
		if i+1 < len(es) && es[i+1].Agent == e.Agent {
			s.End = es[i+1].At
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(x, y Span) int { return cmp.Or(y.Start.Compare(x.Start), cmp.Compare(x.Agent, y.Agent)) })
	return out
}

// Agents selects agents for a log: with Exclude false, only those listed
// (none listed: everyone); with Exclude true, everyone but those listed.
type Agents struct {
	IDs     []string
	Exclude bool
}

// Has reports whether the agent is selected.
func (a Agents) Has(id string) bool {
	if len(a.IDs) == 0 {
		return true
	}
	return slices.Contains(a.IDs, id) != a.Exclude
}

// FilterSpans keeps the spans of the selected agents that started in
// [from, to) (a zero to has no end).
func FilterSpans(spans []Span, agents Agents, from, to time.Time) []Span {
	return slices.DeleteFunc(slices.Clone(spans), func(s Span) bool {
		return !agents.Has(s.Agent) || s.Start.Before(from) || !to.IsZero() && !s.Start.Before(to)
	})
}

// FilterFacts keeps the fact rows queued in [from, to) (a zero to has no
// end) that concern a selected agent: answered by it or rang it. With no
// agent listed and Exclude false every row is kept, unanswered ones too.
func FilterFacts(facts []cc.Fact, agents Agents, from, to time.Time) []cc.Fact {
	return slices.DeleteFunc(slices.Clone(facts), func(f cc.Fact) bool {
		if f.Queued.Before(from) || !to.IsZero() && !f.Queued.Before(to) {
			return true
		}
		if len(agents.IDs) == 0 {
			return false
		}
		who := factAgents(f)
		if len(who) == 0 {
			return !agents.Exclude // nobody's call: only "everyone but" keeps it
		}
		return !slices.ContainsFunc(who, agents.Has)
	})
}

// factAgents lists the agents a row concerns: who answered it and whom it
// rang.
func factAgents(f cc.Fact) []string {
	var out []string
	if f.Agent != "" {
		out = append(out, f.Agent)
	}
	for _, r := range f.Rings {
		if !slices.Contains(out, r.Agent) {
			out = append(out, r.Agent)
		}
	}
	return out
}
