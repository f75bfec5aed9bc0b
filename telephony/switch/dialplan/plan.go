// Package dialplan judges the digits a caller dials: extensions, feature
// codes, emergency numbers, outbound routes with patterns (prefix strip
// and add, caller ID, trunks in failover order) and blocked patterns. It is
// pure: the switch asks it digit by digit (Match, as telephony/line's
// DialPlan) and once the number is complete (Resolve).
//
// Emergency numbers are always allowed, whatever the routes or blocked
// patterns say, and complete as soon as they are dialled. International
// and premium-rate numbers are blocked by default: toll fraud is the first
// attack on a PBX.
package dialplan

import (
	"fmt"
	"slices"
	"strings"

	"callbox/telephony/line"
)

// DefaultEmergency are the numbers always allowed: China's police (110),
// fire (119), ambulance (120) and traffic police (122), and the GSM and
// North American numbers 112 and 911. They are also telephony/pbxconf's
// defaults.
var DefaultEmergency = []string{"110", "119", "120", "122", "112", "911"}

// DefaultBlocked are the patterns refused unless the configuration says
// otherwise, checked against both the dialled digits and the number a
// route sends: international calls (00 in China and Europe, 011 from
// North America, a leading +) and premium-rate services (China's 160 and
// 168 information lines, 7 or 8 digits long, which 160X. and 168X. all
// take; North America's 1-900, also dialled as ten digits without the 1,
// and 1-976). They are also telephony/pbxconf's defaults: one list for the
// stored configuration and the switch.
var DefaultBlocked = []string{"00.", "011.", "+.", "160X.", "168X.", "1900NXXXXXX", "900NXXXXXX", "1976NXXXXXX"}

// FeatureCodes are the star codes of the features. A zero field takes the
// default of DefaultFeatures.
type FeatureCodes struct {
	Pickup             string // answer a call ringing another extension
	DNDOn, DNDOff      string // do not disturb
	ForwardAll         string // + number: forward every call
	ForwardAllOff      string
	ForwardBusy        string // + number: forward when busy
	ForwardBusyOff     string
	ForwardNoAnswer    string // + number: forward when not answered
	ForwardNoAnswerOff string
}

// DefaultFeatures are the usual codes: *8 pickup, *76/*77 DND on/off,
// *72/*73 forward all, *90/*91 forward on busy, *92/*93 forward on no
// answer (set codes are followed by the number, ended by # or a pause).
var DefaultFeatures = FeatureCodes{
	Pickup: "*8", DNDOn: "*76", DNDOff: "*77",
	ForwardAll: "*72", ForwardAllOff: "*73",
	ForwardBusy: "*90", ForwardBusyOff: "*91",
	ForwardNoAnswer: "*92", ForwardNoAnswerOff: "*93",
}

// Feature is a feature code's meaning.
type Feature uint8

// Features.
const (
	Pickup Feature = iota + 1
	DNDOn
	DNDOff
	ForwardAll
	ForwardAllOff
	ForwardBusy
	ForwardBusyOff
	ForwardNoAnswer
	ForwardNoAnswerOff
)

var featureNames = [...]string{"", "pickup", "dnd-on", "dnd-off", "forward-all", "forward-all-off",
	"forward-busy", "forward-busy-off", "forward-no-answer", "forward-no-answer-off"}

// String names the feature.
func (f Feature) String() string {
	if int(f) < len(featureNames) && f != 0 {
		return featureNames[f]
	}
	return fmt.Sprintf("feature(%d)", f)
}

// TakesNumber reports whether the feature code is followed by a number.
func (f Feature) TakesNumber() bool {
	return f == ForwardAll || f == ForwardBusy || f == ForwardNoAnswer
}

// Route is an outbound route: numbers matching one of its patterns go
// out on the first of its trunks that takes the call.
type Route struct {
	Name     string
	Patterns []string // dial patterns (see Pattern) against the dialled digits
	Strip    int      // leading digits removed (an access code such as 9)
	Prepend  string   // digits added in front after stripping
	// CallerID is the number presented on the trunk for a caller without
	// an outside number of its own; "" keeps the caller's.
	CallerID string
	// CallerIDOverride presents CallerID whoever calls, over the caller's
	// own outside number (a trunk that accepts only its own numbers).
	CallerIDOverride bool
	Trunks           []string // trunk names, in failover order
	// Callers restricts the route to extensions matching these patterns;
	// empty lets every extension use it.
	Callers []string
	// Blocked patterns refused on this route only (against the dialled
	// digits and the number sent), on top of Config.Blocked.
	Blocked []string
}

// Config is the dial plan's configuration, as the switch's owner supplies
// it (firmware/app adapts telephony/pbxconf's to it).
type Config struct {
	Extensions []string
	Routes     []Route
	// Emergency numbers; nil takes DefaultEmergency. They are dialled
	// unchanged on EmergencyTrunks, or on every route's trunks in order.
	Emergency       []string
	EmergencyTrunks []string
	// Blocked patterns; nil takes DefaultBlocked, an empty slice blocks
	// nothing.
	Blocked  []string
	Features FeatureCodes
	// Applications are numbers served by an application instead of a
	// phone: the call centre's feature codes (*50 login, *56 plus an
	// agent's number) and its internal service numbers (an IVR on 8000).
	Apps []App
}

// App is a set of numbers one application serves (see Config.Apps).
type App struct {
	// Name is what Decision.App reports; the switch hands the call to the
	// application by it.
	Name string
	// Patterns are dial patterns (see Pattern): "*50", "*56X.", "8000".
	Patterns []string
}

// Kind is what a dialled number turned out to be.
type Kind uint8

// Kinds of Decision.
const (
	Invalid   Kind = iota // nothing matches
	Extension             // an extension of the box
	FeatureCode
	Outbound    // an outside number through a route
	Emergency   // an emergency number: always allowed
	Blocked     // matches a blocked pattern
	NoRoute     // a route matches but the caller may not use it
	Application // a number an application serves (Decision.App)
)

var kindNames = [...]string{"invalid", "extension", "feature", "outbound", "emergency", "blocked", "no-route", "application"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Decision is the dial plan's verdict on a complete number.
type Decision struct {
	Kind Kind
	// Number is the extension (Extension), the number to send on the trunk
	// (Outbound, Emergency), the feature's argument (a forwarding
	// target), or the number dialled without a trailing # (Application).
	Number   string
	App      string // the application's name (Application)
	Feature  Feature
	Route    string   // the route's name (Outbound)
	Trunks   []string // where to send it, in failover order
	CallerID string   // the route's caller ID, "" for the caller's own
	// CallerIDOverride: the route's CallerID wins over the caller's own
	// outside number (Route.CallerIDOverride).
	CallerIDOverride bool
	Reason           string // why Blocked, NoRoute or Invalid
}

type route struct {
	Route
	patterns []Pattern
	callers  []Pattern
	blocked  []Pattern
}

type code struct {
	code string
	f    Feature
}

type app struct {
	name     string
	patterns []Pattern
}

// Plan is a compiled dial plan. It is immutable and safe for concurrent
// use; a new configuration makes a new Plan.
type Plan struct {
	exts      map[string]bool
	extList   []string
	routes    []route
	emergency []string
	emTrunks  []string
	blocked   []Pattern
	codes     []code
	features  FeatureCodes
	apps      []app
}

// New compiles cfg; a pattern that does not parse is an error naming it.
func New(cfg Config) (*Plan, error) {
	p := &Plan{exts: make(map[string]bool)}
	for _, e := range cfg.Extensions {
		if e == "" || strings.Trim(e, "0123456789") != "" {
			return nil, fmt.Errorf("dialplan: extension %q: digits only", e)
		}
		p.exts[e] = true
		p.extList = append(p.extList, e)
	}
	for i, r := range cfg.Routes {
		cr := route{Route: r}
		if len(r.Patterns) == 0 {
			return nil, fmt.Errorf("dialplan: route %d (%s): no patterns", i, r.Name)
		}
		if r.Strip < 0 {
			return nil, fmt.Errorf("dialplan: route %d (%s): negative strip", i, r.Name)
		}
		for _, s := range r.Patterns {
			pt, err := ParsePattern(s)
			if err != nil {
				return nil, fmt.Errorf("dialplan: route %d (%s): %w", i, r.Name, err)
			}
			cr.patterns = append(cr.patterns, pt)
		}
		for _, s := range r.Callers {
			pt, err := ParsePattern(s)
			if err != nil {
				return nil, fmt.Errorf("dialplan: route %d (%s) callers: %w", i, r.Name, err)
			}
			cr.callers = append(cr.callers, pt)
		}
		for _, s := range r.Blocked {
			pt, err := ParsePattern(s)
			if err != nil {
				return nil, fmt.Errorf("dialplan: route %d (%s) blocked: %w", i, r.Name, err)
			}
			cr.blocked = append(cr.blocked, pt)
		}
		p.routes = append(p.routes, cr)
	}
	p.emergency = cfg.Emergency
	if p.emergency == nil {
		p.emergency = DefaultEmergency
	}
	p.emTrunks = cfg.EmergencyTrunks
	if len(p.emTrunks) == 0 {
		for _, r := range cfg.Routes {
			for _, t := range r.Trunks {
				if !slices.Contains(p.emTrunks, t) {
					p.emTrunks = append(p.emTrunks, t)
				}
			}
		}
	}
	blocked := cfg.Blocked
	if blocked == nil {
		blocked = DefaultBlocked
	}
	for _, s := range blocked {
		pt, err := ParsePattern(s)
		if err != nil {
			return nil, fmt.Errorf("dialplan: blocked: %w", err)
		}
		p.blocked = append(p.blocked, pt)
	}
	fc := cfg.Features
	d := DefaultFeatures
	for _, c := range []struct {
		s, def string
		f      Feature
	}{
		{fc.Pickup, d.Pickup, Pickup}, {fc.DNDOn, d.DNDOn, DNDOn}, {fc.DNDOff, d.DNDOff, DNDOff},
		{fc.ForwardAll, d.ForwardAll, ForwardAll}, {fc.ForwardAllOff, d.ForwardAllOff, ForwardAllOff},
		{fc.ForwardBusy, d.ForwardBusy, ForwardBusy}, {fc.ForwardBusyOff, d.ForwardBusyOff, ForwardBusyOff},
		{fc.ForwardNoAnswer, d.ForwardNoAnswer, ForwardNoAnswer}, {fc.ForwardNoAnswerOff, d.ForwardNoAnswerOff, ForwardNoAnswerOff},
	} {
		s := c.s
		if s == "" {
			s = c.def
		}
		if _, err := ParsePattern(s); err != nil || strings.ContainsAny(s, "XZN[].!_") {
			return nil, fmt.Errorf("dialplan: feature %s: code %q is not a plain code", c.f, s)
		}
		for _, o := range p.codes {
			if o.code == s {
				return nil, fmt.Errorf("dialplan: feature %s: code %q already used by %s", c.f, s, o.f)
			}
		}
		p.codes = append(p.codes, code{s, c.f})
	}
	for _, c := range p.codes {
		*map[Feature]*string{Pickup: &p.features.Pickup, DNDOn: &p.features.DNDOn, DNDOff: &p.features.DNDOff,
			ForwardAll: &p.features.ForwardAll, ForwardAllOff: &p.features.ForwardAllOff,
			ForwardBusy: &p.features.ForwardBusy, ForwardBusyOff: &p.features.ForwardBusyOff,
			ForwardNoAnswer: &p.features.ForwardNoAnswer, ForwardNoAnswerOff: &p.features.ForwardNoAnswerOff}[c.f] = c.code
	}
	for i, a := range cfg.Apps {
		if a.Name == "" {
			return nil, fmt.Errorf("dialplan: application %d: no name", i)
		}
		ca := app{name: a.Name}
		for _, s := range a.Patterns {
			pt, err := ParsePattern(s)
			if err != nil {
				return nil, fmt.Errorf("dialplan: application %s: %w", a.Name, err)
			}
			for _, c := range p.codes {
				if f, _ := pt.Match(c.code); f {
					return nil, fmt.Errorf("dialplan: application %s: pattern %q takes feature %s's code %q", a.Name, s, c.f, c.code)
				}
			}
			if pt.tail == tailNone {
				if n := strings.TrimPrefix(s, "_"); p.exts[n] {
					return nil, fmt.Errorf("dialplan: application %s: %q is an extension", a.Name, s)
				}
			}
			ca.patterns = append(ca.patterns, pt)
		}
		p.apps = append(p.apps, ca)
	}
	return p, nil
}

// Features returns the feature codes in use (defaults filled in).
func (p *Plan) Features() FeatureCodes { return p.features }

// Extensions returns the extension numbers.
func (p *Plan) Extensions() []string { return slices.Clone(p.extList) }

// IsExtension reports whether n is an extension.
func (p *Plan) IsExtension(n string) bool { return p.exts[n] }

// IsEmergency reports whether n is an emergency number.
func (p *Plan) IsEmergency(n string) bool { return slices.Contains(p.emergency, n) }

// Match implements telephony/line's DialPlan: MatchComplete once digits
// are a number nothing longer could be (emergency numbers at once),
// MatchMore while more digits could still make or extend one (a variable
// number then completes on the line's inter-digit timeout, or with a
// trailing #), MatchInvalid when nothing starts so.
func (p *Plan) Match(digits string) line.Match {
	if digits == "" {
		return line.MatchMore
	}
	if p.IsEmergency(digits) {
		return line.MatchComplete
	}
	if n := len(digits); n > 1 && digits[n-1] == '#' {
		if full, _ := p.match(digits[:n-1]); full {
			return line.MatchComplete
		}
	}
	full, more := p.match(digits)
	switch {
	case more:
		return line.MatchMore
	case full:
		return line.MatchComplete
	}
	return line.MatchInvalid
}

// match reports whether digits are a whole number of something in the
// plan and whether more digits could make (or extend) one.
func (p *Plan) match(digits string) (full, more bool) {
	acc := func(f, m bool) {
		full = full || f
		more = more || m
	}
	for _, c := range p.codes {
		if c.f.TakesNumber() {
			if strings.HasPrefix(digits, c.code) {
				acc(len(digits) > len(c.code), true)
			} else if strings.HasPrefix(c.code, digits) {
				acc(false, true)
			}
			continue
		}
		acc(digits == c.code, len(digits) < len(c.code) && strings.HasPrefix(c.code, digits))
	}
	for _, lst := range [][]string{p.emergency, p.extList} {
		for _, n := range lst {
			acc(digits == n, len(digits) < len(n) && strings.HasPrefix(n, digits))
		}
	}
	for _, a := range p.apps {
		for _, pt := range a.patterns {
			acc(pt.Match(digits))
		}
	}
	for _, r := range p.routes {
		for _, pt := range r.patterns {
			acc(pt.Match(digits))
		}
	}
	return full, more
}

// Resolve decides what the complete number digits, dialled by extension
// from ("" for a caller from outside), is.
func (p *Plan) Resolve(from, digits string) Decision {
	d := p.resolve(from, digits)
	if d.Kind == Invalid && len(digits) > 1 && strings.HasSuffix(digits, "#") {
		return p.resolve(from, strings.TrimSuffix(digits, "#"))
	}
	return d
}

func (p *Plan) resolve(from, digits string) Decision {
	if digits == "" {
		return Decision{Kind: Invalid, Reason: "nothing dialled"}
	}
	if p.IsEmergency(digits) {
		return Decision{Kind: Emergency, Number: digits, Trunks: p.emTrunks}
	}
	for _, c := range p.codes {
		if c.f.TakesNumber() {
			if strings.HasPrefix(digits, c.code) && len(digits) > len(c.code) {
				arg := digits[len(c.code):]
				if len(arg) > 1 {
					arg = strings.TrimSuffix(arg, "#")
				}
				return Decision{Kind: FeatureCode, Feature: c.f, Number: arg}
			}
		} else if digits == c.code {
			return Decision{Kind: FeatureCode, Feature: c.f}
		}
	}
	if p.exts[digits] {
		return Decision{Kind: Extension, Number: digits}
	}
	for _, a := range p.apps {
		for _, pt := range a.patterns {
			if f, _ := pt.Match(digits); f {
				n := digits
				if pt.tail != tailNone && len(n) > 1 {
					n = strings.TrimSuffix(n, "#") // the # that ended the number
				}
				return Decision{Kind: Application, App: a.name, Number: n}
			}
		}
	}
	// An emergency number behind a route's access code ("9110") is still
	// an emergency call, even if the route's pattern wants more digits.
	for _, r := range p.routes {
		if r.Strip > 0 && r.Strip < len(digits) && p.IsEmergency(digits[r.Strip:]) {
			for _, pt := range r.patterns {
				if _, more := pt.Match(digits[:r.Strip]); more {
					return Decision{Kind: Emergency, Number: digits[r.Strip:], Trunks: p.emTrunks}
				}
			}
		}
	}
	denied := ""
	for _, r := range p.routes {
		if !r.matches(digits) {
			continue
		}
		if !r.allows(from) {
			denied = r.Name
			continue
		}
		out := digits
		if r.Strip >= len(out) {
			out = ""
		} else {
			out = out[r.Strip:]
		}
		out = r.Prepend + out
		if pt, ok := blockedBy(p.blocked, digits, out); ok {
			return Decision{Kind: Blocked, Number: out, Route: r.Name, Reason: "blocked pattern " + pt}
		}
		if pt, ok := blockedBy(r.blocked, digits, out); ok {
			return Decision{Kind: Blocked, Number: out, Route: r.Name, Reason: "route " + r.Name + " blocks pattern " + pt}
		}
		if out == "" {
			return Decision{Kind: Invalid, Reason: "route " + r.Name + " leaves no number"}
		}
		return Decision{Kind: Outbound, Number: out, Route: r.Name, Trunks: slices.Clone(r.Trunks),
			CallerID: r.CallerID, CallerIDOverride: r.CallerIDOverride && r.CallerID != ""}
	}
	if denied != "" {
		return Decision{Kind: NoRoute, Route: denied, Reason: "extension " + from + " may not use route " + denied}
	}
	if pt, ok := blockedBy(p.blocked, digits, digits); ok {
		return Decision{Kind: Blocked, Number: digits, Reason: "blocked pattern " + pt}
	}
	return Decision{Kind: Invalid, Reason: "no extension, feature or route matches"}
}

// blockedBy returns the first of the patterns blocked that the dialled
// digits or the number sent match.
func blockedBy(blocked []Pattern, dialled, out string) (string, bool) {
	for _, b := range blocked {
		if f, _ := b.Match(dialled); f {
			return b.String(), true
		}
		if f, _ := b.Match(out); f {
			return b.String(), true
		}
	}
	return "", false
}

func (r *route) matches(digits string) bool {
	for _, pt := range r.patterns {
		if f, _ := pt.Match(digits); f {
			return true
		}
	}
	return false
}

func (r *route) allows(from string) bool {
	if len(r.callers) == 0 {
		return true
	}
	for _, pt := range r.callers {
		if f, _ := pt.Match(from); f {
			return true
		}
	}
	return false
}
