package simulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"callbox/telephony/acd"
)

// A scenario file (callboxctl acd simulate --scenario FILE.json) describes a
// centre with several groups, customer types, skills and agent schedules,
// and its traffic. Durations are Go duration strings ("20s", "4m", "7h30m").
// testdata/scenario.json is a complete example:
//
//	{
//	  "duration": "8h",             // optional; --duration overrides
//	  "sl_threshold": "20s",        // optional; --sl-threshold overrides
//	  "answer_delay": "3s",         // optional: agents let a ring ring this long
//	  "max_no_answer": 3,           // other acd.Config settings, optional
//	  "groups": [
//	    {"id": 1, "name": "vip desk", "priority": 2, "rule": "agent_level",
//	     "ring_timeout": "15s", "min_skill": 3,
//	     "relax": [{"after": "30s", "min_skill": 1}],
//	     "max_wait": "3m", "overflow": {"kind": "group", "group": 2},
//	     "max_queue": 20, "join": "allow", "leave": "no_available"}
//	  ],
//	  "customer_types": [
//	    {"id": 1, "name": "vip", "priority": 10, "prefixes": ["0851"], "groups": [1, 2]}
//	  ],
//	  "default_type": {"id": 0, "groups": [2]},
//	  "agents": [
//	    {"id": "1001", "level": 3, "skills": {"1": 5, "2": 2}, "wrapup": "10s",
//	     "shifts": [["0h", "4h"], ["5h", "8h"]]}   // no shifts: all day
//	  ],
//	  "agent_pool": {"count": 10, "first_id": 2001, "skills": {"2": 1}},  // identical agents
//	  "traffic": [
//	    {"name": "vip", "prefix": "0851", "arrival_rate": 40, "aht": "4m",
//	     "aht_dist": "lognormal", "patience": "2m"}
//	  ]
//	}
//
// Rules are the acd rule names (longest_idle, agent_level, last_agent,
// round_robin, fewest_calls, least_talk_time, ring_all, linear, random,
// ring_progressive). Overflow kinds: group, ivr, voicemail, hangup.
// Join and leave rules: allow, no_logged_in, no_available.
type scenario struct {
	Duration      dur        `json:"duration"`
	SLThreshold   dur        `json:"sl_threshold"`
	AnswerDelay   dur        `json:"answer_delay"`
	MaxNoAnswer   int        `json:"max_no_answer"`
	Groups        []scGroup  `json:"groups"`
	CustomerTypes []scType   `json:"customer_types"`
	Default       scType     `json:"default_type"`
	Agents        []scAgent  `json:"agents"`
	Pool          *scPool    `json:"agent_pool"`
	Traffic       []scStream `json:"traffic"`
	Blacklist     []string   `json:"blacklist"`
}

type scGroup struct {
	ID            int       `json:"id"`
	Name          string    `json:"name"`
	Priority      int       `json:"priority"`
	Rule          acd.Rule  `json:"rule"`
	Disabled      bool      `json:"disabled"`
	RingTimeout   dur       `json:"ring_timeout"`
	ProgressStep  dur       `json:"progress_step"`
	MinSkill      int       `json:"min_skill"`
	Relax         []scRelax `json:"relax"`
	MaxWait       dur       `json:"max_wait"`
	Overflow      *scTarget `json:"overflow"`
	MaxQueue      int       `json:"max_queue"`
	Join          emptyRule `json:"join"`
	Leave         emptyRule `json:"leave"`
	PromptEvery   dur       `json:"prompt_every"`
	AnnounceEvery dur       `json:"announce_every"`
	Prompt        string    `json:"prompt"`
}

type scRelax struct {
	After    dur `json:"after"`
	MinSkill int `json:"min_skill"`
}

type scTarget struct {
	Kind    string `json:"kind"`
	Group   int    `json:"group"`
	Flow    string `json:"flow"`
	Mailbox string `json:"mailbox"`
	Message string `json:"message"`
}

type scType struct {
	ID         int      `json:"id"`
	Name       string   `json:"name"`
	Priority   int      `json:"priority"`
	Numbers    []string `json:"numbers"`
	Prefixes   []string `json:"prefixes"`
	Categories []string `json:"categories"`
	Groups     []int    `json:"groups"`
}

type scAgent struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Level       int            `json:"level"`
	Skills      map[string]int `json:"skills"`
	WrapUp      dur            `json:"wrapup"`
	MaxNoAnswer int            `json:"max_no_answer"`
	Shifts      [][2]dur       `json:"shifts"`
}

type scPool struct {
	Count   int            `json:"count"`
	FirstID int            `json:"first_id"`
	Level   int            `json:"level"`
	Skills  map[string]int `json:"skills"`
	WrapUp  dur            `json:"wrapup"`
	Shifts  [][2]dur       `json:"shifts"`
}

type scStream struct {
	Name        string  `json:"name"`
	Prefix      string  `json:"prefix"`
	ArrivalRate float64 `json:"arrival_rate"`
	AHT         dur     `json:"aht"`
	AHTDist     string  `json:"aht_dist"`
	Patience    string  `json:"patience"`
}

type dur time.Duration

func (d *dur) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"20s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = dur(v)
	return nil
}

type emptyRule acd.EmptyRule

func (r *emptyRule) UnmarshalText(b []byte) error {
	switch string(b) {
	case "", "allow":
		*r = emptyRule(acd.EmptyAllow)
	case "no_logged_in":
		*r = emptyRule(acd.EmptyNoLoggedIn)
	case "no_available":
		*r = emptyRule(acd.EmptyNoAvailable)
	default:
		return fmt.Errorf("unknown join/leave rule %q (want allow, no_logged_in or no_available)", b)
	}
	return nil
}

// ParsePatience reads "inf" (or "0") as infinite patience, else a
// duration ("90s") or a number of seconds.
func ParsePatience(s string) (time.Duration, error) {
	switch s {
	case "", "inf", "infinite", "0":
		return 0, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("simulate: bad patience %q (want inf, seconds or a duration)", s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// LoadScenario reads a scenario file into Params (Seed left zero).
func LoadScenario(r io.Reader) (Params, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return Params{}, fmt.Errorf("simulate: reading scenario: %w", err)
	}
	var sc scenario
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return Params{}, fmt.Errorf("simulate: scenario: %w", err)
	}
	p := Params{Duration: time.Duration(sc.Duration), SLThreshold: time.Duration(sc.SLThreshold),
		AnswerDelay: time.Duration(sc.AnswerDelay), Shifts: map[acd.AgentID][]Shift{}}
	cfg := &p.Config
	cfg.MaxNoAnswer = sc.MaxNoAnswer
	cfg.Blacklist = sc.Blacklist
	for _, g := range sc.Groups {
		ag := acd.Group{ID: g.ID, Name: g.Name, Priority: g.Priority, Rule: g.Rule, Enabled: !g.Disabled,
			RingTimeout: time.Duration(g.RingTimeout), ProgressStep: time.Duration(g.ProgressStep), MinSkill: g.MinSkill,
			MaxWait: time.Duration(g.MaxWait), MaxQueue: g.MaxQueue, Join: acd.EmptyRule(g.Join), Leave: acd.EmptyRule(g.Leave),
			Prompt: g.Prompt, PromptEvery: time.Duration(g.PromptEvery), AnnounceEvery: time.Duration(g.AnnounceEvery)}
		for _, st := range g.Relax {
			ag.Relax = append(ag.Relax, acd.RelaxStep{After: time.Duration(st.After), MinSkill: st.MinSkill})
		}
		if o := g.Overflow; o != nil {
			kinds := map[string]acd.TargetKind{"": acd.TargetNone, "group": acd.TargetGroup, "ivr": acd.TargetIVR,
				"voicemail": acd.TargetVoicemail, "hangup": acd.TargetHangup}
			k, ok := kinds[o.Kind]
			if !ok {
				return Params{}, fmt.Errorf("simulate: group %d: unknown overflow kind %q", g.ID, o.Kind)
			}
			ag.Overflow = acd.Target{Kind: k, Group: o.Group, Flow: o.Flow, Mailbox: o.Mailbox, Message: o.Message}
		}
		cfg.Groups = append(cfg.Groups, ag)
	}
	conv := func(t scType) acd.CustomerType {
		return acd.CustomerType{ID: t.ID, Name: t.Name, Priority: t.Priority, Numbers: t.Numbers,
			Prefixes: t.Prefixes, Categories: t.Categories, Groups: t.Groups}
	}
	for _, t := range sc.CustomerTypes {
		cfg.CustomerTypes = append(cfg.CustomerTypes, conv(t))
	}
	cfg.Default = conv(sc.Default)
	skills := func(who string, m map[string]int) ([]acd.Membership, error) {
		var out []acd.Membership
		for g, s := range m {
			id, err := strconv.Atoi(g)
			if err != nil {
				return nil, fmt.Errorf("simulate: agent %s: skill key %q is not a group id", who, g)
			}
			out = append(out, acd.Membership{Group: id, Skill: s})
		}
		return out, nil
	}
	shifts := func(id acd.AgentID, sh [][2]dur) {
		for _, s := range sh {
			p.Shifts[id] = append(p.Shifts[id], Shift{Start: time.Duration(s[0]), End: time.Duration(s[1])})
		}
	}
	for _, a := range sc.Agents {
		ms, err := skills(a.ID, a.Skills)
		if err != nil {
			return Params{}, err
		}
		id := acd.AgentID(a.ID)
		cfg.Agents = append(cfg.Agents, acd.Agent{ID: id, Name: a.Name, Level: a.Level, Groups: ms,
			WrapUp: time.Duration(a.WrapUp), MaxNoAnswer: a.MaxNoAnswer})
		shifts(id, a.Shifts)
	}
	if pl := sc.Pool; pl != nil {
		first := pl.FirstID
		if first == 0 {
			first = 5001
		}
		for i := range pl.Count {
			id := acd.AgentID(strconv.Itoa(first + i))
			ms, err := skills(string(id), pl.Skills)
			if err != nil {
				return Params{}, err
			}
			cfg.Agents = append(cfg.Agents, acd.Agent{ID: id, Level: pl.Level, Groups: ms, WrapUp: time.Duration(pl.WrapUp)})
			shifts(id, pl.Shifts)
		}
	}
	for _, s := range sc.Traffic {
		st := Stream{Name: s.Name, Prefix: s.Prefix, ArrivalRate: s.ArrivalRate, AHT: time.Duration(s.AHT)}
		if s.AHTDist != "" {
			if st.Dist, err = ParseDist(s.AHTDist); err != nil {
				return Params{}, err
			}
		}
		if st.Patience, err = ParsePatience(s.Patience); err != nil {
			return Params{}, err
		}
		p.Streams = append(p.Streams, st)
	}
	if err := cfg.Validate(); err != nil {
		return Params{}, fmt.Errorf("simulate: scenario: %w", err)
	}
	return p, nil
}
