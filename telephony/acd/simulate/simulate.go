// Package simulate runs the real ACD engine on a virtual clock over
// simulated traffic: Poisson arrivals, handle times drawn from an
// exponential, fixed or lognormal distribution, exponential patience, and
// agents who answer at once. It is the engine behind
// "callboxctl acd simulate", for sizing staff the way Erlang C tables do,
// but with the real routing rules, wrap-up, skills and schedules.
//
// Every call that arrives within the simulated duration is followed to its
// end (the queue drains after arrivals stop), so offered = answered +
// abandoned + overflowed. Service level is the fraction of offered calls
// answered within the threshold; occupancy is agents' handling time (talk
// plus wrap-up) over their signed-in time, both within the duration.
package simulate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"callbox/telephony/acd"
)

// Dist is a handle-time distribution.
type Dist uint8

// Handle-time distributions, all with the given mean.
const (
	Exponential Dist = iota
	Fixed
	// Lognormal has sigma 0.8 in log space (a coefficient of variation of
	// about 0.95, close to measured call-centre handle times).
	Lognormal
)

// ParseDist reads exp, fixed or lognormal.
func ParseDist(s string) (Dist, error) {
	switch s {
	case "exp", "exponential":
		return Exponential, nil
	case "fixed":
		return Fixed, nil
	case "lognormal":
		return Lognormal, nil
	}
	return 0, fmt.Errorf("simulate: unknown handle-time distribution %q (want exp, fixed or lognormal)", s)
}

const lognormalSigma = 0.8

// Stream is one source of calls.
type Stream struct {
	Name        string
	Prefix      string        // callers' numbers start with it (selects the customer type)
	ArrivalRate float64       // calls per hour, Poisson
	AHT         time.Duration // mean handle (talk) time
	Dist        Dist
	Patience    time.Duration // mean of exponential patience; 0: infinite
}

// Shift is a time an agent is signed in, from the start of the simulation.
type Shift struct{ Start, End time.Duration }

// Params is one simulation.
type Params struct {
	Config  acd.Config // groups, agents, customer types
	Streams []Stream
	// Shifts by agent; agents not listed are signed in all the time.
	Shifts      map[acd.AgentID][]Shift
	Duration    time.Duration // arrivals happen in [0, Duration)
	Seed        uint64
	SLThreshold time.Duration // default 20 s
	// AnswerDelay is how long agents let a ring ring before answering; a
	// delay beyond the group's ring timeout makes them miss every call.
	AnswerDelay time.Duration
}

// Simple builds the Params of a single-group centre: n agents with one
// routing rule and wrap-up, one stream of calls.
func Simple(n int, rule acd.Rule, wrapUp time.Duration, s Stream) Params {
	cfg := acd.Config{
		Groups:  []acd.Group{{ID: 1, Name: "all", Rule: rule, Enabled: true}},
		Default: acd.CustomerType{Groups: []int{1}},
	}
	for i := range n {
		cfg.Agents = append(cfg.Agents, acd.Agent{ID: acd.AgentID(strconv.Itoa(1001 + i)), Level: i % 5,
			Groups: []acd.Membership{{Group: 1, Skill: 1}}, WrapUp: wrapUp})
	}
	return Params{Config: cfg, Streams: []Stream{s}}
}

// Result is what a simulation measured.
type Result struct {
	Offered, Answered, Abandoned, Overflowed int
	AnsweredSL                               int
	ServiceLevel                             float64 // AnsweredSL / Offered
	ASA                                      time.Duration
	Occupancy                                float64
	Events                                   int // clock events processed
	Wall                                     time.Duration
	// Per stream, in Params order.
	Streams []StreamResult
	// Groups are the engine's own figures per group (its service level
	// counts timed-out callers too); nil when the run crossed midnight,
	// where the engine restarts its daily counters.
	Groups []acd.QueueStats
}

// StreamResult is one stream's share.
type StreamResult struct {
	Name                                     string
	Offered, Answered, AnsweredSL, Abandoned int
	ServiceLevel                             float64
	ASA                                      time.Duration
}

// EventsPerSecond is clock events per wall-clock second.
func (r Result) EventsPerSecond() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.Events) / r.Wall.Seconds()
}

type callRec struct {
	stream   int
	arrived  time.Time
	service  time.Duration
	answered bool
	ended    bool
}

type sim struct {
	p       Params
	rng     *rand.Rand
	clk     *acd.VirtualClock
	e       *acd.Engine
	start   time.Time
	end     time.Time
	calls   map[acd.CallID]*callRec
	res     Result
	waitSum []time.Duration
	busy    time.Duration // handling time within [start, end)
	wrap    map[acd.AgentID]time.Duration
	nextID  int
}

var epoch = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday; midnight resets nothing within a day

// Run simulates p and returns the figures.
func Run(p Params) (Result, error) {
	if p.Duration <= 0 {
		return Result{}, errors.New("simulate: duration must be positive")
	}
	if len(p.Streams) == 0 {
		return Result{}, errors.New("simulate: no traffic")
	}
	for _, s := range p.Streams {
		if s.ArrivalRate < 0 || s.AHT <= 0 {
			return Result{}, fmt.Errorf("simulate: stream %q: need arrival rate >= 0 and handle time > 0", s.Name)
		}
	}
	if p.SLThreshold <= 0 {
		p.SLThreshold = acd.DefaultSLThreshold
	}
	// Counters reset at midnight; a simulation longer than the rest of the
	// day would see the engine's daily figures restart, which Run does not use.
	s := &sim{p: p, rng: newRand(p.Seed), clk: acd.NewVirtualClock(epoch), start: epoch,
		end: epoch.Add(p.Duration), calls: map[acd.CallID]*callRec{}, waitSum: make([]time.Duration, len(p.Streams)),
		wrap: map[acd.AgentID]time.Duration{}}
	s.res.Streams = make([]StreamResult, len(p.Streams))
	for i, st := range p.Streams {
		s.res.Streams[i].Name = st.Name
	}
	for _, a := range p.Config.Agents {
		s.wrap[a.ID] = a.WrapUp
	}
	e, err := acd.New(p.Config, acd.Options{Clock: s.clk, Actions: s, Seed: p.Seed})
	if err != nil {
		return Result{}, err
	}
	s.e = e
	staffed := s.schedule()
	for i := range p.Streams {
		s.arrival(i)
	}
	t0 := time.Now()
	limit := s.end.Add(72 * time.Hour) // a queue that never drains is cut off
	for {
		next, ok := s.clk.Next()
		if !ok || next.After(limit) {
			break
		}
		s.clk.Step()
		s.res.Events++
	}
	s.res.Wall = time.Since(t0)
	r := &s.res
	if s.clk.Now().Before(epoch.Add(24 * time.Hour)) {
		r.Groups = s.e.Queues()
	}
	var waits time.Duration
	for i := range r.Streams {
		sr := &r.Streams[i]
		waits += s.waitSum[i]
		if sr.Offered > 0 {
			sr.ServiceLevel = float64(sr.AnsweredSL) / float64(sr.Offered)
		}
		if sr.Answered > 0 {
			sr.ASA = s.waitSum[i] / time.Duration(sr.Answered)
		}
	}
	if r.Offered > 0 {
		r.ServiceLevel = float64(r.AnsweredSL) / float64(r.Offered)
	}
	if r.Answered > 0 {
		r.ASA = waits / time.Duration(r.Answered)
	}
	if staffed > 0 {
		r.Occupancy = s.busy.Seconds() / staffed.Seconds()
	}
	return *r, nil
}

// schedule signs agents in and out and returns the total staffed time
// within the duration.
func (s *sim) schedule() time.Duration {
	var staffed time.Duration
	for _, a := range s.p.Config.Agents {
		shifts, ok := s.p.Shifts[a.ID]
		if !ok { // all day
			_ = s.e.Login(a.ID)
			staffed += s.p.Duration
			continue
		}
		for _, sh := range shifts {
			id := a.ID
			staffed += max(0, min(sh.End, s.p.Duration)-max(sh.Start, 0))
			s.clk.AfterFunc(sh.Start, func() { _ = s.e.Login(id) })
			if sh.End < s.p.Duration {
				s.clk.AfterFunc(sh.End, func() { s.logout(id) })
			}
		}
	}
	return staffed
}

// logout signs an agent out, waiting until a call in progress ends.
func (s *sim) logout(id acd.AgentID) {
	if err := s.e.Logout(id); errors.Is(err, acd.ErrEngaged) {
		s.clk.AfterFunc(10*time.Second, func() { s.logout(id) })
	}
}

func (s *sim) arrival(i int) {
	st := s.p.Streams[i]
	if st.ArrivalRate <= 0 {
		return
	}
	gap := time.Duration(s.rng.ExpFloat64() / st.ArrivalRate * float64(time.Hour))
	if !s.clk.Now().Add(gap).Before(s.end) {
		return
	}
	s.clk.AfterFunc(gap, func() {
		s.offer(i)
		s.arrival(i)
	})
}

func (s *sim) offer(i int) {
	st := s.p.Streams[i]
	s.nextID++
	id := acd.CallID(strconv.Itoa(s.nextID))
	c := &callRec{stream: i, arrived: s.clk.Now(), service: s.handleTime(st)}
	s.res.Offered++
	s.res.Streams[i].Offered++
	number := st.Prefix + strconv.Itoa(1000000+s.nextID%1000000)
	out, _, err := s.e.Offer(acd.CallInfo{ID: id, Number: number})
	if err != nil || out != acd.Queued {
		s.res.Overflowed++
		return
	}
	s.calls[id] = c
	if st.Patience > 0 {
		p := time.Duration(s.rng.ExpFloat64() * float64(st.Patience))
		s.clk.AfterFunc(p, func() {
			if !c.answered && !c.ended {
				c.ended = true
				s.res.Abandoned++
				s.res.Streams[c.stream].Abandoned++
				_ = s.e.Hangup(id)
				delete(s.calls, id)
			}
		})
	}
}

func (s *sim) handleTime(st Stream) time.Duration {
	m := float64(st.AHT)
	switch st.Dist {
	case Fixed:
		return st.AHT
	case Lognormal:
		mu := math.Log(m) - lognormalSigma*lognormalSigma/2
		return time.Duration(math.Exp(mu + lognormalSigma*s.rng.NormFloat64()))
	}
	return time.Duration(s.rng.ExpFloat64() * m)
}

// clip is the part of [a, b) inside the simulated duration.
func (s *sim) clip(a, b time.Time) time.Duration {
	if a.Before(s.start) {
		a = s.start
	}
	if b.After(s.end) {
		b = s.end
	}
	if b.Before(a) {
		return 0
	}
	return b.Sub(a)
}

// The sim is the engine's Actions: agents answer every ring after
// Params.AnswerDelay (an answer that comes after the ring timed out is
// refused by the engine, as a late pick-up would be).

func (s *sim) Ring(r acd.RingRequest) {
	s.clk.AfterFunc(s.p.AnswerDelay, func() { _ = s.e.Answer(r.Agent, r.Call) })
}

func (s *sim) StopRing(acd.AgentID, acd.CallID) {}

func (s *sim) Connect(id acd.CallID, agent acd.AgentID) {
	c := s.calls[id]
	if c == nil {
		return
	}
	now := s.clk.Now()
	c.answered = true
	w := now.Sub(c.arrived)
	s.res.Answered++
	sr := &s.res.Streams[c.stream]
	sr.Answered++
	s.waitSum[c.stream] += w
	if w <= s.p.SLThreshold {
		s.res.AnsweredSL++
		sr.AnsweredSL++
	}
	s.busy += s.clip(now, now.Add(c.service+s.wrap[agent]))
	s.clk.AfterFunc(c.service, func() {
		c.ended = true
		_ = s.e.Hangup(id)
		delete(s.calls, id)
	})
}

func (s *sim) Play(acd.CallID, string)                 {}
func (s *sim) Announce(acd.CallID, int, time.Duration) {}
func (s *sim) Notify(acd.Notice)                       {}
func (s *sim) CallBack(id acd.CallID, _ string, _ acd.AgentID) {
	s.clk.AfterFunc(0, func() { _ = s.e.CallbackConnected(id) })
}

func (s *sim) Route(id acd.CallID, _ acd.Target) {
	if c := s.calls[id]; c != nil && !c.ended {
		c.ended = true
		s.res.Overflowed++
		delete(s.calls, id)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed+1)) }
