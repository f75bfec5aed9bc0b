package ccconf

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"callbox/telephony/calendar"
	"callbox/telephony/ivr"
	"callbox/telephony/pbxconf"
	"callbox/telephony/region"
	"callbox/telephony/switch/dialplan"
)

// Context is what a configuration refers to outside itself. A nil field
// leaves those references unchecked.
type Context struct {
	// PBX is the PBX configuration: agents' extensions and routes, inbound
	// routes' trunks, lines and extensions, bindings' extensions.
	PBX *pbxconf.Config
	// Flows holds the flows stored beside the configuration (the IVR's
	// repository). A flow named anywhere must be among the document's
	// Flows or here.
	Flows ivr.FlowSource
	// Prompts is the prompt catalogue the document's flows and groups'
	// prompts are checked against.
	Prompts ivr.PromptCatalogue
	// Documents is the fax documents the document's flows' fax nodes
	// are checked against.
	Documents ivr.DocumentCatalogue
	// Rooms reports whether a conference room has the number; nil checks
	// only the numbers' form (the rooms live in the conference service).
	Rooms func(number string) bool
}

// Limits of the configuration.
const (
	MaxID              = 9999
	MaxGroups          = 200
	MaxAgents          = 1000
	MaxTypes           = 200
	MaxBlacklist       = 10000
	MaxRoutes          = 500
	MaxCalendars       = 50
	MaxBindings        = 1000
	MaxCallerIDs       = 200
	MaxFlows           = 200
	MaxList            = 1000 // numbers, prefixes... of one customer type
	MaxNameLen         = 64
	MaxDescLen         = 200
	MaxNoteLen         = 50 // a blacklist entry's note (seed 003)
	MaxBlacklistNumber = 20
	MaxLevel           = 100
	MaxSkill           = 100
	MaxPriority        = 1000
	MaxSeconds         = 24 * 3600
)

var (
	reAgentID  = regexp.MustCompile(`^[0-9]{1,8}$`)
	rePIN      = regexp.MustCompile(`^[0-9]{4,8}$`)
	reNumber   = regexp.MustCompile(`^\+?[0-9*#]{1,32}$`)
	rePrefix   = regexp.MustCompile(`^\+?[0-9]{1,16}$`)
	reBlocked  = regexp.MustCompile(`^\+?[0-9*#]{1,20}$`)
	reName     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	reFeature  = regexp.MustCompile(`^[*#][0-9]{1,4}$`)
	reInternal = regexp.MustCompile(`^[1-9][0-9]{1,7}$`)
	// reRoom is a conference room's number (telephony/conference's rule).
	reRoom   = regexp.MustCompile(`^[0-9]{2,16}$`)
	reKey    = regexp.MustCompile(`^[0-9*#]$`)
	reFlowID = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	rePrompt = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
)

func textOK(s string, max int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= max && strings.IndexFunc(s, unicode.IsControl) < 0
}

// Validate checks the whole configuration: every object, the references
// between them, and those into ctx. The error joins up to MaxErrors
// *FieldError values; errors.As finds the first.
func (c *Config) Validate(ctx Context) error {
	v := &validator{}
	root := objRef{kind: ObjCallCentre}
	if c.Version != Version {
		v.add("", root, "version", ReasonVersion, Version)
	}
	for _, lim := range []struct {
		field  string
		n, max int
	}{{"groups", len(c.Groups), MaxGroups}, {"agents", len(c.Agents), MaxAgents},
		{"customer_types", len(c.CustomerTypes), MaxTypes}, {"blacklist", len(c.Blacklist), MaxBlacklist},
		{"inbound_routes", len(c.InboundRoutes), MaxRoutes}, {"calendars", len(c.Calendars), MaxCalendars},
		{"bindings", len(c.Bindings), MaxBindings}, {"caller_ids", len(c.CallerIDs), MaxCallerIDs},
		{"flows", len(c.Flows), MaxFlows}} {
		if lim.n > lim.max {
			v.add("", root, lim.field, ReasonTooMany, lim.max)
		}
	}
	x := newIndex(c, ctx)
	c.checkSettings(v)
	c.checkFeatureCodes(v)
	for i := range c.Groups {
		c.checkGroup(v, x, i)
	}
	c.checkOverflowLoops(v)
	for i := range c.Agents {
		c.checkAgent(v, x, i)
	}
	c.checkTypes(v, x)
	c.checkBlacklist(v)
	for i := range c.Calendars {
		c.checkCalendar(v, i)
	}
	c.checkRoutes(v, x)
	c.checkBindings(v, x)
	c.checkCallerIDs(v, x)
	c.checkFlows(v, x, ctx)
	return v.err()
}

// index is what references are checked against.
type index struct {
	groups    map[int]bool
	agents    map[string]bool
	flows     map[string]bool
	calendars map[string]bool
	stored    ivr.FlowSource
	pbx       *pbxconf.Config
	exts      map[string]pbxconf.Extension
	trunks    map[string]pbxconf.Trunk
	routes    map[string]bool
	prompts   ivr.PromptCatalogue
	rooms     func(string) bool
}

// prompt refuses a prompt name the catalogue cannot play (when there is
// a catalogue to ask).
func (x *index) prompt(v *validator, base string, obj objRef, field, name string) {
	switch {
	case name == "":
	case !rePrompt.MatchString(name):
		v.add(base, obj, field, ReasonFlowID)
	case x.prompts != nil && !x.prompts.HasPrompt(name):
		v.add(base, obj, field, ReasonUnknownPrompt, name)
	}
}

func newIndex(c *Config, ctx Context) *index {
	x := &index{groups: map[int]bool{}, agents: map[string]bool{}, flows: map[string]bool{},
		calendars: map[string]bool{}, stored: ctx.Flows, pbx: ctx.PBX, prompts: ctx.Prompts, rooms: ctx.Rooms}
	for _, g := range c.Groups {
		x.groups[g.ID] = true
	}
	for _, a := range c.Agents {
		x.agents[a.ID] = true
	}
	for _, f := range c.Flows {
		x.flows[f.ID] = true
	}
	for _, cal := range c.Calendars {
		x.calendars[cal.Name] = true
	}
	if ctx.PBX != nil {
		x.exts, x.trunks, x.routes = map[string]pbxconf.Extension{}, map[string]pbxconf.Trunk{}, map[string]bool{}
		for _, e := range ctx.PBX.Extensions {
			x.exts[e.Number] = e
		}
		for _, t := range ctx.PBX.Trunks {
			x.trunks[t.Name] = t
		}
		for _, r := range ctx.PBX.Routes {
			x.routes[r.Name] = true
		}
	}
	return x
}

// hasFlow reports whether a flow exists in the document or the store.
func (x *index) hasFlow(id string) bool {
	if x.flows[id] {
		return true
	}
	if x.stored != nil {
		_, err := x.stored.Flow(id, 0)
		return err == nil
	}
	return false
}

// extension checks a reference to an extension of the PBX.
func (x *index) extension(v *validator, base string, obj objRef, field, number string) {
	if x.pbx == nil {
		if !reInternal.MatchString(number) {
			v.add(base, obj, field, ReasonNotExtension, number)
		}
		return
	}
	if _, ok := x.exts[number]; !ok {
		v.add(base, obj, field, ReasonNotExtension, number)
	}
}

// idAndName checks an object's numeric id (1 to MaxID; dup: another has
// it) and its name.
func (v *validator) idAndName(base string, obj objRef, id int, dup bool, name string) {
	if id < 1 || id > MaxID {
		v.add(base, obj, "id", ReasonID, MaxID)
	}
	if dup {
		v.add(base, obj, "id", ReasonKeyTaken, strconv.Itoa(id))
	}
	v.name(base, obj, name)
}

// taken reports whether an object before index i has the key of the one
// at i.
func taken[T any](list []T, i int, key func(*T) string) bool {
	k := key(&list[i])
	return slices.ContainsFunc(list[:i], func(o T) bool { return key(&o) == k })
}

// text checks an optional text field.
func (v *validator) text(base string, obj objRef, field, s string, max int) {
	if !textOK(s, max) {
		v.add(base, obj, field, ReasonTextFormat, max)
	}
}

// name checks a required name for people.
func (v *validator) name(base string, obj objRef, name string) {
	if name == "" {
		v.add(base, obj, "name", ReasonRequired)
	} else if !textOK(name, MaxNameLen) {
		v.add(base, obj, "name", ReasonTextFormat, MaxNameLen)
	}
}

func seconds(v *validator, base string, obj objRef, field string, s, min, max int) {
	if s != 0 && (s < min || s > max) {
		v.add(base, obj, field, ReasonRangeOrZero, min, max)
	}
}

func oneOf(v *validator, base string, obj objRef, field, val string, choices []string) {
	if !slices.Contains(choices, val) {
		v.add(base, obj, field, ReasonNotOneOf, val, strings.Join(choices, ", "))
	}
}

func (c *Config) checkSettings(v *validator) {
	obj := objRef{kind: ObjSettings}
	s := c.Settings
	oneOf(v, "settings", obj, "language", s.Language, Languages)
	oneOf(v, "settings", obj, "no_answer", s.NoAnswer, []string{NoAnswerBreak, NoAnswerSignOut})
	for _, r := range []struct {
		field         string
		val, min, max int
	}{
		{"max_no_answer", s.MaxNoAnswer, 1, 20}, {"sl_threshold_s", s.SLThresholdS, 1, 3600},
		{"short_abandon_s", int(s.ShortAbandon() / time.Second), 0, 60}, {"callback_timeout_s", s.CallbackTimeoutS, 10, 600},
		{"callback_retry_s", s.CallbackRetryS, 10, MaxSeconds}, {"callback_tries", s.CallbackTries, 1, 10},
		{"pin_tries", s.PINTries, 1, 10},
	} {
		if r.val < r.min || r.val > r.max {
			v.add("settings", obj, r.field, ReasonRange, r.min, r.max)
		}
	}
}

// pbxCodes are the PBX's own feature codes the agents' must not clash with.
func pbxCodes() []string {
	d := dialplan.DefaultFeatures
	return []string{d.Pickup, d.DNDOn, d.DNDOff, d.ForwardAll, d.ForwardAllOff, d.ForwardBusy, d.ForwardBusyOff,
		d.ForwardNoAnswer, d.ForwardNoAnswerOff}
}

// clash reports whether dialling one code could be taken for the other.
func clash(a, b string) bool { return strings.HasPrefix(a, b) || strings.HasPrefix(b, a) }

func (c *Config) checkFeatureCodes(v *validator) {
	obj := objRef{kind: ObjFeatureCodes}
	codes := c.FeatureCodes.codes()
	for i, fc := range codes {
		code := *fc.code
		if !reFeature.MatchString(code) {
			v.add("feature_codes", obj, fc.name, ReasonFeatureCode)
			continue
		}
		for _, o := range codes[:i] {
			if clash(code, *o.code) {
				v.add("feature_codes", obj, fc.name, ReasonCodeClash, code, *o.code, o.name)
			}
		}
		for _, p := range pbxCodes() {
			if clash(code, p) {
				v.add("feature_codes", obj, fc.name, ReasonCodeClash, code, p, "the PBX")
			}
		}
	}
}

func groupRef(g int) objRef { return objRef{kind: ObjGroup, key: strconv.Itoa(g), numeric: true} }

func (c *Config) checkGroup(v *validator, x *index, i int) {
	g := &c.Groups[i]
	base, obj := "groups["+strconv.Itoa(i)+"]", groupRef(g.ID)
	v.idAndName(base, obj, g.ID, slices.ContainsFunc(c.Groups[:i], func(o Group) bool { return o.ID == g.ID }), g.Name)
	v.text(base, obj, "description", g.Description, MaxDescLen)
	if g.Priority < 0 || g.Priority > MaxPriority {
		v.add(base, obj, "priority", ReasonRange, 0, MaxPriority)
	}
	oneOf(v, base, obj, "rule", g.Rule, Rules)
	oneOf(v, base, obj, "join", g.Join, []string{JoinAlways, JoinIfLoggedIn, JoinIfAvailable})
	oneOf(v, base, obj, "leave", g.Leave, []string{LeaveNever, LeaveNoLoggedIn, LeaveNoAvail})
	if g.Consent != "" {
		oneOf(v, base, obj, "consent", g.Consent, Consents)
	}
	seconds(v, base, obj, "ring_timeout_s", g.RingTimeoutS, 5, 300)
	seconds(v, base, obj, "retry_s", g.RetryS, 1, 600)
	seconds(v, base, obj, "progress_step_s", g.ProgressStepS, 1, 300)
	seconds(v, base, obj, "wrap_up_s", g.WrapUpS, 1, 3600)
	seconds(v, base, obj, "max_wait_s", g.MaxWaitS, 10, 4*3600)
	seconds(v, base, obj, "prompt_every_s", g.PromptEveryS, 5, 3600)
	seconds(v, base, obj, "announce_every_s", g.AnnounceEveryS, 10, 3600)
	seconds(v, base, obj, "callback_after_s", g.CallbackAfterS, 1, 3600)
	seconds(v, base, obj, "sl_threshold_s", g.SLThresholdS, 1, 3600)
	if g.MinSkill < 0 || g.MinSkill > MaxSkill {
		v.add(base, obj, "min_skill", ReasonRange, 0, MaxSkill)
	}
	if g.MaxQueue < 0 || g.MaxQueue > 1000 {
		v.add(base, obj, "max_queue", ReasonRange, 0, 1000)
	}
	for j, r := range g.Relax {
		sub := "relax[" + strconv.Itoa(j) + "]"
		if r.AfterS < 1 || r.AfterS > 4*3600 {
			v.add(base, obj, sub+".after_s", ReasonRange, 1, 4*3600)
		}
		if r.MinSkill < 0 || r.MinSkill > MaxSkill {
			v.add(base, obj, sub+".min_skill", ReasonRange, 0, MaxSkill)
		}
		if j > 0 && r.AfterS <= g.Relax[j-1].AfterS {
			v.add(base, obj, sub+".after_s", ReasonRelaxOrder)
		}
	}
	for _, p := range []struct{ field, name string }{{"moh", g.MOH}, {"prompt", g.Prompt}} {
		x.prompt(v, base, obj, p.field, p.name)
	}
	if g.PromptEveryS > 0 && g.Prompt == "" {
		v.add(base, obj, "prompt", ReasonRequired)
	}
	if (g.AnnouncePosition || g.AnnounceWait) && g.AnnounceEveryS == 0 {
		v.add(base, obj, "announce_every_s", ReasonAnnounceEvery)
	}
	if g.CallbackKey != "" && !reKey.MatchString(g.CallbackKey) {
		v.add(base, obj, "callback_key", ReasonKey)
	}
	if g.Survey && g.SurveyFlow == "" {
		v.add(base, obj, "survey_flow", ReasonSurveyFlow)
	}
	if g.SurveyFlow != "" && !x.hasFlow(g.SurveyFlow) {
		v.add(base, obj, "survey_flow", ReasonUnknownFlow, g.SurveyFlow)
	}
	if g.Overflow != (Target{}) {
		if g.Overflow.Kind == TargetGroup && g.Overflow.Group == g.ID {
			v.add(base, obj, "overflow.group", ReasonOverflowSelf)
		} else {
			c.checkTarget(v, x, base, obj, "overflow", g.Overflow,
				[]string{TargetGroup, TargetFlow, TargetVoicemail, TargetHangup})
		}
	}
}

// checkTarget checks a target's kind and its one field.
func (c *Config) checkTarget(v *validator, x *index, base string, obj objRef, field string, t Target, kinds []string) {
	if !slices.Contains(kinds, t.Kind) {
		v.add(base, obj, field+".kind", ReasonNotOneOf, t.Kind, strings.Join(kinds, ", "))
		return
	}
	set := map[string]bool{"flow": t.Flow != "", "group": t.Group != 0, "extension": t.Extension != "",
		"mailbox": t.Mailbox != "", "message": t.Message != "", "room": t.Room != ""}
	want := map[string]string{TargetFlow: "flow", TargetGroup: "group", TargetExtension: "extension",
		TargetVoicemail: "mailbox", TargetHangup: "message", TargetRoom: "room"}[t.Kind]
	for _, f := range []string{"flow", "group", "extension", "mailbox", "message", "room"} {
		if set[f] && f != want {
			v.add(base, obj, field+"."+f, ReasonTargetUnused, t.Kind)
		}
	}
	sub := field + "." + want
	switch t.Kind {
	case TargetFlow:
		switch {
		case t.Flow == "":
			v.add(base, obj, sub, ReasonRequired)
		case !x.hasFlow(t.Flow):
			v.add(base, obj, sub, ReasonUnknownFlow, t.Flow)
		}
	case TargetGroup:
		if !x.groups[t.Group] {
			v.add(base, obj, sub, ReasonUnknownGroup, t.Group)
		}
	case TargetExtension:
		if t.Extension == "" {
			v.add(base, obj, sub, ReasonRequired)
		} else {
			x.extension(v, base, obj, sub, t.Extension)
		}
	case TargetVoicemail:
		if t.Mailbox == "" {
			v.add(base, obj, sub, ReasonRequired)
		} else {
			x.extension(v, base, obj, sub, t.Mailbox)
		}
	case TargetHangup:
		x.prompt(v, base, obj, sub, t.Message)
	case TargetRoom:
		switch {
		case t.Room == "":
			v.add(base, obj, sub, ReasonRequired)
		case !reRoom.MatchString(t.Room) || x.rooms != nil && !x.rooms(t.Room):
			v.add(base, obj, sub, ReasonUnknownRoom, t.Room)
		}
	}
}

// checkOverflowLoops refuses group overflows that come back round: a
// caller would be passed on for ever.
func (c *Config) checkOverflowLoops(v *validator) {
	next := map[int]int{}
	for _, g := range c.Groups {
		if g.Overflow.Kind == TargetGroup && g.Overflow.Group != g.ID {
			next[g.ID] = g.Overflow.Group
		}
	}
	reported := map[int]bool{}
	for i, g := range c.Groups {
		path, seen := []string{strconv.Itoa(g.ID)}, map[int]bool{g.ID: true}
		for id, ok := next[g.ID]; ok; id, ok = next[id] {
			path = append(path, strconv.Itoa(id))
			if id == g.ID && !reported[g.ID] {
				for _, p := range path[:len(path)-1] {
					n, _ := strconv.Atoi(p)
					reported[n] = true
				}
				v.add("groups["+strconv.Itoa(i)+"]", groupRef(g.ID), "overflow.group", ReasonOverflowLoop, strings.Join(path, " -> "))
			}
			if seen[id] {
				break
			}
			seen[id] = true
		}
	}
}

func agentRef(id string) objRef {
	return objRef{kind: ObjAgent, key: id, numeric: reAgentID.MatchString(id)}
}

func (c *Config) checkAgent(v *validator, x *index, i int) {
	a := &c.Agents[i]
	base, obj := "agents["+strconv.Itoa(i)+"]", agentRef(a.ID)
	if !reAgentID.MatchString(a.ID) {
		v.add(base, obj, "id", ReasonAgentID)
	}
	if taken(c.Agents, i, func(o *Agent) string { return o.ID }) {
		v.add(base, obj, "id", ReasonKeyTaken, a.ID)
	}
	v.name(base, obj, a.Name)
	if a.Level < 0 || a.Level > MaxLevel {
		v.add(base, obj, "level", ReasonRange, 0, MaxLevel)
	}
	switch {
	case a.PIN != "" && a.PINHash != "":
		v.add(base, obj, "pin", ReasonPINBoth)
	case a.PIN != "" && !rePIN.MatchString(a.PIN):
		v.add(base, obj, "pin", ReasonPIN)
	case a.PINHash != "" && !pinHashOK(a.PINHash):
		v.add(base, obj, "pin_hash", ReasonPINHash)
	}
	oneOf(v, base, obj, "mode", a.Mode, []string{ModeExtension, ModeSoftphone, ModeOutside})
	switch a.Mode {
	case ModeExtension:
		if a.Device != "" {
			x.extension(v, base, obj, "device", a.Device)
		}
	case ModeSoftphone:
		if a.Device != "" {
			if e, ok := x.exts[a.Device]; x.pbx != nil && (!ok || e.Kind != pbxconf.KindSIP) {
				v.add(base, obj, "device", ReasonNotSIPExtension, a.Device)
			} else if x.pbx == nil && !reInternal.MatchString(a.Device) {
				v.add(base, obj, "device", ReasonNotSIPExtension, a.Device)
			}
		}
	case ModeOutside:
		switch {
		case a.Device == "":
			v.add(base, obj, "device", ReasonDeviceOutside)
		case !reNumber.MatchString(a.Device):
			v.add(base, obj, "device", ReasonDialNumber)
		}
	}
	if a.Route != "" {
		switch {
		case a.Mode != ModeOutside:
			v.add(base, obj, "route", ReasonRouteOutside)
		case x.pbx != nil && !x.routes[a.Route]:
			v.add(base, obj, "route", ReasonUnknownRoute, a.Route)
		}
	}
	seen := map[int]bool{}
	for j, m := range a.Groups {
		sub := "groups[" + strconv.Itoa(j) + "]"
		if !x.groups[m.Group] {
			v.add(base, obj, sub+".group", ReasonUnknownGroup, m.Group)
		}
		if seen[m.Group] {
			v.add(base, obj, sub+".group", ReasonTwice, strconv.Itoa(m.Group))
		}
		seen[m.Group] = true
		if m.Skill < 0 || m.Skill > MaxSkill {
			v.add(base, obj, sub+".skill", ReasonRange, 0, MaxSkill)
		}
	}
	if a.MaxNoAnswer < 0 || a.MaxNoAnswer > 20 {
		v.add(base, obj, "max_no_answer", ReasonRangeOrZero, 1, 20)
	}
	seconds(v, base, obj, "wrap_up_s", a.WrapUpS, 1, 3600)
}

func (c *Config) checkTypes(v *validator, x *index) {
	deflt := 0
	for i := range c.CustomerTypes {
		t := &c.CustomerTypes[i]
		base, obj := "customer_types["+strconv.Itoa(i)+"]", objRef{kind: ObjCustomerType, key: strconv.Itoa(t.ID), numeric: true}
		v.idAndName(base, obj, t.ID, slices.ContainsFunc(c.CustomerTypes[:i], func(o CustomerType) bool { return o.ID == t.ID }), t.Name)
		if t.Priority < 0 || t.Priority > MaxPriority {
			v.add(base, obj, "priority", ReasonRange, 0, MaxPriority)
		}
		if t.Default {
			if deflt != 0 {
				v.add(base, obj, "default", ReasonDefaultTwice, deflt)
			}
			deflt = t.ID
			if len(t.Numbers)+len(t.Prefixes)+len(t.Categories)+len(t.Regions) > 0 {
				v.add(base, obj, "default", ReasonDefaultMatches)
			}
		}
		list := func(field string, vals []string, ok func(string) bool, bad func(sub, s string)) {
			if len(vals) > MaxList {
				v.add(base, obj, field, ReasonTooMany, MaxList)
				return
			}
			seen := map[string]bool{}
			for j, s := range vals {
				sub := field + "[" + strconv.Itoa(j) + "]"
				switch {
				case !ok(s):
					bad(sub, s)
				case seen[s]:
					v.add(base, obj, sub, ReasonTwice, s)
				}
				seen[s] = true
			}
		}
		list("numbers", t.Numbers, reNumber.MatchString, func(sub, s string) { v.add(base, obj, sub, ReasonDialNumber) })
		list("prefixes", t.Prefixes, rePrefix.MatchString, func(sub, s string) { v.add(base, obj, sub, ReasonPrefix) })
		list("categories", t.Categories, func(s string) bool { return s != "" && textOK(s, MaxNameLen) },
			func(sub, s string) { v.add(base, obj, sub, ReasonTextFormat, MaxNameLen) })
		list("regions", t.Regions, func(s string) bool { _, ok := region.ByCode(s); return ok && strings.HasPrefix(s, "0") },
			func(sub, s string) { v.add(base, obj, sub, ReasonRegion, s) })
		seen := map[int]bool{}
		for j, g := range t.Groups {
			sub := "groups[" + strconv.Itoa(j) + "]"
			if !x.groups[g] {
				v.add(base, obj, sub, ReasonUnknownGroup, g)
			}
			if seen[g] {
				v.add(base, obj, sub, ReasonTwice, strconv.Itoa(g))
			}
			seen[g] = true
		}
	}
}

func (c *Config) checkBlacklist(v *validator) {
	seen := map[string]bool{}
	for i, b := range c.Blacklist {
		base, obj := "blacklist["+strconv.Itoa(i)+"]", objRef{kind: ObjBlacklist, key: b.Number}
		if !reBlocked.MatchString(b.Number) {
			v.add(base, obj, "number", ReasonBlacklistNumber)
		} else if n := region.National(b.Number); seen[n] {
			v.add(base, obj, "number", ReasonTwice, b.Number)
		} else {
			seen[n] = true
		}
		oneOf(v, base, obj, "direction", b.Direction, []string{DirIn, DirOut, DirBoth})
		v.text(base, obj, "note", b.Note, MaxNoteLen)
	}
}

func (c *Config) checkCalendar(v *validator, i int) {
	cal := &c.Calendars[i]
	base, obj := "calendars["+strconv.Itoa(i)+"]", objRef{kind: ObjCalendar, key: cal.Name}
	if !reName.MatchString(cal.Name) {
		v.add(base, obj, "name", ReasonName)
	}
	if taken(c.Calendars, i, func(o *Calendar) string { return o.Name }) {
		v.add(base, obj, "name", ReasonKeyTaken, cal.Name)
	}
	v.text(base, obj, "description", cal.Description, MaxDescLen)
	if _, err := calendar.New(cal.Spec); err != nil {
		var ce *calendar.Error
		if errors.As(err, &ce) {
			v.add(base, obj, ce.Field, calendarReason(ce.Code), ce.Args...)
		}
	}
}

func (c *Config) checkRoutes(v *validator, x *index) {
	type source struct{ kind, trunk, did string }
	sources := map[source]string{}
	for i, r := range c.InboundRoutes {
		base, obj := "inbound_routes["+strconv.Itoa(i)+"]", objRef{kind: ObjInboundRoute, key: r.Name}
		if !reName.MatchString(r.Name) {
			v.add(base, obj, "name", ReasonName)
		}
		if taken(c.InboundRoutes, i, func(o *InboundRoute) string { return o.Name }) {
			v.add(base, obj, "name", ReasonKeyTaken, r.Name)
		}
		v.text(base, obj, "description", r.Description, MaxDescLen)
		oneOf(v, base, obj, "source", r.Source, []string{SourceTrunk, SourceLine, SourceInternal})
		src := source{kind: r.Source, trunk: r.Trunk, did: region.National(r.DID)}
		switch r.Source {
		case SourceTrunk, SourceLine:
			if r.Number != "" {
				v.add(base, obj, "number", ReasonNumberSource)
			}
			t, ok := x.trunks[r.Trunk]
			switch {
			case r.Trunk == "":
				v.add(base, obj, "trunk", ReasonTrunkSource)
			case x.pbx == nil:
			case r.Source == SourceTrunk && (!ok || t.Kind != pbxconf.KindSIP):
				v.add(base, obj, "trunk", ReasonNotSIPTrunk, r.Trunk)
			case r.Source == SourceLine && (!ok || t.Kind != pbxconf.KindFXO):
				v.add(base, obj, "trunk", ReasonNotFXOTrunk, r.Trunk)
			}
			if r.Source == SourceLine && r.DID != "" {
				v.add(base, obj, "did", ReasonDIDLine)
			}
			if r.DID != "" && !reNumber.MatchString(r.DID) {
				v.add(base, obj, "did", ReasonDialNumber)
			}
		case SourceInternal:
			src = source{kind: SourceInternal, did: r.Number}
			if r.Trunk != "" || r.DID != "" {
				v.add(base, obj, "trunk", ReasonTargetUnused, SourceInternal)
			}
			switch {
			case !reInternal.MatchString(r.Number):
				v.add(base, obj, "number", ReasonInternalNumber)
			case x.pbx != nil && slices.Contains(x.pbx.Emergency, r.Number):
				v.add(base, obj, "number", ReasonEmergency)
			case x.pbx != nil && x.exts[r.Number].Number != "":
				v.add(base, obj, "number", ReasonInternalExt)
			}
		}
		if other, dup := sources[src]; dup && r.Source != "" {
			v.add(base, obj, "did", ReasonSourceTaken, other)
		} else {
			sources[src] = r.Name
		}
		c.checkTarget(v, x, base, obj, "target", r.Target, []string{TargetFlow, TargetGroup, TargetExtension, TargetVoicemail, TargetFax, TargetRoom})
	}
}

func (c *Config) checkBindings(v *validator, x *index) {
	for i, b := range c.Bindings {
		base, obj := "bindings["+strconv.Itoa(i)+"]", objRef{kind: ObjBinding, key: b.PC}
		if a, err := netip.ParseAddr(b.PC); err != nil || a.Zone() != "" || a.String() != b.PC {
			v.add(base, obj, "pc", ReasonPCAddress)
		}
		for _, o := range c.Bindings[:i] {
			if o.PC == b.PC {
				v.add(base, obj, "pc", ReasonKeyTaken, b.PC)
			}
			if o.Extension == b.Extension {
				v.add(base, obj, "extension", ReasonKeyTaken, b.Extension)
			}
		}
		x.extension(v, base, obj, "extension", b.Extension)
		v.text(base, obj, "description", b.Description, MaxDescLen)
	}
}

func (c *Config) checkCallerIDs(v *validator, x *index) {
	for i, id := range c.CallerIDs {
		base, obj := "caller_ids["+strconv.Itoa(i)+"]", objRef{kind: ObjCallerID, key: id.Number}
		if !reNumber.MatchString(id.Number) {
			v.add(base, obj, "number", ReasonDialNumber)
		}
		if taken(c.CallerIDs, i, func(o *CallerID) string { return o.Number }) {
			v.add(base, obj, "number", ReasonKeyTaken, id.Number)
		}
		v.text(base, obj, "description", id.Description, MaxDescLen)
		switch {
		case id.AllAgents && len(id.Agents) > 0:
			v.add(base, obj, "agents", ReasonCallerIDBoth)
		case !id.AllAgents && len(id.Agents) == 0:
			v.add(base, obj, "agents", ReasonCallerIDNobody)
		}
		seen := map[string]bool{}
		for j, a := range id.Agents {
			sub := "agents[" + strconv.Itoa(j) + "]"
			if !x.agents[a] {
				v.add(base, obj, sub, ReasonUnknownAgent, a)
			}
			if seen[a] {
				v.add(base, obj, sub, ReasonTwice, a)
			}
			seen[a] = true
		}
	}
}

// flowSet finds flows in the document first, then in the store.
type flowSet struct {
	c      *Config
	stored ivr.FlowSource
}

func (s flowSet) Flow(id string, version int) (*ivr.Flow, error) {
	if f, ok := s.c.Flow(id); ok && (version == 0 || version == f.Version) {
		return f, nil
	}
	if s.stored != nil {
		return s.stored.Flow(id, version)
	}
	return nil, fmt.Errorf("%w: %q", ivr.ErrNoFlow, id)
}

func (c *Config) checkFlows(v *validator, x *index, ctx Context) {
	// Calendars are checked here rather than by ivr, so the reason has a
	// code the web admin translates.
	opt := ivr.ValidateOptions{Prompts: ctx.Prompts, Flows: flowSet{c, ctx.Flows}, Documents: ctx.Documents}
	for i, f := range c.Flows {
		base, obj := "flows["+strconv.Itoa(i)+"]", objRef{kind: ObjFlow, key: f.ID}
		if !reFlowID.MatchString(f.ID) {
			v.add(base, obj, "id", ReasonFlowID)
		}
		if taken(c.Flows, i, func(o **ivr.Flow) string { return (*o).ID }) {
			v.add(base, obj, "id", ReasonKeyTaken, f.ID)
		}
		var ves ivr.ValidationErrors
		if err := ivr.Validate(f, opt); errors.As(err, &ves) {
			for _, e := range ves {
				sub, node := e.Field, e.Node
				if node == "" {
					node = "-"
				} else if sub == "" {
					sub = "nodes." + node
				} else {
					sub = "nodes." + node + "." + sub
				}
				v.add(base, obj, sub, ReasonFlow, node, e.Field, e.Msg)
			}
		}
		for _, n := range f.Nodes {
			switch s := n.Spec.(type) {
			case *ivr.Queue:
				if s.Group != 0 && !x.groups[s.Group] {
					v.add(base, obj, "nodes."+n.ID+".group", ReasonUnknownGroup, s.Group)
				}
			case *ivr.TimeBranch:
				if s.Calendar != "" && !x.calendars[s.Calendar] {
					v.add(base, obj, "nodes."+n.ID+".calendar", ReasonUnknownCalendar, s.Calendar)
				}
			}
		}
	}
}
