package cc

import (
	"strconv"
	"time"

	"callbox/telephony/cc/ccevent"
)

// Fact is one queue call, written as its events happen, so that reports
// read rows and never re-derive them from logs. A call transferred within
// the centre, called back or surveyed stays one row.
type Fact struct {
	Call         string     `json:"call"`
	Group        int        `json:"group,omitempty"`
	Number       string     `json:"number"`
	CustomerType string     `json:"customer_type,omitempty"`
	Queued       time.Time  `json:"queued"`
	Rings        []FactRing `json:"rings,omitempty"`
	Answered     time.Time  `json:"answered,omitzero"`
	Agent        string     `json:"agent,omitempty"`
	Ended        time.Time  `json:"ended,omitzero"`
	// Disposition is waiting, answered, abandoned, overflowed, callback,
	// callback failed or stopped.
	Disposition   string   `json:"disposition"`
	WaitSeconds   float64  `json:"wait_seconds"`
	TalkSeconds   float64  `json:"talk_seconds,omitempty"`
	WrapUpSeconds float64  `json:"wrap_up_seconds,omitempty"`
	Transfers     []string `json:"transfers,omitempty"`
	Recording     string   `json:"recording,omitempty"`
	// Survey is the survey score, when the caller gave one.
	Survey *int `json:"survey,omitempty"`
	// Overflow names where the call overflowed to.
	Overflow string `json:"overflow,omitempty"`
}

// FactRing is one ring of an agent for the call.
type FactRing struct {
	Agent  string    `json:"agent"`
	At     time.Time `json:"at"`
	Result string    `json:"result"` // ringing, answered, no answer, rejected, answered elsewhere, caller gone
}

// FactStore keeps the fact rows: PutFact inserts or replaces the row of
// f.Call. firmware/app stores them in the box's store.
type FactStore interface {
	PutFact(f Fact) error
}

// FactReader gives stored fact rows back. A FactStore that implements it
// lets a restart count the day's group figures again.
type FactReader interface {
	// FactsSince returns the rows of calls that began at or after from
	// (by their ids' time), in any order.
	FactsSince(from time.Time) ([]Fact, error)
}

// SLFormula is the service-level figure the box uses, as the API and the
// pages show it next to the number: calls answered within the group's
// threshold over calls answered plus calls abandoned after it; calls
// abandoned within 5 seconds are left out.
const SLFormula = "SL = answered within T / (answered + abandoned after T), abandons under 5 s excluded"

// ShortAbandon is the wait under which an abandoned call is left out of
// the service level.
const ShortAbandon = 5 * time.Second

// fact brings the fact row of the event's call up to date (loop).
func (s *Service) fact(e ccevent.Event) {
	if e.Type == ccevent.AgentState {
		s.wrapUpFact(e)
		return
	}
	if e.Call == "" {
		return
	}
	f := s.facts[e.Call]
	if f == nil {
		if e.Type != ccevent.CallQueued {
			return
		}
		f = &Fact{Call: e.Call, Queued: e.Time, Disposition: "waiting"}
		s.facts[e.Call] = f
	}
	switch e.Type {
	case ccevent.CallQueued:
		if f.Group == 0 {
			f.Group = e.Group
		}
		f.Number = e.Number
		f.CustomerType = e.Detail["customer_type"]
		if f.Disposition == "answered" { // back in a queue after a transfer
			return
		}
	case ccevent.CallRinging:
		f.Rings = append(f.Rings, FactRing{Agent: e.Agent, At: e.Time, Result: "ringing"})
	case ccevent.CallRingEnded:
		f.ring(e.Agent, e.Reason)
	case ccevent.CallAnswered:
		if f.Answered.IsZero() {
			f.Answered = e.Time
			f.WaitSeconds = seconds(e.Time.Sub(f.Queued))
		}
		f.Agent, f.Disposition = e.Agent, "answered"
		f.ring(e.Agent, "answered")
	case ccevent.CallAbandoned:
		f.Ended, f.Disposition = e.Time, "abandoned"
		f.WaitSeconds = seconds(e.Time.Sub(f.Queued))
	case ccevent.CallOverflowed:
		f.Disposition, f.Overflow = "overflowed", e.Target
		f.WaitSeconds = seconds(e.Time.Sub(f.Queued))
	case ccevent.CallbackRequested:
		f.Disposition = "callback"
		f.WaitSeconds = seconds(e.Time.Sub(f.Queued))
	case ccevent.CallbackFailed:
		if e.Reason == "gave up" {
			f.Disposition, f.Ended = "callback failed", e.Time
		}
	case ccevent.CallTransferred:
		f.Transfers = append(f.Transfers, e.Target)
	case ccevent.CallEnded:
		f.Ended = e.Time
		if !f.Answered.IsZero() {
			f.TalkSeconds = seconds(e.Time.Sub(f.Answered))
		}
		if e.Agent != "" {
			s.wrapOf[e.Agent] = e.Call
		}
	case ccevent.SurveyAnswered:
		if n, err := strconv.Atoi(e.Detail["score"]); err == nil {
			f.Survey = &n
		}
	case ccevent.Notice:
		if id := e.Detail["recording"]; id != "" {
			f.Recording = id
		}
	case ccevent.SupervisorAction:
		if e.Detail["action"] == "stop request" {
			f.Disposition = "stopped"
		}
	default:
		return
	}
	s.saveFact(f)
}

func (f *Fact) ring(agent, result string) {
	for i := len(f.Rings) - 1; i >= 0; i-- {
		if f.Rings[i].Agent == agent && f.Rings[i].Result == "ringing" {
			f.Rings[i].Result = result
			return
		}
	}
}

// wrapUpFact keeps the wrap-up time of the call an agent wrapped up, and
// lets the row go from memory once the agent has moved on (CallEnded
// names the agent's call before the engine's state changes arrive).
func (s *Service) wrapUpFact(e ccevent.Event) {
	if e.State == "wrap_up" {
		s.wrapSince[e.Agent] = e.Time
		return
	}
	call, ok := s.wrapOf[e.Agent]
	if !ok {
		return
	}
	delete(s.wrapOf, e.Agent)
	f := s.facts[call]
	if since, ok := s.wrapSince[e.Agent]; ok {
		delete(s.wrapSince, e.Agent)
		if f != nil {
			f.WrapUpSeconds = seconds(e.Time.Sub(since))
			s.saveFact(f)
		}
	}
	if f != nil && s.byID[call] == nil {
		delete(s.facts, call) // nothing more will happen to it
	}
}

// closeFact marks a call's row ended once its session is over, and drops
// it from memory unless a wrap-up is still to come.
func (s *Service) closeFact(ses *session) {
	f := s.facts[ses.id]
	if f == nil {
		return
	}
	if f.Ended.IsZero() && f.Disposition != "callback" {
		f.Ended = s.clock.Now()
		s.saveFact(f)
	}
	if f.Disposition == "callback" {
		return // the callback session continues the row
	}
	if f.Agent == "" || s.wrapOf[f.Agent] != ses.id {
		delete(s.facts, ses.id) // no wrap-up of it to come
	}
}

func seconds(d time.Duration) float64 {
	return float64(d.Round(100*time.Millisecond)) / float64(time.Second)
}

// saveFact hands a copy of the row to the writer; a store that falls far
// behind loses rows rather than holding up the service (counted, logged).
func (s *Service) saveFact(f *Fact) {
	if s.opts.Facts == nil {
		return
	}
	c := *f
	c.Rings = append([]FactRing(nil), f.Rings...)
	c.Transfers = append([]string(nil), f.Transfers...)
	select {
	case s.factQ <- c:
	default:
		s.factsDropped.Add(1)
		s.log.Warn("call fact not stored: the store is behind", "call", f.Call)
	}
}

// writeFacts stores the rows the loop hands it until the service stops,
// then what is left.
func (s *Service) writeFacts() {
	defer s.wg.Done()
	put := func(f Fact) {
		if err := s.opts.Facts.PutFact(f); err != nil {
			s.log.Warn("call fact not stored", "call", f.Call, "err", err)
			s.notice(f.Call, "", "store error: "+err.Error())
		}
	}
	for {
		select {
		case f := <-s.factQ:
			put(f)
		case <-s.ctx.Done():
			for {
				select {
				case f := <-s.factQ:
					put(f)
				default:
					return
				}
			}
		}
	}
}
