package ivr

import (
	"sort"
	"strings"
	"time"

	"callbox/telephony/calendar"
)

// Limits on field values, checked by Validate.
const (
	maxPromptTimeout = 60 * time.Second
	maxAttempts      = 10
	maxDigits        = 64
	maxRecord        = 10 * time.Minute
	maxHTTPTimeout   = 30 * time.Second
	minHTTPTimeout   = 100 * time.Millisecond
	maxQueueWait     = 4 * time.Hour
	maxRingTimeout   = 5 * time.Minute
)

// Defaults used when a field is left out.
const (
	DefaultMenuTimeout    = 5 * time.Second
	DefaultMenuAttempts   = 3
	DefaultInterDigit     = 3 * time.Second
	DefaultRecordMax      = 2 * time.Minute
	DefaultRecordSilence  = 5 * time.Second
	DefaultHTTPTimeout    = 3 * time.Second
	DefaultSurveyMin      = 1
	DefaultSurveyMax      = 5
	DefaultSurveyAttempts = 2
)

func orDuration(d Duration, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d.D()
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Play plays one prompt and continues.
//
//	{"id": "hello", "type": "play", "prompt": {"file": "welcome", "text": "Welcome"}, "next": "menu"}
type Play struct {
	// Prompt is what is played ("prompt"). Required.
	Prompt Prompt `json:"prompt,omitzero"`
	// Next is the node that follows ("next"). Required.
	Next string `json:"next"`
}

func (s *Play) edges() []edge             { return []edge{{"next", s.Next}} }
func (s *Play) waitsForInput() bool       { return false }
func (s *Play) prompts() []fieldPrompt    { return []fieldPrompt{{"prompt", &s.Prompt}} }
func (s *Play) check(r *reporter)         { r.requirePrompt("prompt", s.Prompt); r.require("next", s.Next) }
func (s *Menu) waitsForInput() bool       { return true }
func (s *Collect) waitsForInput() bool    { return true }
func (s *Record) waitsForInput() bool     { return true }
func (s *Survey) waitsForInput() bool     { return true }
func (s *TimeBranch) waitsForInput() bool { return false }

// Menu plays a prompt and waits for one key. A key listed in Options goes
// to its node. No key within Timeout, or a key not listed, plays
// TimeoutPrompt or InvalidPrompt and tries again, up to Attempts tries in
// all; then the call goes to Fallback (or, when that is empty, to the
// error branch).
//
//	{"id": "menu", "type": "menu", "prompt": "main-menu",
//	 "options": {"1": "sales", "2": "support", "0": "operator"},
//	 "timeout": "5s", "attempts": 3, "invalid_prompt": "invalid",
//	 "timeout_prompt": "please-try-again", "fallback": "operator"}
type Menu struct {
	// Prompt is played with barge-in: a key cuts it short ("prompt").
	Prompt Prompt `json:"prompt,omitzero"`
	// Options maps a key (0-9, *, #, A-D) to a node ("options").
	Options map[string]string `json:"options"`
	// Timeout is how long to wait for a key after the prompt
	// ("timeout", default 5s, at most 60s).
	Timeout Duration `json:"timeout,omitzero"`
	// Attempts is the number of tries before Fallback ("attempts",
	// default 3, at most 10).
	Attempts int `json:"attempts,omitzero"`
	// TimeoutPrompt is played when no key came ("timeout_prompt").
	TimeoutPrompt Prompt `json:"timeout_prompt,omitzero"`
	// InvalidPrompt is played after a key that is not an option
	// ("invalid_prompt").
	InvalidPrompt Prompt `json:"invalid_prompt,omitzero"`
	// Fallback is the node after the last failed try ("fallback").
	Fallback string `json:"fallback,omitempty"`
}

func (s *Menu) edges() []edge {
	e := mapEdges("options", s.Options)
	if s.Fallback != "" {
		e = append(e, edge{"fallback", s.Fallback})
	}
	return e
}

func (s *Menu) prompts() []fieldPrompt {
	return []fieldPrompt{{"prompt", &s.Prompt}, {"timeout_prompt", &s.TimeoutPrompt}, {"invalid_prompt", &s.InvalidPrompt}}
}

func (s *Menu) check(r *reporter) {
	r.requirePrompt("prompt", s.Prompt)
	if len(s.Options) == 0 {
		r.errorf("options", "at least one option is needed")
	}
	for _, k := range sortedKeys(s.Options) {
		if !isDTMFKey(k) {
			r.errorf("options", "key %q is not one DTMF key (0-9, *, #, A-D)", k)
		}
		r.require("options."+k, s.Options[k])
	}
	r.durationRange("timeout", s.Timeout, time.Second, maxPromptTimeout)
	r.intRange("attempts", s.Attempts, 0, maxAttempts)
}

// Collect plays an optional prompt and collects digits into a variable.
// Collection ends at Max digits, at the Terminator key (not stored), or
// when no key comes within InterDigit after the first one. Fewer than Min
// digits counts as a failed try: InvalidPrompt is played and the prompt
// repeated, up to Attempts tries; then the call goes to Fail, or, when
// Fail is empty, to Next with the variable empty.
//
//	{"id": "account", "type": "collect", "prompt": "enter-account",
//	 "min": 6, "max": 10, "terminator": "#", "timeout": "8s",
//	 "var": "account", "next": "lookup", "fail": "operator"}
type Collect struct {
	// Prompt is played with barge-in before collecting ("prompt").
	Prompt Prompt `json:"prompt,omitzero"`
	// Min and Max bound the number of digits ("min" 0..Max, "max"
	// 1..64).
	Min int `json:"min,omitzero"`
	Max int `json:"max"`
	// Terminator is the key that ends input early, "" for none
	// ("terminator").
	Terminator string `json:"terminator,omitempty"`
	// Timeout is the wait for the first key ("timeout", default 5s).
	Timeout Duration `json:"timeout,omitzero"`
	// InterDigit is the wait for each further key ("interdigit",
	// default 3s).
	InterDigit Duration `json:"interdigit,omitzero"`
	// Attempts is the number of tries ("attempts", default 1).
	Attempts int `json:"attempts,omitzero"`
	// InvalidPrompt is played after a failed try ("invalid_prompt").
	InvalidPrompt Prompt `json:"invalid_prompt,omitzero"`
	// Var is the variable the digits go into ("var"). Required.
	Var string `json:"var"`
	// Next follows a successful collection ("next"). Required.
	Next string `json:"next"`
	// Fail follows the last failed try ("fail").
	Fail string `json:"fail,omitempty"`
}

func (s *Collect) edges() []edge {
	e := []edge{{"next", s.Next}}
	if s.Fail != "" {
		e = append(e, edge{"fail", s.Fail})
	}
	return e
}

func (s *Collect) prompts() []fieldPrompt {
	return []fieldPrompt{{"prompt", &s.Prompt}, {"invalid_prompt", &s.InvalidPrompt}}
}

func (s *Collect) check(r *reporter) {
	r.intRange("max", s.Max, 1, maxDigits)
	r.intRange("min", s.Min, 0, maxDigits)
	if s.Min > s.Max && s.Max >= 1 {
		r.errorf("min", "min %d is more than max %d", s.Min, s.Max)
	}
	if s.Terminator != "" && !isDTMFKey(s.Terminator) {
		r.errorf("terminator", "%q is not one DTMF key", s.Terminator)
	}
	r.durationRange("timeout", s.Timeout, time.Second, maxPromptTimeout)
	r.durationRange("interdigit", s.InterDigit, 500*time.Millisecond, maxPromptTimeout)
	r.intRange("attempts", s.Attempts, 0, maxAttempts)
	r.varName("var", s.Var)
	r.require("next", s.Next)
}

// TimeBranch chooses a node by the time of day in a time zone: Open
// inside the working hours, Holiday on a holiday date, Closed otherwise.
// The hours come from a business calendar the branch names (Calendar,
// kept in the call centre's configuration), or are given literally.
//
// Literally, Hours maps days to time ranges: keys are "mon".."sun", day
// ranges such as "mon-fri", or "daily"; values are comma-separated
// "HH:MM-HH:MM" ranges ("09:00-12:00,13:30-18:00"), end exclusive, "24:00"
// allowed as an end. Special maps dates ("2026-09-27") to the hours of
// that one day, overriding the weekday: a make-up working day (调休) on a
// weekend, or short hours; "" closes the day. Holidays lists dates or date
// ranges ("2026-10-01..2026-10-07") on which the call goes to Holiday (or
// Closed when Holiday is empty). telephony/calendar documents the format.
//
//	{"id": "hours", "type": "time", "tz": "Asia/Shanghai",
//	 "hours": {"mon-fri": "09:00-18:00", "sat": "09:00-12:00"},
//	 "holidays": ["2026-10-01..2026-10-07"],
//	 "open": "menu", "closed": "night", "holiday": "night"}
//
//	{"id": "hours", "type": "time", "calendar": "main",
//	 "open": "menu", "closed": "night", "holiday": "night"}
type TimeBranch struct {
	// Calendar names a business calendar ("calendar"); it excludes the
	// literal fields below. The engine finds it through
	// Engine.Calendars when the node runs, so an edited calendar takes
	// effect at once.
	Calendar string `json:"calendar,omitempty"`
	// TZ is an IANA zone ("Asia/Shanghai") or a fixed offset
	// ("+08:00"); empty means UTC ("tz").
	TZ string `json:"tz,omitempty"`
	// Hours are the working hours per weekday ("hours").
	Hours map[string]string `json:"hours,omitempty"`
	// Special overrides the hours on single dates ("special").
	Special map[string]string `json:"special,omitempty"`
	// Holidays are closed dates ("holidays").
	Holidays []string `json:"holidays,omitempty"`
	// Open, Closed and Holiday are the branches ("open", "closed",
	// "holiday"); Open and Closed are required.
	Open    string `json:"open"`
	Closed  string `json:"closed"`
	Holiday string `json:"holiday,omitempty"`
}

// spec is the branch's literal calendar.
func (s *TimeBranch) spec() calendar.Spec {
	return calendar.Spec{TZ: s.TZ, Hours: s.Hours, Special: s.Special, Holidays: s.Holidays}
}

func (s *TimeBranch) edges() []edge {
	e := []edge{{"open", s.Open}, {"closed", s.Closed}}
	if s.Holiday != "" {
		e = append(e, edge{"holiday", s.Holiday})
	}
	return e
}

func (s *TimeBranch) prompts() []fieldPrompt { return nil }

func (s *TimeBranch) check(r *reporter) {
	if s.Calendar != "" {
		if !isName(s.Calendar, false) {
			r.errorf("calendar", "bad calendar name %q", s.Calendar)
		}
		if !s.spec().IsZero() {
			r.errorf("calendar", "a named calendar excludes tz, hours, special and holidays")
		}
	} else if _, err := compileSchedule(s); err != nil {
		r.errorf(err.field, "%s", err.msg)
	}
	r.require("open", s.Open)
	r.require("closed", s.Closed)
}

// Switch chooses a node by the value of a variable; the caller's customer
// type is the variable "customer_type", the calling number "caller".
// With Match "prefix" the longest matching case wins (area codes);
// otherwise the value must equal a case. No match goes to Default.
//
//	{"id": "bytype", "type": "switch", "var": "customer_type",
//	 "cases": {"vip": "vipqueue"}, "default": "menu"}
type Switch struct {
	// Var is the variable tested ("var").
	Var string `json:"var"`
	// Match is "exact" (default) or "prefix" ("match").
	Match string `json:"match,omitempty"`
	// Cases maps values to nodes ("cases").
	Cases map[string]string `json:"cases"`
	// Default is the node when no case matches ("default"). Required.
	Default string `json:"default"`
}

func (s *Switch) edges() []edge {
	return append(mapEdges("cases", s.Cases), edge{"default", s.Default})
}
func (s *Switch) waitsForInput() bool    { return false }
func (s *Switch) prompts() []fieldPrompt { return nil }
func (s *Switch) check(r *reporter) {
	r.varName("var", s.Var)
	if s.Match != "" && s.Match != "exact" && s.Match != "prefix" {
		r.errorf("match", "must be \"exact\" or \"prefix\", not %q", s.Match)
	}
	for _, k := range sortedKeys(s.Cases) {
		r.require("cases."+k, s.Cases[k])
	}
	r.require("default", s.Default)
}

// Queue puts the caller in an ACD queue, either a skill group or the
// groups of a customer type. When an agent answers, the flow ends: the
// call belongs to the agent. When the caller is not served (the queue
// overflowed, no agent is logged in, the caller pressed a key to leave)
// the call goes to Overflow, or to the error branch when that is empty.
//
//	{"id": "sales", "type": "queue", "group": 1, "prompt": "queue-thankyou",
//	 "max_wait": "3m", "overflow": "vm"}
type Queue struct {
	// Group is a skill group id (座席组), > 0 ("group").
	Group int `json:"group,omitzero"`
	// CustomerType queues by customer type; ${var} allowed, so
	// "${customer_type}" queues by the caller's own type
	// ("customer_type"). Exactly one of Group and CustomerType is set.
	CustomerType string `json:"customer_type,omitempty"`
	// Prompt is played before queueing ("prompt").
	Prompt Prompt `json:"prompt,omitzero"`
	// MaxWait caps the wait; 0 leaves it to the queue ("max_wait").
	MaxWait Duration `json:"max_wait,omitzero"`
	// Overflow follows an unserved call ("overflow").
	Overflow string `json:"overflow,omitempty"`
}

func (s *Queue) edges() []edge {
	if s.Overflow == "" {
		return nil
	}
	return []edge{{"overflow", s.Overflow}}
}
func (s *Queue) waitsForInput() bool    { return false }
func (s *Queue) prompts() []fieldPrompt { return []fieldPrompt{{"prompt", &s.Prompt}} }
func (s *Queue) check(r *reporter) {
	switch {
	case s.Group == 0 && s.CustomerType == "":
		r.errorf("group", "one of group and customer_type is needed")
	case s.Group != 0 && s.CustomerType != "":
		r.errorf("group", "group and customer_type exclude each other")
	case s.Group < 0:
		r.errorf("group", "must be positive, not %d", s.Group)
	}
	r.template("customer_type", s.CustomerType)
	r.durationRange("max_wait", s.MaxWait, time.Second, maxQueueWait)
}

// Transfer hands the call to an extension or an outside number. When the
// far end answers, the flow ends; when it is busy, does not answer within
// Timeout, or cannot be dialled, the call goes to Fail (or to the error
// branch when that is empty).
//
//	{"id": "operator", "type": "transfer", "to": "8000", "timeout": "30s", "fail": "vm"}
type Transfer struct {
	// To is the extension or number; digits, *, # and a leading +, with
	// ${var} allowed ("to"). Required.
	To string `json:"to"`
	// Prompt is played before dialling ("prompt").
	Prompt Prompt `json:"prompt,omitzero"`
	// Timeout is the ring time ("timeout"; 0 leaves it to the switch).
	Timeout Duration `json:"timeout,omitzero"`
	// Fail follows a transfer that did not connect ("fail").
	Fail string `json:"fail,omitempty"`
}

func (s *Transfer) edges() []edge {
	if s.Fail == "" {
		return nil
	}
	return []edge{{"fail", s.Fail}}
}
func (s *Transfer) waitsForInput() bool    { return false }
func (s *Transfer) prompts() []fieldPrompt { return []fieldPrompt{{"prompt", &s.Prompt}} }
func (s *Transfer) check(r *reporter) {
	if r.require("to", s.To) && r.template("to", s.To) {
		if lit := stripVars(s.To); !isDialString(lit) {
			r.errorf("to", "%q is not a number (digits, *, #, leading +)", s.To)
		}
	}
	r.durationRange("timeout", s.Timeout, time.Second, maxRingTimeout)
}

// Voicemail lets the caller leave a message in a mailbox. Afterwards the
// call goes to Next, or hangs up when Next is empty.
//
//	{"id": "vm", "type": "voicemail", "box": "8000", "greeting": "vm-intro"}
type Voicemail struct {
	// Box is the mailbox: letters, digits, '_', '-' and '.', with ${var}
	// allowed ("box"). Required.
	Box string `json:"box"`
	// Greeting replaces the mailbox's own greeting ("greeting").
	Greeting Prompt `json:"greeting,omitzero"`
	// Next follows the message ("next").
	Next string `json:"next,omitempty"`
}

func (s *Voicemail) edges() []edge {
	if s.Next == "" {
		return nil
	}
	return []edge{{"next", s.Next}}
}
func (s *Voicemail) waitsForInput() bool    { return true }
func (s *Voicemail) prompts() []fieldPrompt { return []fieldPrompt{{"greeting", &s.Greeting}} }
func (s *Voicemail) check(r *reporter) {
	if r.require("box", s.Box) && r.template("box", s.Box) {
		if lit := stripVars(s.Box); lit != "" && !isName(lit, false) {
			r.errorf("box", "bad mailbox %q", s.Box)
		}
	}
}

// Record records a message from the caller; the recording's id goes into
// Var. Recording stops at the Terminator key, after Silence without
// speech, or at Max.
//
//	{"id": "rec", "type": "record", "prompt": "vm-rec-name", "beep": true,
//	 "max": "60s", "terminator": "#", "var": "message", "next": "thanks"}
type Record struct {
	// Prompt is played before recording ("prompt").
	Prompt Prompt `json:"prompt,omitzero"`
	// Beep plays a beep before recording ("beep").
	Beep bool `json:"beep,omitempty"`
	// Max is the longest recording ("max", default 2m, at most 10m).
	Max Duration `json:"max,omitzero"`
	// Silence ends the recording after this much silence ("silence",
	// default 5s).
	Silence Duration `json:"silence,omitzero"`
	// Terminator is the key that ends recording ("terminator").
	Terminator string `json:"terminator,omitempty"`
	// Var receives the recording id ("var"). Required.
	Var string `json:"var"`
	// Next follows the recording ("next"). Required.
	Next string `json:"next"`
}

func (s *Record) edges() []edge          { return []edge{{"next", s.Next}} }
func (s *Record) prompts() []fieldPrompt { return []fieldPrompt{{"prompt", &s.Prompt}} }
func (s *Record) check(r *reporter) {
	r.durationRange("max", s.Max, time.Second, maxRecord)
	r.durationRange("silence", s.Silence, time.Second, maxRecord)
	if s.Terminator != "" && !isDTMFKey(s.Terminator) {
		r.errorf("terminator", "%q is not one DTMF key", s.Terminator)
	}
	r.varName("var", s.Var)
	r.require("next", s.Next)
}

// Survey asks for a rating by key press (满意度调查) and stores it with the
// call (Result.Surveys). A key outside Min..Max plays InvalidPrompt and
// asks again, up to Attempts tries; a caller who does not answer is
// recorded as not rated. Thanks is played after a rating.
//
//	{"id": "rate", "type": "survey", "question": "satisfaction",
//	 "prompt": {"text": "Press 1 to 5"}, "min": 1, "max": 5,
//	 "thanks": "auth-thankyou", "next": "bye"}
type Survey struct {
	// Question names what is rated; it is stored with the rating
	// ("question"). Required.
	Question string `json:"question"`
	// Prompt asks the question ("prompt"). Required.
	Prompt Prompt `json:"prompt,omitzero"`
	// Min and Max are the lowest and highest rating keys ("min" default
	// 1, "max" default 5; 0..9).
	Min int `json:"min,omitzero"`
	Max int `json:"max,omitzero"`
	// Timeout is the wait for the key ("timeout", default 5s).
	Timeout Duration `json:"timeout,omitzero"`
	// Attempts is the number of tries ("attempts", default 2).
	Attempts int `json:"attempts,omitzero"`
	// InvalidPrompt is played after a key out of range
	// ("invalid_prompt").
	InvalidPrompt Prompt `json:"invalid_prompt,omitzero"`
	// Thanks is played after a rating ("thanks").
	Thanks Prompt `json:"thanks,omitzero"`
	// Var receives the rating, "" when none ("var").
	Var string `json:"var,omitempty"`
	// Next follows ("next"). Required.
	Next string `json:"next"`
}

func (s *Survey) bounds() (lo, hi int) {
	lo, hi = s.Min, s.Max
	if lo == 0 && hi == 0 {
		return DefaultSurveyMin, DefaultSurveyMax
	}
	return lo, hi
}

func (s *Survey) edges() []edge { return []edge{{"next", s.Next}} }
func (s *Survey) prompts() []fieldPrompt {
	return []fieldPrompt{{"prompt", &s.Prompt}, {"invalid_prompt", &s.InvalidPrompt}, {"thanks", &s.Thanks}}
}
func (s *Survey) check(r *reporter) {
	r.require("question", s.Question)
	r.requirePrompt("prompt", s.Prompt)
	lo, hi := s.bounds()
	r.intRange("min", lo, 0, 9)
	r.intRange("max", hi, 0, 9)
	if lo >= hi {
		r.errorf("min", "min %d must be below max %d", lo, hi)
	}
	r.durationRange("timeout", s.Timeout, time.Second, maxPromptTimeout)
	r.intRange("attempts", s.Attempts, 0, maxAttempts)
	if s.Var != "" {
		r.varName("var", s.Var)
	}
	r.require("next", s.Next)
}

// Set assigns variables; values are templates ("${caller}-${account}").
//
//	{"id": "mark", "type": "set", "vars": {"route": "night"}, "next": "vm"}
type Set struct {
	// Vars maps variable names to value templates ("vars"). Required.
	Vars map[string]string `json:"vars"`
	// Next follows ("next"). Required.
	Next string `json:"next"`
}

func (s *Set) edges() []edge          { return []edge{{"next", s.Next}} }
func (s *Set) waitsForInput() bool    { return false }
func (s *Set) prompts() []fieldPrompt { return nil }
func (s *Set) check(r *reporter) {
	if len(s.Vars) == 0 {
		r.errorf("vars", "at least one variable is needed")
	}
	for _, k := range sortedKeys(s.Vars) {
		r.varName("vars", k)
		r.template("vars."+k, s.Vars[k])
	}
	r.require("next", s.Next)
}

// HTTPLookup asks an external business system (CRM, billing) over HTTP
// and copies fields of its JSON answer into variables. The URL is a
// template whose values are query-escaped; a POST sends Body as a JSON
// object of templated strings. A timeout, a transport error, a status
// other than 2xx or an answer that is not JSON takes the node's error
// branch; a result field that is absent leaves its variable empty.
//
//	{"id": "crm", "type": "http", "method": "GET",
//	 "url": "http://crm.local/api/customer?phone=${caller}", "timeout": "2s",
//	 "results": {"customer_type": "customer.level", "name": "customer.name"},
//	 "next": "bytype", "error": "menu"}
type HTTPLookup struct {
	// Method is "GET" (default) or "POST" ("method").
	Method string `json:"method,omitempty"`
	// URL is an http or https URL template ("url"). Required.
	URL string `json:"url"`
	// Body is sent as a JSON object with POST ("body").
	Body map[string]string `json:"body,omitempty"`
	// Timeout bounds the whole exchange ("timeout", default 3s,
	// 100ms..30s).
	Timeout Duration `json:"timeout,omitzero"`
	// Results maps variables to dotted paths into the JSON answer
	// ("customer.name", "items.0.id") ("results").
	Results map[string]string `json:"results,omitempty"`
	// Next follows a successful lookup ("next"). Required.
	Next string `json:"next"`
}

func (s *HTTPLookup) edges() []edge          { return []edge{{"next", s.Next}} }
func (s *HTTPLookup) waitsForInput() bool    { return false }
func (s *HTTPLookup) prompts() []fieldPrompt { return nil }
func (s *HTTPLookup) method() string {
	if s.Method == "" {
		return "GET"
	}
	return strings.ToUpper(s.Method)
}
func (s *HTTPLookup) check(r *reporter) {
	if m := s.method(); m != "GET" && m != "POST" {
		r.errorf("method", "must be GET or POST, not %q", s.Method)
	}
	if s.method() == "GET" && len(s.Body) > 0 {
		r.errorf("body", "a GET has no body")
	}
	if r.require("url", s.URL) && r.template("url", s.URL) {
		lit := stripVars(s.URL)
		if !strings.HasPrefix(lit, "http://") && !strings.HasPrefix(lit, "https://") {
			r.errorf("url", "must start with http:// or https://")
		} else if host := strings.TrimPrefix(strings.TrimPrefix(lit, "http://"), "https://"); host == "" || host[0] == '/' {
			r.errorf("url", "has no host")
		}
	}
	for _, k := range sortedKeys(s.Body) {
		r.template("body."+k, s.Body[k])
	}
	r.durationRange("timeout", s.Timeout, minHTTPTimeout, maxHTTPTimeout)
	for _, k := range sortedKeys(s.Results) {
		r.varName("results", k)
		if p := s.Results[k]; p == "" || strings.Contains(p, "..") || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") {
			r.errorf("results."+k, "bad JSON path %q", p)
		}
	}
	r.require("next", s.Next)
}

// SubFlow runs another flow and continues at Next when that flow
// returns. Variables are shared with the sub-flow. The latest version is
// looked up when the call first reaches the sub-flow and kept for the
// rest of the call.
//
//	{"id": "ask", "type": "call", "flow": "survey", "next": "bye"}
type SubFlow struct {
	// Flow is the id of the flow to run ("flow"). Required.
	Flow string `json:"flow"`
	// Version pins a version; 0 runs the latest saved one ("version").
	Version int `json:"version,omitzero"`
	// Next follows the sub-flow's return ("next"). Required.
	Next string `json:"next"`
}

func (s *SubFlow) edges() []edge          { return []edge{{"next", s.Next}} }
func (s *SubFlow) waitsForInput() bool    { return false }
func (s *SubFlow) prompts() []fieldPrompt { return nil }
func (s *SubFlow) check(r *reporter) {
	if r.require("flow", s.Flow) && !isFlowID(s.Flow) {
		r.errorf("flow", "bad flow id %q", s.Flow)
	}
	r.intRange("version", s.Version, 0, 1<<30)
	r.require("next", s.Next)
}

// Return ends the current flow: a sub-flow returns to its caller's next
// node; the top flow ends, and a caller an agent sent into the flow goes
// back to that agent (通话返回).
//
//	{"id": "done", "type": "return"}
type Return struct{}

func (s *Return) edges() []edge          { return nil }
func (s *Return) waitsForInput() bool    { return false }
func (s *Return) prompts() []fieldPrompt { return nil }
func (s *Return) check(r *reporter)      {}

// Hangup plays an optional goodbye and ends the call.
//
//	{"id": "bye", "type": "hangup", "prompt": "goodbye"}
type Hangup struct {
	// Prompt is played before hanging up ("prompt").
	Prompt Prompt `json:"prompt,omitzero"`
}

func (s *Hangup) edges() []edge          { return nil }
func (s *Hangup) waitsForInput() bool    { return false }
func (s *Hangup) prompts() []fieldPrompt { return []fieldPrompt{{"prompt", &s.Prompt}} }
func (s *Hangup) check(r *reporter)      {}

func mapEdges(field string, m map[string]string) []edge {
	e := make([]edge, 0, len(m)+1)
	for _, k := range sortedKeys(m) {
		e = append(e, edge{field + "." + k, m[k]})
	}
	return e
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func isDTMFKey(k string) bool {
	return len(k) == 1 && strings.Contains("0123456789*#ABCD", k)
}

func isDialString(s string) bool {
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9', c == '*', c == '#':
		case c == '+' && i == 0:
		default:
			return false
		}
	}
	return true
}

// Fax sends a fax document to the caller's fax machine on the same call
// (fax on demand) or receives a fax from it. Prompt tells the caller what
// to do first (press the machine's start key); the fax's record id goes
// into Var. Afterwards the call goes to Next, or hangs up when Next is
// empty; a fax that failed takes the error branch.
//
//	{"id": "prices", "type": "fax", "send": "price-list", "prompt": "press-start", "next": "bye"}
//	{"id": "orders", "type": "fax", "receive": true, "var": "fax"}
type Fax struct {
	// Send names the fax document sent ("send": letters, digits, '_',
	// '-', '.'); one of Send and Receive is needed.
	Send string `json:"send,omitempty"`
	// Receive receives a fax from the caller instead ("receive").
	Receive bool `json:"receive,omitempty"`
	// Prompt is played before the fax starts ("prompt").
	Prompt Prompt `json:"prompt,omitzero"`
	// Var receives the fax's record id ("var").
	Var string `json:"var,omitempty"`
	// Next follows the fax ("next").
	Next string `json:"next,omitempty"`
}

func (s *Fax) edges() []edge {
	if s.Next == "" {
		return nil
	}
	return []edge{{"next", s.Next}}
}
func (s *Fax) waitsForInput() bool    { return true }
func (s *Fax) prompts() []fieldPrompt { return []fieldPrompt{{"prompt", &s.Prompt}} }
func (s *Fax) check(r *reporter) {
	switch {
	case s.Send == "" && !s.Receive:
		r.errorf("send", "one of send (a document) and receive is needed")
	case s.Send != "" && s.Receive:
		r.errorf("send", "send and receive exclude each other")
	case s.Send != "" && !isName(s.Send, false):
		r.errorf("send", "bad document name %q", s.Send)
	}
	if s.Var != "" {
		r.varName("var", s.Var)
	}
}
