package acd

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Rule is a skill group's routing rule: which of the group's eligible idle
// agents a call goes to.
type Rule uint8

// The routing rules. The zero value is LongestIdle, the default.
const (
	LongestIdle     Rule = iota // idle the longest (seeds' default; FreeSWITCH longest-idle-agent)
	AgentLevel                  // highest agent level first, then skill, then longest idle
	LastAgent                   // the agent who last served this number, else longest idle
	RoundRobin                  // next member after the one rung last (Asterisk rrmemory)
	FewestCalls                 // fewest calls answered today
	LeastTalkTime               // least talk time today
	RingAll                     // ring every eligible member; the first to answer wins
	Linear                      // members in configured order, first idle one
	Random                      // uniformly among eligible members
	RingProgressive             // like RingAll, adding one more agent every ProgressStep
	numRules
)

var ruleNames = [...]string{"longest_idle", "agent_level", "last_agent", "round_robin",
	"fewest_calls", "least_talk_time", "ring_all", "linear", "random", "ring_progressive"}

// Rules lists every routing rule, in declaration order.
func Rules() []Rule {
	r := make([]Rule, numRules)
	for i := range r {
		r[i] = Rule(i)
	}
	return r
}

func (r Rule) String() string {
	if r < numRules {
		return ruleNames[r]
	}
	return fmt.Sprintf("rule(%d)", uint8(r))
}

// ParseRule returns the rule named by its String form.
func ParseRule(s string) (Rule, error) {
	for i, n := range ruleNames {
		if n == s {
			return Rule(i), nil
		}
	}
	return 0, fmt.Errorf("acd: unknown routing rule %q", s)
}

// MarshalText encodes the rule by name.
func (r Rule) MarshalText() ([]byte, error) {
	if r >= numRules {
		return nil, fmt.Errorf("acd: unknown routing rule %d", r)
	}
	return []byte(r.String()), nil
}

// UnmarshalText decodes a rule name.
func (r *Rule) UnmarshalText(b []byte) error {
	v, err := ParseRule(string(b))
	*r = v
	return err
}

// ServiceMode is how an agent's calls reach them.
type ServiceMode uint8

// Service modes, as in the seeds: analog extension, softphone, outside number.
const (
	ModeExtension ServiceMode = iota // an extension on the box (FXS or IP phone)
	ModeSoftphone                    // a SIP softphone on the agent's PC
	ModeOutside                      // an outside (mobile) number through a trunk
)

// TargetKind says where a call goes when it leaves a queue other than to an agent.
type TargetKind uint8

// Overflow target kinds.
const (
	TargetNone      TargetKind = iota // no overflow: the caller keeps waiting / is refused
	TargetGroup                       // another skill group (stays inside the engine)
	TargetIVR                         // an IVR flow
	TargetVoicemail                   // a voicemail box
	TargetHangup                      // play a message and hang up
)

// Target is an overflow destination.
type Target struct {
	Kind    TargetKind `json:"kind"`
	Group   int        `json:"group,omitempty"`   // TargetGroup
	Flow    string     `json:"flow,omitempty"`    // TargetIVR
	Mailbox string     `json:"mailbox,omitempty"` // TargetVoicemail
	Message string     `json:"message,omitempty"` // prompt played before TargetHangup
}

// EmptyRule decides joining and leaving a group when agents are scarce,
// in the manner of Asterisk's joinempty / leavewhenempty.
type EmptyRule uint8

// Empty rules.
const (
	EmptyAllow       EmptyRule = iota // wait regardless
	EmptyNoLoggedIn                   // refuse / leave when no member is logged in
	EmptyNoAvailable                  // refuse / leave when no member is idle, ringing, talking or in wrap-up
)

// RelaxStep lowers a group's minimum skill once a call has waited After.
type RelaxStep struct {
	After    time.Duration `json:"after"`
	MinSkill int           `json:"min_skill"`
}

// Group is a skill group (座席组).
type Group struct {
	ID          int    `json:"id"`
	Name        string `json:"name"`
	Priority    int    `json:"priority"` // higher first in a customer type's list
	Rule        Rule   `json:"rule"`
	Enabled     bool   `json:"enabled"`
	Description string `json:"description,omitempty"`

	RingTimeout  time.Duration `json:"ring_timeout,omitempty"`  // per ring; default 15 s
	ProgressStep time.Duration `json:"progress_step,omitempty"` // RingProgressive; default 5 s
	Retry        time.Duration `json:"retry,omitempty"`         // before re-ringing an agent who let the call go; default 5 s

	MinSkill int         `json:"min_skill,omitempty"` // skill required at first
	Relax    []RelaxStep `json:"relax,omitempty"`     // ascending After

	MaxWait  time.Duration `json:"max_wait,omitempty"`  // 0: no limit
	Overflow Target        `json:"overflow"`            // on max wait, join refusal or leave
	MaxQueue int           `json:"max_queue,omitempty"` // 0: no limit
	Join     EmptyRule     `json:"join,omitempty"`
	Leave    EmptyRule     `json:"leave,omitempty"`

	Prompt        string        `json:"prompt,omitempty"`         // played every PromptEvery
	PromptEvery   time.Duration `json:"prompt_every,omitempty"`   // 0: never
	AnnounceEvery time.Duration `json:"announce_every,omitempty"` // position / estimate; 0: never

	// WrapUp is the wrap-up after a call answered through this group by
	// an agent whose own Agent.WrapUp is 0. The clock is still the
	// agent's, one for all their groups.
	WrapUp time.Duration `json:"wrap_up,omitempty"`
	// SLThreshold is the group's service-level threshold: a call answered
	// within it counts in AnsweredSL. 0 takes Config.SLThreshold.
	SLThreshold time.Duration `json:"sl_threshold,omitempty"`
	// NoCallback refuses RequestCallback for calls waiting with this
	// primary group: the group offers no callbacks.
	NoCallback bool `json:"no_callback,omitempty"`
}

// Membership is an agent's place in a group with a skill level.
type Membership struct {
	Group int `json:"group"`
	Skill int `json:"skill"`
}

// AgentID is an agent's staff number (工号).
type AgentID string

// Agent is an agent's configuration.
type Agent struct {
	ID          AgentID       `json:"id"`
	Name        string        `json:"name"`
	Level       int           `json:"level"`
	Groups      []Membership  `json:"groups"`
	Mode        ServiceMode   `json:"mode"`
	Device      string        `json:"device,omitempty"` // extension, SIP user or outside number
	AutoAnswer  bool          `json:"auto_answer,omitempty"`
	WrapUp      time.Duration `json:"wrap_up,omitempty"`
	MaxNoAnswer int           `json:"max_no_answer,omitempty"` // 0: Config.MaxNoAnswer
}

// CustomerType classifies callers (by number, prefix or CRM category) and
// says which groups serve them, with what priority.
type CustomerType struct {
	ID         int      `json:"id"`
	Name       string   `json:"name"`
	Priority   int      `json:"priority"` // higher is served first
	Numbers    []string `json:"numbers,omitempty"`
	Prefixes   []string `json:"prefixes,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Groups     []int    `json:"groups"` // reordered by group priority
}

// NoAnswerAction is what happens to an agent after too many unanswered rings.
type NoAnswerAction uint8

// No-answer actions.
const (
	NoAnswerBreak   NoAnswerAction = iota // put on break with reason "no answer"
	NoAnswerSignOut                       // sign the agent out
)

// Config is the whole ACD configuration, as persisted by a ConfigStore.
type Config struct {
	Groups        []Group        `json:"groups"`
	Agents        []Agent        `json:"agents"`
	CustomerTypes []CustomerType `json:"customer_types"`
	// Default serves callers that match no type; its Groups, if empty,
	// means all enabled groups. Its priority should be the lowest.
	Default   CustomerType `json:"default"`
	Blacklist []string     `json:"blacklist,omitempty"`

	MaxNoAnswer     int            `json:"max_no_answer,omitempty"` // default 3
	NoAnswer        NoAnswerAction `json:"no_answer,omitempty"`
	SLThreshold     time.Duration  `json:"sl_threshold,omitempty"`     // default 20 s; Group.SLThreshold overrides
	CallbackTimeout time.Duration  `json:"callback_timeout,omitempty"` // default 60 s
	CallbackRetry   time.Duration  `json:"callback_retry,omitempty"`   // default 5 min
	CallbackTries   int            `json:"callback_tries,omitempty"`   // default 3
	HandleWindow    int            `json:"handle_window,omitempty"`    // recent handle times for estimates; default 20
}

// Defaults.
const (
	DefaultRingTimeout     = 15 * time.Second
	DefaultProgressStep    = 5 * time.Second
	DefaultRetry           = 5 * time.Second
	DefaultMaxNoAnswer     = 3
	DefaultSLThreshold     = 20 * time.Second
	DefaultCallbackTimeout = 60 * time.Second
	DefaultCallbackRetry   = 5 * time.Minute
	DefaultCallbackTries   = 3
	DefaultHandleWindow    = 20
)

// withDefaults returns a copy with zero settings replaced by defaults.
func (c Config) withDefaults() Config {
	c.Groups = slices.Clone(c.Groups)
	for i := range c.Groups {
		g := &c.Groups[i]
		if g.RingTimeout <= 0 {
			g.RingTimeout = DefaultRingTimeout
		}
		if g.ProgressStep <= 0 {
			g.ProgressStep = DefaultProgressStep
		}
		if g.Retry <= 0 {
			g.Retry = DefaultRetry
		}
	}
	if c.SLThreshold <= 0 {
		c.SLThreshold = DefaultSLThreshold
	}
	for i := range c.Groups {
		if g := &c.Groups[i]; g.SLThreshold <= 0 {
			g.SLThreshold = c.SLThreshold
		}
	}
	if c.MaxNoAnswer <= 0 {
		c.MaxNoAnswer = DefaultMaxNoAnswer
	}
	if c.CallbackTimeout <= 0 {
		c.CallbackTimeout = DefaultCallbackTimeout
	}
	if c.CallbackRetry <= 0 {
		c.CallbackRetry = DefaultCallbackRetry
	}
	if c.CallbackTries <= 0 {
		c.CallbackTries = DefaultCallbackTries
	}
	if c.HandleWindow <= 0 {
		c.HandleWindow = DefaultHandleWindow
	}
	return c
}

// Validate reports every inconsistency: duplicate or unknown ids, bad rules,
// relaxation steps out of order, overflow loops to unknown groups.
func (c *Config) Validate() error {
	var errs []error
	groups := map[int]bool{}
	for _, g := range c.Groups {
		if groups[g.ID] {
			errs = append(errs, fmt.Errorf("acd: group %d: duplicate id", g.ID))
		}
		groups[g.ID] = true
		if g.Rule >= numRules {
			errs = append(errs, fmt.Errorf("acd: group %d: unknown rule %d", g.ID, g.Rule))
		}
		for i := 1; i < len(g.Relax); i++ {
			if g.Relax[i].After <= g.Relax[i-1].After {
				errs = append(errs, fmt.Errorf("acd: group %d: relax steps not in ascending order", g.ID))
				break
			}
		}
	}
	for _, g := range c.Groups {
		if g.Overflow.Kind == TargetGroup && (!groups[g.Overflow.Group] || g.Overflow.Group == g.ID) {
			errs = append(errs, fmt.Errorf("acd: group %d: overflow to bad group %d", g.ID, g.Overflow.Group))
		}
	}
	agents := map[AgentID]bool{}
	for _, a := range c.Agents {
		if a.ID == "" {
			errs = append(errs, errors.New("acd: agent with empty id"))
		}
		if agents[a.ID] {
			errs = append(errs, fmt.Errorf("acd: agent %s: duplicate id", a.ID))
		}
		agents[a.ID] = true
		for _, m := range a.Groups {
			if !groups[m.Group] {
				errs = append(errs, fmt.Errorf("acd: agent %s: unknown group %d", a.ID, m.Group))
			}
		}
	}
	types := map[int]bool{}
	for _, t := range append(slices.Clone(c.CustomerTypes), c.Default) {
		if types[t.ID] {
			errs = append(errs, fmt.Errorf("acd: customer type %d: duplicate id", t.ID))
		}
		types[t.ID] = true
		for _, g := range t.Groups {
			if !groups[g] {
				errs = append(errs, fmt.Errorf("acd: customer type %d: unknown group %d", t.ID, g))
			}
		}
	}
	return errors.Join(errs...)
}
