package ccconf

import (
	"slices"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/calendar"
	"callbox/telephony/region"
)

func secs(s int) time.Duration { return time.Duration(s) * time.Second }

// ACD returns the engine's configuration: groups, agents, customer types
// (regions become area-code prefixes in every form a caller presents),
// the inbound blacklist and the settings. The configuration should have
// passed Validate.
func (c *Config) ACD() acd.Config {
	s := c.Settings
	out := acd.Config{
		Groups:          make([]acd.Group, 0, len(c.Groups)),
		Agents:          make([]acd.Agent, 0, len(c.Agents)),
		CustomerTypes:   []acd.CustomerType{},
		MaxNoAnswer:     s.MaxNoAnswer,
		SLThreshold:     secs(s.SLThresholdS),
		CallbackTimeout: secs(s.CallbackTimeoutS),
		CallbackRetry:   secs(s.CallbackRetryS),
		CallbackTries:   s.CallbackTries,
	}
	if s.NoAnswer == NoAnswerSignOut {
		out.NoAnswer = acd.NoAnswerSignOut
	}
	for _, g := range c.Groups {
		ag := acd.Group{
			ID: g.ID, Name: g.Name, Priority: g.Priority, Enabled: g.IsEnabled(), Description: g.Description,
			RingTimeout: secs(g.RingTimeoutS), ProgressStep: secs(g.ProgressStepS), Retry: secs(g.RetryS),
			MinSkill: g.MinSkill, MaxWait: secs(g.MaxWaitS), Overflow: g.Overflow.acd(), MaxQueue: g.MaxQueue,
			Join: emptyRule(g.Join), Leave: emptyRule(g.Leave), Prompt: g.Prompt, PromptEvery: secs(g.PromptEveryS),
			WrapUp: secs(g.WrapUpS), SLThreshold: secs(g.SLThresholdS), NoCallback: !g.CallbackOffer,
		}
		ag.Rule, _ = acd.ParseRule(g.Rule)
		if g.AnnouncePosition || g.AnnounceWait {
			ag.AnnounceEvery = secs(g.AnnounceEveryS)
		}
		for _, r := range g.Relax {
			ag.Relax = append(ag.Relax, acd.RelaxStep{After: secs(r.AfterS), MinSkill: r.MinSkill})
		}
		out.Groups = append(out.Groups, ag)
	}
	for _, a := range c.Agents {
		aa := acd.Agent{ID: acd.AgentID(a.ID), Name: a.Name, Level: a.Level, Device: a.Device,
			AutoAnswer: a.AutoAnswer, WrapUp: secs(a.WrapUpS), MaxNoAnswer: a.MaxNoAnswer,
			Groups: make([]acd.Membership, 0, len(a.Groups))}
		switch a.Mode {
		case ModeSoftphone:
			aa.Mode = acd.ModeSoftphone
		case ModeOutside:
			aa.Mode = acd.ModeOutside
		}
		for _, m := range a.Groups {
			aa.Groups = append(aa.Groups, acd.Membership{Group: m.Group, Skill: m.Skill})
		}
		out.Agents = append(out.Agents, aa)
	}
	for _, t := range c.CustomerTypes {
		at := acd.CustomerType{ID: t.ID, Name: t.Name, Priority: t.Priority, Groups: slices.Clone(t.Groups)}
		if t.Default {
			out.Default = at
			continue
		}
		for _, n := range t.Numbers {
			at.Numbers = appendForms(at.Numbers, n)
		}
		at.Prefixes = slices.Clone(t.Prefixes)
		for _, code := range t.Regions {
			at.Prefixes = append(at.Prefixes, region.Prefixes(code)...)
		}
		at.Categories = slices.Clone(t.Categories)
		out.CustomerTypes = append(out.CustomerTypes, at)
	}
	if out.Default.ID == 0 {
		// No type is the default: an implicit one (id 0, which no type
		// has) with every group, below every configured priority.
		out.Default = acd.CustomerType{Name: "default", Groups: []int{}}
	}
	for _, b := range c.Blacklist {
		if b.Direction != DirOut {
			out.Blacklist = appendForms(out.Blacklist, b.Number)
		}
	}
	return out
}

// appendForms adds a number as written and in its national form, so the
// engine's exact match finds it however the caller presents it (after the
// wiring has put the caller's number in national form, see region).
func appendForms(list []string, n string) []string {
	list = append(list, n)
	if nat := region.National(n); nat != n && nat != "" {
		list = append(list, nat)
	}
	return list
}

func emptyRule(s string) acd.EmptyRule {
	switch s {
	case JoinIfLoggedIn, LeaveNoLoggedIn:
		return acd.EmptyNoLoggedIn
	case JoinIfAvailable, LeaveNoAvail:
		return acd.EmptyNoAvailable
	}
	return acd.EmptyAllow
}

func (t Target) acd() acd.Target {
	switch t.Kind {
	case TargetGroup:
		return acd.Target{Kind: acd.TargetGroup, Group: t.Group}
	case TargetFlow:
		return acd.Target{Kind: acd.TargetIVR, Flow: t.Flow}
	case TargetVoicemail:
		return acd.Target{Kind: acd.TargetVoicemail, Mailbox: t.Mailbox}
	case TargetHangup:
		return acd.Target{Kind: acd.TargetHangup, Message: t.Message}
	}
	return acd.Target{}
}

// Snapshot is a validated configuration compiled for the call-centre
// service: the engine's configuration, the inbound routing, the
// calendars, and lookups by key. It is immutable and safe for concurrent
// use; an edit makes a new one. It implements ivr.CalendarSource.
type Snapshot struct {
	cfg       Config
	acd       acd.Config
	calendars map[string]*calendar.Calendar
	groups    map[int]int
	agents    map[string]int
	trunkDID  map[[2]string]Target // SIP trunk and national DID ("" for the trunk's other calls)
	lines     map[string]Target
	internal  map[string]Target
	blockIn   map[string]bool
	blockOut  map[string]bool
	bindings  map[string]string
}

// Compile builds the snapshot of c, which should have passed Validate; a
// calendar that does not compile is left out (Validate names it).
func (c Config) Compile() *Snapshot {
	c = c.Clone()
	c.Normalize()
	s := &Snapshot{cfg: c, acd: c.ACD(), calendars: map[string]*calendar.Calendar{}, groups: map[int]int{},
		agents: map[string]int{}, trunkDID: map[[2]string]Target{}, lines: map[string]Target{},
		internal: map[string]Target{}, blockIn: map[string]bool{}, blockOut: map[string]bool{}, bindings: map[string]string{}}
	for _, cal := range c.Calendars {
		if compiled, err := calendar.New(cal.Spec); err == nil {
			s.calendars[cal.Name] = compiled
		}
	}
	for i, g := range c.Groups {
		s.groups[g.ID] = i
	}
	for i, a := range c.Agents {
		s.agents[a.ID] = i
	}
	for _, r := range c.InboundRoutes {
		switch r.Source {
		case SourceTrunk:
			s.trunkDID[[2]string{r.Trunk, region.National(r.DID)}] = r.Target
		case SourceLine:
			s.lines[r.Trunk] = r.Target
		case SourceInternal:
			s.internal[r.Number] = r.Target
		}
	}
	for _, b := range c.Blacklist {
		n := region.National(b.Number)
		if b.Direction != DirOut {
			s.blockIn[n] = true
		}
		if b.Direction != DirIn {
			s.blockOut[n] = true
		}
	}
	for _, b := range c.Bindings {
		s.bindings[b.PC] = b.Extension
	}
	return s
}

// Config returns the configuration (shared: do not modify it).
func (s *Snapshot) Config() *Config { return &s.cfg }

// ACD returns the engine's configuration, for acd.New and Reconfigure.
func (s *Snapshot) ACD() acd.Config { return s.acd }

// Calendar implements ivr.CalendarSource.
func (s *Snapshot) Calendar(name string) (*calendar.Calendar, bool) {
	c, ok := s.calendars[name]
	return c, ok
}

// Group returns a group by id.
func (s *Snapshot) Group(id int) (Group, bool) {
	i, ok := s.groups[id]
	if !ok {
		return Group{}, false
	}
	return s.cfg.Groups[i], true
}

// Agent returns an agent by work number.
func (s *Snapshot) Agent(id string) (Agent, bool) {
	i, ok := s.agents[id]
	if !ok {
		return Agent{}, false
	}
	return s.cfg.Agents[i], true
}

// FromTrunk returns where a call from a SIP trunk to a DID goes: the route
// for the DID (compared in national form), else the trunk's route without
// a DID.
func (s *Snapshot) FromTrunk(trunk, did string) (Target, bool) {
	if t, ok := s.trunkDID[[2]string{trunk, region.National(did)}]; ok {
		return t, true
	}
	t, ok := s.trunkDID[[2]string{trunk, ""}]
	return t, ok
}

// FromLine returns where a call from an FXO line (its trunk's name) goes.
func (s *Snapshot) FromLine(trunk string) (Target, bool) {
	t, ok := s.lines[trunk]
	return t, ok
}

// Internal returns where a call to an internal number goes.
func (s *Snapshot) Internal(number string) (Target, bool) {
	t, ok := s.internal[number]
	return t, ok
}

// InternalNumbers lists the internal numbers of the inbound routes, sorted,
// for the dial plan (numbers an application serves).
func (s *Snapshot) InternalNumbers() []string {
	out := make([]string, 0, len(s.internal))
	for n := range s.internal {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// BlockedIn reports whether a caller's number is blacklisted inbound; the
// numbers are compared in national form.
func (s *Snapshot) BlockedIn(number string) bool { return s.blockIn[region.National(number)] }

// BlockedOut reports whether agents may not call a number.
func (s *Snapshot) BlockedOut(number string) bool { return s.blockOut[region.National(number)] }

// Binding returns the extension bound to a PC's address.
func (s *Snapshot) Binding(pc string) (string, bool) {
	e, ok := s.bindings[pc]
	return e, ok
}

// CallerIDs returns the caller IDs an agent may present, in configuration
// order.
func (s *Snapshot) CallerIDs(agent string) []CallerID {
	var out []CallerID
	for _, id := range s.cfg.CallerIDs {
		if id.AllAgents || slices.Contains(id.Agents, agent) {
			out = append(out, id)
		}
	}
	return out
}

// MayPresent reports whether an agent may present number as caller ID.
func (s *Snapshot) MayPresent(agent, number string) bool {
	for _, id := range s.CallerIDs(agent) {
		if id.Number == number {
			return true
		}
	}
	return false
}

// Features returns the agents' feature codes.
func (s *Snapshot) Features() FeatureCodes { return s.cfg.FeatureCodes }
