package ccconf

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"callbox/telephony/calendar"
	"callbox/telephony/pbxconf"
)

// ReasonCode names why a value was refused, stably: a FieldError carries it
// with the values its text needs (Args), so the web admin renders the
// reason in the user's language ("reason.CODE" in its catalogues). Codes
// that mean what telephony/pbxconf's mean are the same strings (the JSON
// decoding's, "text.format", "list.twice"...), so one catalogue entry
// serves both; the call centre's own start with "cc.", a calendar's with
// "calendar.". Reasons lists them all.
type ReasonCode string

// Reason codes shared with telephony/pbxconf.
const (
	ReasonVersion            = ReasonCode(pbxconf.ReasonVersion)            // Version
	ReasonVersionUnsupported = ReasonCode(pbxconf.ReasonVersionUnsupported) // found, Version
	ReasonTextFormat         = ReasonCode(pbxconf.ReasonTextFormat)         // max
	ReasonTwice              = ReasonCode(pbxconf.ReasonTwice)              // value
	ReasonTooMany            = ReasonCode(pbxconf.ReasonTooMany)            // max
	ReasonKeyTaken           = ReasonCode(pbxconf.ReasonKeyTaken)           // value
	ReasonKeyImmutable       = ReasonCode(pbxconf.ReasonKeyImmutable)       //
	ReasonDialNumber         = ReasonCode(pbxconf.ReasonDialNumber)         //
	ReasonNotExtension       = ReasonCode(pbxconf.ReasonNotExtension)       // value
	ReasonName               = ReasonCode(pbxconf.ReasonName)               //
	ReasonNotOneOf           = ReasonCode(pbxconf.ReasonCodec)              // value, the choices
	ReasonEmergency          = ReasonCode(pbxconf.ReasonExtNumberEmergency) //
	ReasonJSONWantList       = ReasonCode(pbxconf.ReasonJSONWantList)       // the JSON type found
)

// The call centre's own reason codes.
const (
	ReasonID              ReasonCode = "cc.id.range"            // max
	ReasonRange           ReasonCode = "cc.range"               // min, max
	ReasonRangeOrZero     ReasonCode = "cc.range_or_zero"       // min, max
	ReasonRequired        ReasonCode = "cc.required"            //
	ReasonAgentID         ReasonCode = "cc.agent_id.format"     //
	ReasonPIN             ReasonCode = "cc.pin.format"          //
	ReasonPINBoth         ReasonCode = "cc.pin.both"            //
	ReasonPINHash         ReasonCode = "cc.pin_hash.format"     //
	ReasonUnknownGroup    ReasonCode = "cc.ref.group"           // group id
	ReasonUnknownFlow     ReasonCode = "cc.ref.flow"            // flow id
	ReasonUnknownRoom     ReasonCode = "cc.ref.room"            // room number
	ReasonUnknownCalendar ReasonCode = "cc.ref.calendar"        // name
	ReasonUnknownAgent    ReasonCode = "cc.ref.agent"           // work number
	ReasonUnknownRoute    ReasonCode = "cc.ref.route"           // name
	ReasonUnknownPrompt   ReasonCode = "cc.ref.prompt"          // name
	ReasonNotSIPExtension ReasonCode = "cc.ref.sip_extension"   // value
	ReasonNotSIPTrunk     ReasonCode = "cc.ref.sip_trunk"       // value
	ReasonNotFXOTrunk     ReasonCode = "cc.ref.fxo_trunk"       // value
	ReasonOverflowSelf    ReasonCode = "cc.overflow.self"       //
	ReasonOverflowLoop    ReasonCode = "cc.overflow.loop"       // the loop, "1 -> 2 -> 1"
	ReasonTargetUnused    ReasonCode = "cc.target.unused"       // the target's kind
	ReasonRouteOutside    ReasonCode = "cc.route.outside_only"  //
	ReasonDeviceOutside   ReasonCode = "cc.device.outside"      //
	ReasonKey             ReasonCode = "cc.key.format"          //
	ReasonDefaultTwice    ReasonCode = "cc.default.twice"       // the other type's id
	ReasonDefaultMatches  ReasonCode = "cc.default.matches"     //
	ReasonRegion          ReasonCode = "cc.region.unknown"      // value
	ReasonPrefix          ReasonCode = "cc.prefix.format"       //
	ReasonSourceTaken     ReasonCode = "cc.source.taken"        // the other route's name
	ReasonInternalExt     ReasonCode = "cc.internal.extension"  //
	ReasonCodeClash       ReasonCode = "cc.code.clash"          // value, the other code, whose it is
	ReasonFeatureCode     ReasonCode = "cc.feature.format"      //
	ReasonPCAddress       ReasonCode = "cc.binding.pc"          //
	ReasonCallerIDBoth    ReasonCode = "cc.caller_id.both"      //
	ReasonCallerIDNobody  ReasonCode = "cc.caller_id.nobody"    //
	ReasonRelaxOrder      ReasonCode = "cc.relax.order"         //
	ReasonFlow            ReasonCode = "cc.flow.invalid"        // node, field, the IVR's words (English)
	ReasonFlowParse       ReasonCode = "cc.flow.parse"          // the IVR's words (English)
	ReasonFlowID          ReasonCode = "cc.flow.id"             //
	ReasonPINNotHashed    ReasonCode = "cc.pin.not_hashed"      //
	ReasonSurveyFlow      ReasonCode = "cc.survey.flow_needed"  //
	ReasonAnnounceEvery   ReasonCode = "cc.announce.every"      //
	ReasonDIDLine         ReasonCode = "cc.source.line_no_did"  //
	ReasonNumberSource    ReasonCode = "cc.source.number_only"  //
	ReasonInternalNumber  ReasonCode = "cc.internal.format"     //
	ReasonTrunkSource     ReasonCode = "cc.source.trunk_needed" //
	ReasonBlacklistNumber ReasonCode = "cc.blacklist.number"    //
)

// reasonTexts are the English texts of the call centre's own codes, fmt
// formats over a FieldError's Args.
var reasonTexts = map[ReasonCode]string{
	ReasonID:              "a whole number from 1 to %d",
	ReasonRange:           "from %d to %d",
	ReasonRangeOrZero:     "0 (the default) or from %d to %d",
	ReasonRequired:        "required",
	ReasonAgentID:         "the work number: 1 to 8 digits",
	ReasonPIN:             "4 to 8 digits",
	ReasonPINBoth:         "give pin or pin_hash, not both",
	ReasonPINHash:         "not a PIN hash this box made (argon2id); give the pin itself",
	ReasonUnknownGroup:    "unknown group %d",
	ReasonUnknownFlow:     "unknown IVR flow %q",
	ReasonUnknownRoom:     "%q is not a conference room's number",
	ReasonUnknownCalendar: "unknown calendar %q",
	ReasonUnknownAgent:    "unknown agent %q",
	ReasonUnknownRoute:    "%q is not an outbound route",
	ReasonUnknownPrompt:   "prompt %q is not in the prompt catalogue",
	ReasonNotSIPExtension: "%q is not a SIP extension",
	ReasonNotSIPTrunk:     "%q is not a SIP trunk",
	ReasonNotFXOTrunk:     "%q is not an FXO line (a trunk of kind fxo)",
	ReasonOverflowSelf:    "a group cannot overflow to itself",
	ReasonOverflowLoop:    "overflows go round in a loop: %s",
	ReasonTargetUnused:    "not used by a %q target",
	ReasonRouteOutside:    "only an agent reached on an outside number has a route",
	ReasonDeviceOutside:   "an agent reached on an outside number needs that number",
	ReasonKey:             "one key: 0-9, * or #",
	ReasonDefaultTwice:    "customer type %d is already the default",
	ReasonDefaultMatches:  "the default type serves callers no other type matches: leave numbers, prefixes, categories and regions empty",
	ReasonRegion:          "%q is not a mainland area code",
	ReasonPrefix:          "1 to 16 digits, optionally after '+'",
	ReasonSourceTaken:     "inbound route %q already takes these calls",
	ReasonInternalExt:     "is an extension: choose a number no phone has",
	ReasonCodeClash:       "%s clashes with %s (%s): one is the start of the other",
	ReasonFeatureCode:     "'*' or '#' followed by 1 to 4 digits",
	ReasonPCAddress:       "the IP address of the agent's PC",
	ReasonCallerIDBoth:    "all_agents and a list of agents exclude each other",
	ReasonCallerIDNobody:  "list the agents who may use it, or set all_agents",
	ReasonRelaxOrder:      "steps in ascending order of after_s",
	ReasonFlow:            "node %s: %s: %s",
	ReasonFlowParse:       "%s",
	ReasonFlowID:          "1 to 64 letters, digits, '_', '-' and '.'",
	ReasonPINNotHashed:    "the PIN has not been hashed (internal error)",
	ReasonSurveyFlow:      "the survey needs its flow (survey_flow)",
	ReasonAnnounceEvery:   "announcements need an interval (announce_every_s)",
	ReasonDIDLine:         "an FXO line has no DID: leave it empty",
	ReasonNumberSource:    "only internal routes have a number",
	ReasonInternalNumber:  "2 to 8 digits, not starting with 0",
	ReasonTrunkSource:     "the trunk or line the calls come in on",
	ReasonBlacklistNumber: "up to 20 digits, '*' or '#', optionally after '+'",
}

// calendarReason is the reason code of a calendar's error code.
func calendarReason(c calendar.Code) ReasonCode { return ReasonCode("calendar." + string(c)) }

// Reasons lists every reason code a FieldError of this package can carry,
// sorted: its own, the calendars', and those it shares with pbxconf.
func Reasons() []ReasonCode {
	out := make([]ReasonCode, 0, len(reasonTexts)+32)
	for c := range reasonTexts {
		out = append(out, c)
	}
	for _, c := range calendar.Codes() {
		out = append(out, calendarReason(c))
	}
	out = append(out, ReasonVersion, ReasonVersionUnsupported, ReasonTextFormat, ReasonTwice, ReasonTooMany,
		ReasonKeyTaken, ReasonKeyImmutable, ReasonDialNumber, ReasonNotExtension, ReasonName,
		ReasonNotOneOf, ReasonEmergency, ReasonJSONWantList)
	for _, c := range pbxconf.Reasons() {
		if strings.HasPrefix(string(c), "json.") {
			out = append(out, ReasonCode(c)) // the strict decoding's
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ReasonText returns the English text of code with args.
func ReasonText(code ReasonCode, args ...any) string {
	if f, ok := reasonTexts[code]; ok {
		return fmt.Sprintf(f, args...)
	}
	if c, ok := strings.CutPrefix(string(code), "calendar."); ok {
		return calendar.Text(calendar.Code(c), args...)
	}
	return pbxconf.ReasonText(pbxconf.ReasonCode(code), args...)
}

// Object kinds of a FieldError; the web admin names them ("object.KIND").
const (
	ObjCallCentre   = "call_centre"
	ObjSettings     = "settings"
	ObjFeatureCodes = "feature_codes"
	ObjGroup        = "group"
	ObjAgent        = "agent"
	ObjCustomerType = "customer_type"
	ObjBlacklist    = "blacklist"
	ObjInboundRoute = "inbound_route"
	ObjCalendar     = "calendar"
	ObjBinding      = "binding"
	ObjCallerID     = "caller_id"
	ObjFlow         = "flow"
)

// Objects lists the object kinds.
func Objects() []string {
	return []string{ObjCallCentre, ObjSettings, ObjFeatureCodes, ObjGroup, ObjAgent, ObjCustomerType,
		ObjBlacklist, ObjInboundRoute, ObjCalendar, ObjBinding, ObjCallerID, ObjFlow}
}

// objWords is how an object kind is written in English errors.
var objWords = map[string]string{
	ObjCallCentre: "call-centre configuration", ObjSettings: "settings", ObjFeatureCodes: "feature codes",
	ObjGroup: "group", ObjAgent: "agent", ObjCustomerType: "customer type", ObjBlacklist: "blacklist entry",
	ObjInboundRoute: "inbound route", ObjCalendar: "calendar", ObjBinding: "binding", ObjCallerID: "caller ID",
	ObjFlow: "flow",
}

// objRef names the object a problem is in: its kind and key.
type objRef struct {
	kind, key string
	numeric   bool // the key is a number, written bare: group 3, agent 1088
}

func (o objRef) String() string {
	w := objWords[o.kind]
	switch {
	case o.key == "":
		return w
	case o.numeric:
		return w + " " + o.key
	}
	return w + " " + strconv.Quote(o.key)
}

// FieldError is a refused value: the object it is in (`group 3`), its JSON
// path in the document (`groups[0].overflow.group`), the field, and why, in
// English (Reason) and as a stable code with its values (Code, Args) for
// callers that translate. It has the methods the web admin looks for
// (JSONField, ReasonCode, ObjectRef), as telephony/pbxconf's FieldError.
type FieldError struct {
	Path   string // JSON path in the document; relative for a single object
	Object string // "group 3", `calendar "main"`, "call-centre configuration"
	Field  string // the JSON field name, "" when none applies
	Reason string
	Code   ReasonCode
	Args   []any
	Kind   string // one of the Obj constants
	Key    string // the object's id or name; "" for the whole
	sub    string // the path inside the object, for Error
	err    error  // an optional cause for errors.Is
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("ccconf: ")
	b.WriteString(e.Object)
	if e.sub != "" {
		b.WriteString(": " + e.sub)
	}
	b.WriteString(": " + e.Reason)
	return b.String()
}

// Unwrap returns the cause the error carries, if any.
func (e *FieldError) Unwrap() error { return e.err }

// JSONField names the offending field as the JSON format spells it.
func (e *FieldError) JSONField() string { return e.Field }

// ReasonCode returns the reason's code and values, for callers that
// translate it without importing this package.
func (e *FieldError) ReasonCode() (string, []any) { return string(e.Code), e.Args }

// ObjectRef returns the kind and key of the object at fault.
func (e *FieldError) ObjectRef() (kind, key string) { return e.Kind, e.Key }

// newFieldError makes a FieldError with the English text of code. base is
// the object's path in the document, sub the path inside it.
func newFieldError(base string, obj objRef, sub string, code ReasonCode, args ...any) *FieldError {
	path := sub
	if base != "" && sub != "" {
		path = base + "." + sub
	} else if base != "" {
		path = base
	}
	// The field is the last name of the path: "overflow.group" is group,
	// "regions[1]" is regions.
	field := sub
	if strings.HasSuffix(field, "]") {
		if i := strings.LastIndexByte(field, '['); i >= 0 {
			field = field[:i]
		}
	}
	if i := strings.LastIndexAny(field, ".]"); i >= 0 {
		field = field[i+1:]
	}
	return &FieldError{Path: path, Object: obj.String(), Field: field, Reason: ReasonText(code, args...),
		Code: code, Args: args, Kind: obj.kind, Key: obj.key, sub: sub}
}

// fromPBX turns the strict decoder's error into this package's.
func fromPBX(err error, base string, obj objRef) error {
	var pe *pbxconf.FieldError
	if !errors.As(err, &pe) {
		return err
	}
	fe := newFieldError(base, obj, pe.Path, ReasonCode(pe.Code), pe.Args...)
	fe.err = pe.Unwrap()
	return fe
}

// MaxErrors bounds how many problems Validate reports at once.
const MaxErrors = 50

// validator collects problems up to MaxErrors.
type validator struct{ errs []error }

// add records that sub (a field path inside obj, at base in the document)
// was refused for code, with args for its text.
func (v *validator) add(base string, obj objRef, sub string, code ReasonCode, args ...any) {
	if len(v.errs) < MaxErrors {
		v.errs = append(v.errs, newFieldError(base, obj, sub, code, args...))
	}
}

func (v *validator) err() error { return errors.Join(v.errs...) }
