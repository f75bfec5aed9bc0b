package pbxconf

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"callbox/telephony/line"
	"callbox/telephony/switch/dialplan"
)

// FieldError is a refused value: which object (e.g. `extension "201"`), its
// JSON path in the document (e.g. `extensions[3].secret`) and field name,
// and what a valid value looks like, in English (Reason) and as a stable
// code with its values (Code, Args) for callers that translate.
type FieldError struct {
	Path   string // JSON path in the document; "" for a single object or the whole
	Object string // "extension \"201\"", `trunk "provider"`, "configuration"
	Field  string // the JSON field name, "" when none applies
	Reason string
	Code   ReasonCode
	Args   []any
	Kind   string // ObjConfiguration, ObjExtension, ObjTrunk or ObjRoute
	Key    string // the object's number or name; "" for the configuration
	err    error  // an optional cause for errors.Is (ErrVersion, dialplan.ErrPattern)
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

// ReasonCode returns the reason's code and values, for callers that
// translate it without importing this package.
func (e *FieldError) ReasonCode() (string, []any) { return string(e.Code), e.Args }

// ObjectRef returns the kind and key of the object at fault.
func (e *FieldError) ObjectRef() (kind, key string) { return e.Kind, e.Key }

// newFieldError makes a FieldError with the English text of code.
func newFieldError(path string, obj objRef, field string, code ReasonCode, args ...any) *FieldError {
	return &FieldError{Path: path, Object: obj.String(), Field: field, Reason: ReasonText(code, args...),
		Code: code, Args: args, Kind: obj.kind, Key: obj.key}
}

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

// add records that field of obj was refused for code, with args for its
// text. Every reason is a ReasonCode constant, so it can be translated.
func (v *validator) add(path string, obj objRef, field string, code ReasonCode, args ...any) {
	v.put(path, obj, field, nil, code, args...)
}

// addErr records a pattern dialplan refused: the pattern and dialplan's
// words are the args, and err is kept for errors.Is (dialplan.ErrPattern).
func (v *validator) addErr(path string, obj objRef, field, pattern string, err error) {
	v.put(path, obj, field, err, ReasonPattern, pattern, err.Error())
}

func (v *validator) put(path string, obj objRef, field string, err error, code ReasonCode, args ...any) {
	if len(v.errs) < MaxErrors {
		p := path
		if field != "" {
			p += "." + field
		}
		fe := newFieldError(strings.TrimPrefix(p, "."), obj, field, code, args...)
		fe.err = err
		v.errs = append(v.errs, fe)
	}
}

func (v *validator) err() error { return errors.Join(v.errs...) }

// Validate checks the whole configuration, each object and the references
// between them. The error joins up to MaxErrors *FieldError values;
// errors.As finds the first.
func (c *Config) Validate() error {
	v := &validator{}
	conf := objRef{kind: ObjConfiguration}
	if c.Version != Version {
		v.add("", conf, "version", ReasonVersion, Version)
	}
	if len(c.Emergency) == 0 {
		v.add("", conf, "emergency", ReasonEmergencyEmpty)
	}
	for i, n := range c.Emergency {
		if !reNumber.MatchString(n) {
			v.add(fmt.Sprintf("emergency[%d]", i), conf, "", ReasonNotNumber, n)
		}
	}
	for i, p := range c.Blocked {
		if _, err := dialplan.ParsePattern(p); err != nil {
			v.addErr(fmt.Sprintf("blocked[%d]", i), conf, "", p, err)
		}
	}
	if len(c.Extensions) > MaxExtensions {
		v.add("", conf, "extensions", ReasonTooMany, MaxExtensions)
	}
	if len(c.Trunks) > MaxTrunks {
		v.add("", conf, "trunks", ReasonTooMany, MaxTrunks)
	}
	if len(c.Routes) > MaxRoutes {
		v.add("", conf, "routes", ReasonTooMany, MaxRoutes)
	}
	numbers := map[string]bool{}
	fxs := map[int]string{}
	plan := c.dialPlan()
	for i, e := range c.Extensions {
		path, obj := fmt.Sprintf("extensions[%d]", i), ref(ObjExtension, e.Number)
		e.validate(v, path, obj)
		if numbers[e.Number] {
			v.add(path, obj, "number", ReasonExtNumberTaken)
		}
		numbers[e.Number] = true
		if n := emergencyPrefix(plan, e.Number); n == e.Number {
			v.add(path, obj, "number", ReasonExtNumberEmergency)
		} else if n != "" {
			v.add(path, obj, "number", ReasonExtNumberEmergPfx, n)
		}
		if e.Kind == KindFXS && e.Port > 0 {
			if other, ok := fxs[e.Port]; ok {
				v.add(path, obj, "port", ReasonFXSPortTaken, e.Port, other)
			}
			fxs[e.Port] = e.Number
		}
	}
	names := map[string]bool{}
	fxo := map[int]string{}
	for i, t := range c.Trunks {
		path, obj := fmt.Sprintf("trunks[%d]", i), ref(ObjTrunk, t.Name)
		t.validate(v, path, obj)
		if names[t.Name] {
			v.add(path, obj, "name", ReasonTrunkNameTaken)
		}
		names[t.Name] = true
		if t.Kind == KindFXO && t.Port > 0 {
			if other, ok := fxo[t.Port]; ok {
				v.add(path, obj, "port", ReasonFXOPortTaken, t.Port, other)
			}
			fxo[t.Port] = t.Name
		}
		if t.Default != "" && !numbers[t.Default] {
			v.add(path, obj, "default", ReasonNotExtension, t.Default)
		}
		for _, did := range sortedKeys(t.DIDs) {
			if dest := t.DIDs[did]; !numbers[dest] {
				v.add(path, obj, "dids", ReasonDIDNotExtension, did, dest)
			}
		}
	}
	c.checkMasks(v)
	routes := map[string]bool{}
	for i, r := range c.Routes {
		path, obj := fmt.Sprintf("routes[%d]", i), ref(ObjRoute, r.Name)
		r.validate(v, path, obj)
		if routes[r.Name] {
			v.add(path, obj, "name", ReasonRouteNameTaken)
		}
		routes[r.Name] = true
		for _, t := range r.Trunks {
			if !names[t] {
				v.add(path, obj, "trunks", ReasonNotTrunk, t)
			}
		}
		for _, n := range r.Allowed {
			if !numbers[n] {
				v.add(path, obj, "allowed", ReasonNotExtension, n)
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
	e.validate(v, "", ref(ObjExtension, e.Number))
	return v.err()
}

func (e Extension) validate(v *validator, path string, obj objRef) {
	if !reExtNumber.MatchString(e.Number) {
		v.add(path, obj, "number", ReasonExtNumberFormat)
	}
	if !text(e.Name, MaxNameLen) {
		v.add(path, obj, "name", ReasonTextFormat, MaxNameLen)
	}
	switch e.Kind {
	case KindSIP:
		if !secretOK(e.Secret) {
			v.add(path, obj, "secret", ReasonSecretFormat)
		}
		if e.Port != 0 {
			v.add(path, obj, "port", ReasonPortSIPExtension)
		}
	case KindFXS:
		if e.Port < 1 || e.Port > MaxPort {
			v.add(path, obj, "port", ReasonFXSPortRange, MaxPort)
		}
		if e.Secret != "" {
			v.add(path, obj, "secret", ReasonSecretFXS)
		}
		if e.NAT {
			v.add(path, obj, "nat", ReasonNATSIPOnly)
		}
	default:
		v.add(path, obj, "kind", ReasonExtKind, e.Kind)
	}
	if !text(e.CallerIDName, MaxNameLen) {
		v.add(path, obj, "caller_id_name", ReasonTextFormat, MaxNameLen)
	}
	if e.CallerIDNumber != "" && !reNumber.MatchString(e.CallerIDNumber) {
		v.add(path, obj, "caller_id_number", ReasonDialNumber)
	}
	fpath := strings.TrimPrefix(path+".forward", ".")
	for _, f := range []struct{ field, num string }{{"always", e.Forward.Always}, {"busy", e.Forward.Busy}, {"no_answer", e.Forward.NoAnswer}} {
		if f.num != "" && !reNumber.MatchString(f.num) {
			v.add(fpath, obj, f.field, ReasonForwardFormat)
		}
		if f.num != "" && f.num == e.Number {
			v.add(fpath, obj, f.field, ReasonForwardSelf)
		}
	}
	if s := e.Forward.NoAnswerS; s != 0 && (s < 5 || s > 120) {
		v.add(fpath, obj, "no_answer_s", ReasonNoAnswerS, DefaultNoAnswerS)
	}
}

// ValidateObject checks one trunk alone, without references.
func (t Trunk) ValidateObject() error {
	v := &validator{}
	t.validate(v, "", ref(ObjTrunk, t.Name))
	return v.err()
}

func (t Trunk) validate(v *validator, path string, obj objRef) {
	if !reTrunkName.MatchString(t.Name) {
		v.add(path, obj, "name", ReasonName)
	}
	switch t.Kind {
	case KindSIP:
		t.validateSIP(v, path, obj)
	case KindFXO:
		t.validateFXO(v, path, obj)
	default:
		v.add(path, obj, "kind", ReasonTrunkKind, t.Kind)
	}
	if t.Default != "" && !reExtNumber.MatchString(t.Default) {
		v.add(path, obj, "default", ReasonExtRef)
	}
}

func (t Trunk) validateSIP(v *validator, path string, obj objRef) {
	if !reHost.MatchString(t.Host) {
		v.add(path, obj, "host", ReasonHost)
	}
	if t.Port < 0 || t.Port > 65535 {
		v.add(path, obj, "port", ReasonSIPPort)
	}
	if _, err := netip.ParseAddr(t.Host); t.NAT && err != nil {
		v.add(path, obj, "nat", ReasonNATHostIP)
	}
	if t.Transport != "" && t.Transport != TransportUDP && t.Transport != TransportTCP {
		v.add(path, obj, "transport", ReasonTransport, t.Transport)
	}
	if t.Username != "" && !reUser.MatchString(t.Username) {
		v.add(path, obj, "username", ReasonSIPUser)
	}
	if t.AuthUser != "" && !reUser.MatchString(t.AuthUser) {
		v.add(path, obj, "auth_user", ReasonSIPUser)
	}
	if t.Secret != "" && (len(t.Secret) > 128 || strings.IndexFunc(t.Secret, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0) {
		v.add(path, obj, "secret", ReasonTrunkSecret)
	}
	if t.Register && (t.Username == "" || t.Secret == "") {
		field := "username"
		if t.Username != "" {
			field = "secret"
		}
		v.add(path, obj, field, ReasonRegisterNeeds)
	}
	for _, did := range sortedKeys(t.DIDs) {
		if !reNumber.MatchString(did) {
			v.add(path, obj, "dids", ReasonNotNumber, did)
		}
	}
	seen := map[string]bool{}
	for _, c := range t.Codecs {
		if !slices.Contains(Codecs, c) {
			v.add(path, obj, "codecs", ReasonCodec, c, strings.Join(Codecs, ", "))
		}
		if seen[c] {
			v.add(path, obj, "codecs", ReasonTwice, c)
		}
		seen[c] = true
	}
	if t.CallerID != "" {
		v.add(path, obj, "caller_id", ReasonCallerIDFXOOnly)
	}
	if t.Rings != 0 {
		v.add(path, obj, "rings", ReasonRingsFXOOnly)
	}
}

func (t Trunk) validateFXO(v *validator, path string, obj objRef) {
	if t.Port < 1 || t.Port > MaxPort {
		v.add(path, obj, "port", ReasonFXOPortRange, MaxPort)
	}
	if t.CallerID != "" && !slices.Contains(CallerIDSchemes, t.CallerID) {
		v.add(path, obj, "caller_id", ReasonCodec, t.CallerID, strings.Join(CallerIDSchemes, ", "))
	}
	if t.Rings != 0 && (t.Rings < 1 || t.Rings > 10) {
		v.add(path, obj, "rings", ReasonRings)
	}
	for _, f := range []struct {
		field string
		set   bool
	}{{"host", t.Host != ""}, {"transport", t.Transport != ""}, {"username", t.Username != ""},
		{"auth_user", t.AuthUser != ""}, {"secret", t.Secret != ""}, {"register", t.Register},
		{"dids", len(t.DIDs) > 0}, {"codecs", len(t.Codecs) > 0}, {"nat", t.NAT}} {
		if f.set {
			v.add(path, obj, f.field, ReasonSIPOnly)
		}
	}
}

// ValidateObject checks one route alone, without references.
func (r Route) ValidateObject() error {
	v := &validator{}
	r.validate(v, "", ref(ObjRoute, r.Name))
	return v.err()
}

func (r Route) validate(v *validator, path string, obj objRef) {
	if !reTrunkName.MatchString(r.Name) {
		v.add(path, obj, "name", ReasonName)
	}
	if len(r.Patterns) == 0 {
		v.add(path, obj, "patterns", ReasonPatternsEmpty)
	}
	for _, p := range r.Patterns {
		if _, err := dialplan.ParsePattern(p); err != nil {
			v.addErr(path, obj, "patterns", p, err)
		}
	}
	for _, p := range r.Blocked {
		if _, err := dialplan.ParsePattern(p); err != nil {
			v.addErr(path, obj, "blocked", p, err)
		}
	}
	if r.Strip < 0 || r.Strip > 16 {
		v.add(path, obj, "strip", ReasonStrip)
	}
	if !reDigits.MatchString(r.Prepend) {
		v.add(path, obj, "prepend", ReasonPrepend)
	}
	if len(r.Trunks) == 0 {
		v.add(path, obj, "trunks", ReasonTrunksEmpty)
	}
	seen := map[string]bool{}
	for _, t := range r.Trunks {
		if seen[t] {
			v.add(path, obj, "trunks", ReasonTwice, strconv.Quote(t))
		}
		seen[t] = true
	}
	if r.CallerID != "" && !reNumber.MatchString(r.CallerID) {
		v.add(path, obj, "caller_id", ReasonDialNumber)
	}
	if r.CallerIDOverride && r.CallerID == "" {
		v.add(path, obj, "caller_id_override", ReasonCallerIDOverride)
	}
	for _, n := range r.Allowed {
		if !reExtNumber.MatchString(n) {
			v.add(path, obj, "allowed", ReasonAllowedFormat, n)
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
			v.add(fmt.Sprintf("extensions[%d]", i), ref(ObjExtension, e.Number), "port",
				ReasonFXSMissing, e.Port, fxs)
		}
	}
	for i, t := range c.Trunks {
		if t.Kind == KindFXO && (t.Port < 1 || t.Port > fxo) {
			v.add(fmt.Sprintf("trunks[%d]", i), ref(ObjTrunk, t.Name), "port",
				ReasonFXOMissing, t.Port, fxo)
		}
	}
	return v.err()
}
