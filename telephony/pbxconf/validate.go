package pbxconf

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"callbox/telephony/line"
	"callbox/telephony/switch/dialplan"
)

// FieldError is a refused value: which object (e.g. `extension 201`), its
// JSON path in the document (e.g. `extensions[3].secret`) and field name,
// and what a valid value looks like.
type FieldError struct {
	Path   string // JSON path in the document; "" for a single object or the whole
	Object string // "extension 201", `trunk "provider"`, "configuration"
	Field  string // the JSON field name, "" when none applies
	Reason string
	err    error // an optional cause for errors.Is (ErrVersion, dialplan.ErrPattern)
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("pbxconf: ")
	b.WriteString(e.Object)
	if e.Path != "" && e.Path != e.Field {
		b.WriteString(" (" + e.Path + ")")
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Reason)
	return b.String()
}

// Unwrap returns the cause the error carries, if any.
func (e *FieldError) Unwrap() error { return e.err }

// JSONField names the offending field as the JSON format spells it, for
// callers (the web API) that report it without importing this package.
func (e *FieldError) JSONField() string { return e.Field }

// MaxErrors bounds how many problems Validate reports at once.
const MaxErrors = 20

// Limits of the configuration.
const (
	MaxExtensions = 1000
	MaxTrunks     = 64
	MaxRoutes     = 200
	MaxPort       = 64
	MaxNameLen    = 64
)

var (
	reExtNumber = regexp.MustCompile(`^[1-9][0-9]{1,7}$`)
	reNumber    = regexp.MustCompile(`^\+?[0-9*#]{1,32}$`)
	reDigits    = regexp.MustCompile(`^[0-9*#]{0,16}$`)
	reTrunkName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	reHost      = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]{2,45}\]$`)
	reUser      = regexp.MustCompile(`^[A-Za-z0-9._+\-!~*'()&=$,;?/%]{1,64}$`)
)

// validator collects problems up to MaxErrors.
type validator struct{ errs []error }

func (v *validator) add(path, object, field, format string, args ...any) {
	v.put(path, object, field, fmt.Sprintf(format, args...), nil)
}

// addErr gives err as the reason and keeps it for errors.Is (a
// dialplan.ErrPattern names the pattern and what is wrong with it).
func (v *validator) addErr(path, object, field string, err error) {
	v.put(path, object, field, err.Error(), err)
}

func (v *validator) put(path, object, field, reason string, err error) {
	if len(v.errs) < MaxErrors {
		p := path
		if field != "" {
			p += "." + field
		}
		v.errs = append(v.errs, &FieldError{Path: strings.TrimPrefix(p, "."), Object: object, Field: field,
			Reason: reason, err: err})
	}
}

func (v *validator) err() error { return errors.Join(v.errs...) }

// Validate checks the whole configuration, each object and the references
// between them. The error joins up to MaxErrors *FieldError values;
// errors.As finds the first.
func (c *Config) Validate() error {
	v := &validator{}
	if c.Version != Version {
		v.add("", "configuration", "version", "must be %d", Version)
	}
	if len(c.Emergency) == 0 {
		v.add("", "configuration", "emergency", "list at least one emergency number: they are always allowed")
	}
	for i, n := range c.Emergency {
		if !reNumber.MatchString(n) {
			v.add(fmt.Sprintf("emergency[%d]", i), "configuration", "", "%q is not a number", n)
		}
	}
	for i, p := range c.Blocked {
		if _, err := dialplan.ParsePattern(p); err != nil {
			v.addErr(fmt.Sprintf("blocked[%d]", i), "configuration", "", err)
		}
	}
	if len(c.Extensions) > MaxExtensions {
		v.add("", "configuration", "extensions", "at most %d", MaxExtensions)
	}
	if len(c.Trunks) > MaxTrunks {
		v.add("", "configuration", "trunks", "at most %d", MaxTrunks)
	}
	if len(c.Routes) > MaxRoutes {
		v.add("", "configuration", "routes", "at most %d", MaxRoutes)
	}
	numbers := map[string]bool{}
	fxs := map[int]string{}
	plan := c.dialPlan()
	for i, e := range c.Extensions {
		path, obj := fmt.Sprintf("extensions[%d]", i), "extension "+strconv.Quote(e.Number)
		e.validate(v, path, obj)
		if numbers[e.Number] {
			v.add(path, obj, "number", "used by another extension")
		}
		numbers[e.Number] = true
		if n := emergencyPrefix(plan, e.Number); n == e.Number {
			v.add(path, obj, "number", "is an emergency number")
		} else if n != "" {
			v.add(path, obj, "number", "starts with emergency number %s: a phone dialling it reaches %s first", n, n)
		}
		if e.Kind == KindFXS && e.Port > 0 {
			if other, ok := fxs[e.Port]; ok {
				v.add(path, obj, "port", "fxs%d is already extension %s", e.Port, other)
			}
			fxs[e.Port] = e.Number
		}
	}
	names := map[string]bool{}
	fxo := map[int]string{}
	for i, t := range c.Trunks {
		path, obj := fmt.Sprintf("trunks[%d]", i), "trunk "+strconv.Quote(t.Name)
		t.validate(v, path, obj)
		if names[t.Name] {
			v.add(path, obj, "name", "used by another trunk")
		}
		names[t.Name] = true
		if t.Kind == KindFXO && t.Port > 0 {
			if other, ok := fxo[t.Port]; ok {
				v.add(path, obj, "port", "fxo%d is already trunk %q", t.Port, other)
			}
			fxo[t.Port] = t.Name
		}
		if t.Default != "" && !numbers[t.Default] {
			v.add(path, obj, "default", "%q is not an extension", t.Default)
		}
		for _, did := range sortedKeys(t.DIDs) {
			if dest := t.DIDs[did]; !numbers[dest] {
				v.add(path, obj, "dids", "%s: %q is not an extension", did, dest)
			}
		}
	}
	c.checkMasks(v)
	routes := map[string]bool{}
	for i, r := range c.Routes {
		path, obj := fmt.Sprintf("routes[%d]", i), "route "+strconv.Quote(r.Name)
		r.validate(v, path, obj)
		if routes[r.Name] {
			v.add(path, obj, "name", "used by another route")
		}
		routes[r.Name] = true
		for _, t := range r.Trunks {
			if !names[t] {
				v.add(path, obj, "trunks", "%q is not a trunk", t)
			}
		}
		for _, n := range r.Allowed {
			if !numbers[n] {
				v.add(path, obj, "allowed", "%q is not an extension", n)
			}
		}
	}
	return v.err()
}

// dialPlan is the switch's dial plan for the configuration's extension
// numbers (those that are valid) and emergency numbers, with the default
// feature codes, which start with '*' and never meet an extension number;
// nil when it does not compile. Validate asks it what a phone's digit
// collection does with each extension number.
func (c *Config) dialPlan() *dialplan.Plan {
	var exts []string
	for _, e := range c.Extensions {
		if reExtNumber.MatchString(e.Number) {
			exts = append(exts, e.Number)
		}
	}
	// A nil list would take dialplan's defaults: an empty one is refused
	// on its own.
	p, err := dialplan.New(dialplan.Config{Extensions: exts, Emergency: append([]string{}, c.Emergency...), Blocked: []string{}})
	if err != nil {
		return nil
	}
	return p
}

// emergencyPrefix returns the emergency number that dialling number digit
// by digit completes first ("" when none): the switch completes an
// emergency number the moment it is dialled, so an extension that is one,
// or starts with one, can never be called from an analog phone.
func emergencyPrefix(p *dialplan.Plan, number string) string {
	if p == nil {
		return ""
	}
	for n := 1; n <= len(number); n++ {
		if d := number[:n]; p.IsEmergency(d) && p.Match(d) == line.MatchComplete {
			return d
		}
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// text reports whether s is a display text: valid UTF-8, at most max
// characters, no control characters.
func text(s string, max int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= max &&
		strings.IndexFunc(s, unicode.IsControl) < 0
}

// secretOK: printable ASCII, 8 to 64 characters (a digest password that a
// phone's keypad menu and a provisioning file can both carry).
func secretOK(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// ValidateObject checks one extension alone, without the references a
// whole configuration adds; errors are joined *FieldError with no path.
func (e Extension) ValidateObject() error {
	v := &validator{}
	e.validate(v, "", "extension "+strconv.Quote(e.Number))
	return v.err()
}

func (e Extension) validate(v *validator, path, obj string) {
	if !reExtNumber.MatchString(e.Number) {
		v.add(path, obj, "number", "use 2 to 8 digits, not starting with 0")
	}
	if !text(e.Name, MaxNameLen) {
		v.add(path, obj, "name", "at most %d characters, no control characters", MaxNameLen)
	}
	switch e.Kind {
	case KindSIP:
		if !secretOK(e.Secret) {
			v.add(path, obj, "secret", "a SIP extension needs a secret of 8 to 64 printable ASCII characters, no spaces")
		}
		if e.Port != 0 {
			v.add(path, obj, "port", "only fxs extensions have a port")
		}
	case KindFXS:
		if e.Port < 1 || e.Port > MaxPort {
			v.add(path, obj, "port", "an fxs extension needs its port, 1 to %d (fxs1 = 1)", MaxPort)
		}
		if e.Secret != "" {
			v.add(path, obj, "secret", "fxs extensions do not register; leave it empty")
		}
	default:
		v.add(path, obj, "kind", "%q is not sip or fxs", e.Kind)
	}
	if !text(e.CallerIDName, MaxNameLen) {
		v.add(path, obj, "caller_id_name", "at most %d characters, no control characters", MaxNameLen)
	}
	if e.CallerIDNumber != "" && !reNumber.MatchString(e.CallerIDNumber) {
		v.add(path, obj, "caller_id_number", "digits, '*' or '#', optionally after '+', at most 32")
	}
	fpath := strings.TrimPrefix(path+".forward", ".")
	for _, f := range []struct{ field, num string }{{"always", e.Forward.Always}, {"busy", e.Forward.Busy}, {"no_answer", e.Forward.NoAnswer}} {
		if f.num != "" && !reNumber.MatchString(f.num) {
			v.add(fpath, obj, f.field, "forward to a number: digits, '*' or '#', optionally after '+'")
		}
		if f.num != "" && f.num == e.Number {
			v.add(fpath, obj, f.field, "an extension cannot forward to itself")
		}
	}
	if s := e.Forward.NoAnswerS; s != 0 && (s < 5 || s > 120) {
		v.add(fpath, obj, "no_answer_s", "5 to 120 seconds (0 for the default %d)", DefaultNoAnswerS)
	}
}

// ValidateObject checks one trunk alone, without references.
func (t Trunk) ValidateObject() error {
	v := &validator{}
	t.validate(v, "", "trunk "+strconv.Quote(t.Name))
	return v.err()
}

func (t Trunk) validate(v *validator, path, obj string) {
	if !reTrunkName.MatchString(t.Name) {
		v.add(path, obj, "name", "1 to 32 of a-z, 0-9, '-' and '_', starting with a letter or digit")
	}
	switch t.Kind {
	case KindSIP:
		t.validateSIP(v, path, obj)
	case KindFXO:
		t.validateFXO(v, path, obj)
	default:
		v.add(path, obj, "kind", "%q is not sip or fxo", t.Kind)
	}
	if t.Default != "" && !reExtNumber.MatchString(t.Default) {
		v.add(path, obj, "default", "an extension number")
	}
}

func (t Trunk) validateSIP(v *validator, path, obj string) {
	if !reHost.MatchString(t.Host) {
		v.add(path, obj, "host", "the provider's host name or address")
	}
	if t.Port < 0 || t.Port > 65535 {
		v.add(path, obj, "port", "1 to 65535 (0 for 5060)")
	}
	if t.Transport != "" && t.Transport != TransportUDP && t.Transport != TransportTCP {
		v.add(path, obj, "transport", "%q is not udp or tcp", t.Transport)
	}
	if t.Username != "" && !reUser.MatchString(t.Username) {
		v.add(path, obj, "username", "1 to 64 characters allowed in a SIP user part")
	}
	if t.AuthUser != "" && !reUser.MatchString(t.AuthUser) {
		v.add(path, obj, "auth_user", "1 to 64 characters allowed in a SIP user part")
	}
	if t.Secret != "" && (len(t.Secret) > 128 || strings.IndexFunc(t.Secret, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0) {
		v.add(path, obj, "secret", "at most 128 printable ASCII characters, no spaces")
	}
	if t.Register && (t.Username == "" || t.Secret == "") {
		field := "username"
		if t.Username != "" {
			field = "secret"
		}
		v.add(path, obj, field, "registering at the provider needs a username and a secret")
	}
	for _, did := range sortedKeys(t.DIDs) {
		if !reNumber.MatchString(did) {
			v.add(path, obj, "dids", "%q is not a number", did)
		}
	}
	seen := map[string]bool{}
	for _, c := range t.Codecs {
		if !slices.Contains(Codecs, c) {
			v.add(path, obj, "codecs", "%q is not one of %s", c, strings.Join(Codecs, ", "))
		}
		if seen[c] {
			v.add(path, obj, "codecs", "%s listed twice", c)
		}
		seen[c] = true
	}
	if t.CallerID != "" {
		v.add(path, obj, "caller_id", "only fxo trunks have a caller ID scheme")
	}
	if t.Rings != 0 {
		v.add(path, obj, "rings", "only fxo trunks count rings")
	}
}

func (t Trunk) validateFXO(v *validator, path, obj string) {
	if t.Port < 1 || t.Port > MaxPort {
		v.add(path, obj, "port", "an fxo trunk needs its port, 1 to %d (fxo1 = 1)", MaxPort)
	}
	if t.CallerID != "" && !slices.Contains(CallerIDSchemes, t.CallerID) {
		v.add(path, obj, "caller_id", "%q is not one of %s", t.CallerID, strings.Join(CallerIDSchemes, ", "))
	}
	if t.Rings != 0 && (t.Rings < 1 || t.Rings > 10) {
		v.add(path, obj, "rings", "1 to 10 rings before answering (0 for 2)")
	}
	for _, f := range []struct {
		field string
		set   bool
	}{{"host", t.Host != ""}, {"transport", t.Transport != ""}, {"username", t.Username != ""},
		{"auth_user", t.AuthUser != ""}, {"secret", t.Secret != ""}, {"register", t.Register},
		{"dids", len(t.DIDs) > 0}, {"codecs", len(t.Codecs) > 0}} {
		if f.set {
			v.add(path, obj, f.field, "only sip trunks have it")
		}
	}
}

// ValidateObject checks one route alone, without references.
func (r Route) ValidateObject() error {
	v := &validator{}
	r.validate(v, "", "route "+strconv.Quote(r.Name))
	return v.err()
}

func (r Route) validate(v *validator, path, obj string) {
	if !reTrunkName.MatchString(r.Name) {
		v.add(path, obj, "name", "1 to 32 of a-z, 0-9, '-' and '_', starting with a letter or digit")
	}
	if len(r.Patterns) == 0 {
		v.add(path, obj, "patterns", "at least one dial pattern")
	}
	for _, p := range r.Patterns {
		if _, err := dialplan.ParsePattern(p); err != nil {
			v.addErr(path, obj, "patterns", err)
		}
	}
	for _, p := range r.Blocked {
		if _, err := dialplan.ParsePattern(p); err != nil {
			v.addErr(path, obj, "blocked", err)
		}
	}
	if r.Strip < 0 || r.Strip > 16 {
		v.add(path, obj, "strip", "0 to 16 leading digits")
	}
	if !reDigits.MatchString(r.Prepend) {
		v.add(path, obj, "prepend", "at most 16 digits, '*' or '#'")
	}
	if len(r.Trunks) == 0 {
		v.add(path, obj, "trunks", "at least one trunk, in failover order")
	}
	seen := map[string]bool{}
	for _, t := range r.Trunks {
		if seen[t] {
			v.add(path, obj, "trunks", "%q listed twice", t)
		}
		seen[t] = true
	}
	if r.CallerID != "" && !reNumber.MatchString(r.CallerID) {
		v.add(path, obj, "caller_id", "digits, '*' or '#', optionally after '+', at most 32")
	}
	if r.CallerIDOverride && r.CallerID == "" {
		v.add(path, obj, "caller_id_override", "overrides with the route's caller_id, which is empty")
	}
	for _, n := range r.Allowed {
		if !reExtNumber.MatchString(n) {
			v.add(path, obj, "allowed", "%q is not an extension number", n)
		}
	}
}

// CheckPorts refuses extensions and trunks on analog ports the board does
// not have (fxs ports 1..fxs, fxo ports 1..fxo); Validate cannot know the
// board. The error joins *FieldError values like Validate's.
func (c *Config) CheckPorts(fxs, fxo int) error {
	v := &validator{}
	for i, e := range c.Extensions {
		if e.Kind == KindFXS && (e.Port < 1 || e.Port > fxs) {
			v.add(fmt.Sprintf("extensions[%d]", i), "extension "+strconv.Quote(e.Number), "port",
				"fxs%d does not exist: this board has %d fxs ports", e.Port, fxs)
		}
	}
	for i, t := range c.Trunks {
		if t.Kind == KindFXO && (t.Port < 1 || t.Port > fxo) {
			v.add(fmt.Sprintf("trunks[%d]", i), "trunk "+strconv.Quote(t.Name), "port",
				"fxo%d does not exist: this board has %d fxo ports", t.Port, fxo)
		}
	}
	return v.err()
}
