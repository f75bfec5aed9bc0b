package ccconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"callbox/telephony/calendar"
	"callbox/telephony/ivr"
	"callbox/telephony/pbxconf"
)

// Version is the format version this firmware writes and reads.
const Version = 1

// Config is the whole call-centre configuration: the document of the
// package documentation.
type Config struct {
	Version       int              `json:"version"`
	Settings      Settings         `json:"settings"`
	FeatureCodes  FeatureCodes     `json:"feature_codes"`
	Groups        []Group          `json:"groups"`
	Agents        []Agent          `json:"agents"`
	CustomerTypes []CustomerType   `json:"customer_types"`
	Blacklist     []BlacklistEntry `json:"blacklist"`
	InboundRoutes []InboundRoute   `json:"inbound_routes"`
	Calendars     []Calendar       `json:"calendars"`
	Bindings      []Binding        `json:"bindings"`
	CallerIDs     []CallerID       `json:"caller_ids"`
	// Flows are the IVR flows the document carries on export and import
	// ("flows"); the box keeps them, with their versions, in the IVR's
	// repository, not in the stored configuration.
	Flows []*ivr.Flow `json:"-"`
}

// Settings are the call centre's global settings.
type Settings struct {
	// Language of what callers hear: "zh-CN" (default) or "en".
	Language string `json:"language"`
	// MaxNoAnswer is how many rings in a row an agent may leave
	// unanswered before NoAnswer (default 3; an agent may have their own).
	MaxNoAnswer int `json:"max_no_answer"`
	// NoAnswer is what then happens: "break" (default) or "sign_out".
	NoAnswer string `json:"no_answer"`
	// SLThresholdS is the service-level threshold in seconds (default 20;
	// a group may have its own).
	SLThresholdS int `json:"sl_threshold_s"`
	// ShortAbandonS: callers who hang up within it are left out of the
	// service level (default 5; 0 counts every abandon, so it is a
	// pointer: absent is the default).
	ShortAbandonS *int `json:"short_abandon_s"`
	// CallbackTimeoutS is how long a callback's dial may take (default 60).
	CallbackTimeoutS int `json:"callback_timeout_s"`
	// CallbackRetryS is the wait before dialling a failed callback again
	// (default 300), and CallbackTries the attempts (default 3).
	CallbackRetryS int `json:"callback_retry_s"`
	CallbackTries  int `json:"callback_tries"`
	// PINTries is how many wrong PINs a phone may send in a row when
	// logging in before it is refused for a while (default 3).
	PINTries int `json:"pin_tries"`
	// Consent is the box-wide default of the recording consent prompt
	// ("this call may be recorded") played to a caller before they wait
	// for a group that records its services; a group's consent overrides
	// it.
	Consent bool `json:"consent,omitempty"`
}

// Settings' defaults.
const (
	DefaultLanguage        = "zh-CN"
	DefaultMaxNoAnswer     = 3
	DefaultSLThresholdS    = 20
	DefaultShortAbandonS   = 5
	DefaultCallbackTimeout = 60
	DefaultCallbackRetry   = 300
	DefaultCallbackTries   = 3
	DefaultPINTries        = 3
)

// Languages callers may hear.
var Languages = []string{"zh-CN", "en"}

// No-answer actions.
const (
	NoAnswerBreak   = "break"
	NoAnswerSignOut = "sign_out"
)

// FeatureCodes are the codes agents dial from any phone of the box.
type FeatureCodes struct {
	Login        string `json:"login"`         // then work number #, PIN #
	Logout       string `json:"logout"`        //
	Ready        string `json:"ready"`         //
	Break        string `json:"break"`         // optionally followed by a reason digit
	Busy         string `json:"busy"`          //
	WrapUpDone   string `json:"wrap_up_done"`  //
	Monitor      string `json:"monitor"`       // followed by the agent's work number
	RecordPrompt string `json:"record_prompt"` // record a prompt by phone
	Voicemail    string `json:"voicemail"`     // the mailbox of the phone that dials it
	VoicemailBox string `json:"voicemail_box"` // any mailbox (then its number and PIN)
	Deposit      string `json:"deposit"`       // followed by a mailbox: leave a message there
}

// DefaultFeatureCodes are *50 to *57, and *97 my voicemail, *98 a
// voicemail box, *96 plus a box to leave a message.
var DefaultFeatureCodes = FeatureCodes{Login: "*50", Logout: "*51", Ready: "*52", Break: "*53", Busy: "*54",
	WrapUpDone: "*55", Monitor: "*56", RecordPrompt: "*57", Voicemail: "*97", VoicemailBox: "*98", Deposit: "*96"}

// codes lists the feature codes with their JSON names.
func (f *FeatureCodes) codes() []struct {
	name string
	code *string
} {
	return []struct {
		name string
		code *string
	}{{"login", &f.Login}, {"logout", &f.Logout}, {"ready", &f.Ready}, {"break", &f.Break}, {"busy", &f.Busy},
		{"wrap_up_done", &f.WrapUpDone}, {"monitor", &f.Monitor}, {"record_prompt", &f.RecordPrompt},
		{"voicemail", &f.Voicemail}, {"voicemail_box", &f.VoicemailBox}, {"deposit", &f.Deposit}}
}

// Routing rules of a group, as telephony/acd names them.
var Rules = []string{"longest_idle", "agent_level", "last_agent", "round_robin", "fewest_calls",
	"least_talk_time", "ring_all", "linear", "random", "ring_progressive"}

// Join and leave rules of a group.
const (
	JoinAlways      = "always"       // wait regardless
	JoinIfLoggedIn  = "if_logged_in" // only when a member is logged in
	JoinIfAvailable = "if_available" // only when a member is idle, ringing, talking or in wrap-up
	LeaveNever      = "never"
	LeaveNoLoggedIn = "if_none_logged_in"
	LeaveNoAvail    = "if_none_available"
)

// Group is a skill group (座席组).
type Group struct {
	ID          int    `json:"id"`
	Name        string `json:"name"`
	Priority    int    `json:"priority"`
	Rule        string `json:"rule"`
	Enabled     *bool  `json:"enabled"`
	Description string `json:"description,omitempty"`

	RingTimeoutS  int         `json:"ring_timeout_s,omitempty"`
	RetryS        int         `json:"retry_s,omitempty"`
	ProgressStepS int         `json:"progress_step_s,omitempty"`
	WrapUpS       int         `json:"wrap_up_s,omitempty"`
	MinSkill      int         `json:"min_skill,omitempty"`
	Relax         []RelaxStep `json:"relax,omitempty"`

	MaxWaitS int    `json:"max_wait_s,omitempty"`
	Overflow Target `json:"overflow,omitzero"`
	MaxQueue int    `json:"max_queue,omitempty"`
	Join     string `json:"join"`
	Leave    string `json:"leave"`

	MOH              string `json:"moh,omitempty"`
	Prompt           string `json:"prompt,omitempty"`
	PromptEveryS     int    `json:"prompt_every_s,omitempty"`
	AnnouncePosition bool   `json:"announce_position,omitempty"`
	AnnounceWait     bool   `json:"announce_wait,omitempty"`
	AnnounceEveryS   int    `json:"announce_every_s,omitempty"`
	AnnounceAgent    bool   `json:"announce_agent,omitempty"`

	CallbackOffer  bool   `json:"callback_offer,omitempty"`
	CallbackKey    string `json:"callback_key,omitempty"`
	CallbackAfterS int    `json:"callback_after_s,omitempty"`

	Recording *bool `json:"recording"`
	// Consent says whether callers hear the recording consent prompt
	// before they wait for the group (when it records): ConsentOn,
	// ConsentOff, or "" for the box's default (Settings.Consent).
	Consent      string `json:"consent,omitempty"`
	Survey       bool   `json:"survey,omitempty"`
	SurveyFlow   string `json:"survey_flow,omitempty"`
	SLThresholdS int    `json:"sl_threshold_s,omitempty"`
}

// IsEnabled reports whether the group serves callers (default yes).
func (g *Group) IsEnabled() bool { return g.Enabled == nil || *g.Enabled }

// Records reports whether the group's calls are recorded (default yes).
func (g *Group) Records() bool { return g.Recording == nil || *g.Recording }

// PlaysConsent reports whether callers waiting for the group hear the
// recording consent prompt, with boxDefault the box's default: never when
// the group does not record.
func (g *Group) PlaysConsent(boxDefault bool) bool {
	if !g.Records() {
		return false
	}
	switch g.Consent {
	case ConsentOn:
		return true
	case ConsentOff:
		return false
	}
	return boxDefault
}

// A group's recording consent prompt: the box's default, on or off.
const (
	ConsentDefault = "default" // stored as ""
	ConsentOn      = "on"
	ConsentOff     = "off"
)

// Consents are the values of Group.Consent, as the forms offer them.
var Consents = []string{ConsentDefault, ConsentOn, ConsentOff}

// RelaxStep lowers a group's minimum skill once a call has waited AfterS.
type RelaxStep struct {
	AfterS   int `json:"after_s"`
	MinSkill int `json:"min_skill"`
}

// Target kinds, for group overflows and inbound routes.
const (
	TargetFlow      = "flow"      // an IVR flow: flow
	TargetGroup     = "group"     // a skill group: group
	TargetExtension = "extension" // an extension: extension
	TargetVoicemail = "voicemail" // a mailbox: mailbox
	TargetHangup    = "hangup"    // a message (optional), then hang up
	TargetFax       = "fax"       // the fax receiver (inbound routes only: a fax DID or line)
	TargetRoom      = "room"      // a conference room: room (its number)
)

// Target is where a call goes: an overflow, or an inbound route's
// destination. Only the field of its kind is set.
type Target struct {
	Kind      string `json:"kind,omitempty"`
	Flow      string `json:"flow,omitempty"`
	Group     int    `json:"group,omitempty"`
	Extension string `json:"extension,omitempty"`
	Mailbox   string `json:"mailbox,omitempty"`
	Message   string `json:"message,omitempty"`
	Room      string `json:"room,omitempty"`
}

// Agent service modes: how an agent's calls reach them.
const (
	ModeExtension = "extension" // an extension on the box (FXS or IP phone)
	ModeSoftphone = "softphone" // a SIP softphone on the agent's PC
	ModeOutside   = "outside"   // an outside number (mobile) through a route
)

// Agent is an agent (a person, 工号) as configured.
type Agent struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Level int    `json:"level,omitempty"`
	// PIN sets the agent's phone-login PIN (4 to 8 digits) on import or
	// in the API; it is hashed at once and never stored or shown.
	PIN string `json:"pin,omitempty"`
	// PINHash is the stored PIN (argon2id); an export carries it so that
	// a restored backup keeps the PINs.
	PINHash     string       `json:"pin_hash,omitempty"`
	Mode        string       `json:"mode"`
	Device      string       `json:"device,omitempty"`
	Route       string       `json:"route,omitempty"`
	Groups      []Membership `json:"groups"`
	AutoAnswer  bool         `json:"auto_answer,omitempty"`
	MaxNoAnswer int          `json:"max_no_answer,omitempty"`
	WrapUpS     int          `json:"wrap_up_s,omitempty"`
	// Supervisor (班长) may monitor services and record prompts from a
	// phone they are logged in on (the monitor and record_prompt codes).
	Supervisor bool `json:"supervisor,omitempty"`
}

// Membership is an agent's place in a group with a skill level.
type Membership struct {
	Group int `json:"group"`
	Skill int `json:"skill"`
}

// CustomerType classifies callers and says which groups serve them.
type CustomerType struct {
	ID         int      `json:"id"`
	Name       string   `json:"name"`
	Priority   int      `json:"priority"`
	Numbers    []string `json:"numbers,omitempty"`
	Prefixes   []string `json:"prefixes,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Regions    []string `json:"regions,omitempty"`
	Groups     []int    `json:"groups"`
	Default    bool     `json:"default,omitempty"`
}

// Blacklist directions.
const (
	DirIn   = "in"   // the number may not call in
	DirOut  = "out"  // agents may not call the number
	DirBoth = "both" //
)

// BlacklistEntry is a blocked number.
type BlacklistEntry struct {
	Number    string `json:"number"`
	Direction string `json:"direction"`
	Note      string `json:"note,omitempty"`
}

// Inbound route sources.
const (
	SourceTrunk    = "trunk"    // a DID on a SIP trunk
	SourceLine     = "line"     // an FXO line
	SourceInternal = "internal" // a number dialled inside the box
)

// InboundRoute sends calls from a source to a target.
type InboundRoute struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	// Trunk is the SIP trunk (source trunk) or FXO line (source line), by
	// its name in the PBX configuration.
	Trunk string `json:"trunk,omitempty"`
	// DID is the called number on a SIP trunk; empty takes the trunk's
	// calls no other route takes.
	DID string `json:"did,omitempty"`
	// Number is the internal number (source internal).
	Number      string `json:"number,omitempty"`
	Target      Target `json:"target"`
	Description string `json:"description,omitempty"`
}

// Calendar is a named business calendar.
type Calendar struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	calendar.Spec
}

// Binding binds a PC to the extension beside it: an agent logging in to
// the web desk from the PC is bound to the extension.
type Binding struct {
	PC          string `json:"pc"`
	Extension   string `json:"extension"`
	Description string `json:"description,omitempty"`
}

// CallerID is a number agents may present on outbound calls.
type CallerID struct {
	Number      string   `json:"number"`
	Description string   `json:"description,omitempty"`
	AllAgents   bool     `json:"all_agents,omitempty"`
	Agents      []string `json:"agents,omitempty"`
}

// Default returns the configuration of a new box: the default settings and
// feature codes, nothing else.
func Default() Config {
	c := Config{Version: Version}
	c.Normalize()
	return c
}

func yes() *bool { b := true; return &b }

// Normalize gives every configuration one representation: defaults filled
// in (so an export shows every setting), top-level lists never nil, and
// optional lists inside objects nil when empty. It sorts nothing. Parse
// calls it.
func (c *Config) Normalize() {
	s := &c.Settings
	if s.Language == "" {
		s.Language = DefaultLanguage
	}
	if s.NoAnswer == "" {
		s.NoAnswer = NoAnswerBreak
	}
	if s.ShortAbandonS == nil {
		v := DefaultShortAbandonS
		s.ShortAbandonS = &v
	}
	for _, d := range []struct {
		v   *int
		def int
	}{{&s.MaxNoAnswer, DefaultMaxNoAnswer}, {&s.SLThresholdS, DefaultSLThresholdS}, {&s.CallbackTimeoutS, DefaultCallbackTimeout},
		{&s.CallbackRetryS, DefaultCallbackRetry}, {&s.CallbackTries, DefaultCallbackTries}, {&s.PINTries, DefaultPINTries}} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	fc, def := c.FeatureCodes.codes(), DefaultFeatureCodes.codes()
	for i := range fc {
		if *fc[i].code == "" {
			*fc[i].code = *def[i].code
		}
	}
	for i := range c.Groups {
		c.Groups[i].normalize()
	}
	for i := range c.Agents {
		c.Agents[i].normalize()
	}
	for i := range c.CustomerTypes {
		t := &c.CustomerTypes[i]
		t.Numbers, t.Prefixes = nilIfEmpty(t.Numbers), nilIfEmpty(t.Prefixes)
		t.Categories, t.Regions = nilIfEmpty(t.Categories), nilIfEmpty(t.Regions)
		t.Groups = notNil(t.Groups)
	}
	for i := range c.Blacklist {
		if c.Blacklist[i].Direction == "" {
			c.Blacklist[i].Direction = DirIn
		}
	}
	for i := range c.Calendars {
		cal := &c.Calendars[i]
		if len(cal.Hours) == 0 {
			cal.Hours = nil
		}
		if len(cal.Special) == 0 {
			cal.Special = nil
		}
		cal.Holidays = nilIfEmpty(cal.Holidays)
	}
	for i := range c.CallerIDs {
		c.CallerIDs[i].Agents = nilIfEmpty(c.CallerIDs[i].Agents)
	}
	c.Groups, c.Agents, c.CustomerTypes = notNil(c.Groups), notNil(c.Agents), notNil(c.CustomerTypes)
	c.Blacklist, c.InboundRoutes, c.Calendars = notNil(c.Blacklist), notNil(c.InboundRoutes), notNil(c.Calendars)
	c.Bindings, c.CallerIDs = notNil(c.Bindings), notNil(c.CallerIDs)
}

// notNil makes a nil list empty, so an export shows it as [].
func notNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (g *Group) normalize() {
	if g.Rule == "" {
		g.Rule = Rules[0]
	}
	if g.Enabled == nil {
		g.Enabled = yes()
	}
	if g.Recording == nil {
		g.Recording = yes()
	}
	if g.Join == "" {
		g.Join = JoinAlways
	}
	if g.Consent == ConsentDefault {
		g.Consent = ""
	}
	if g.Leave == "" {
		g.Leave = LeaveNever
	}
	if g.CallbackOffer && g.CallbackKey == "" {
		g.CallbackKey = "1"
	}
	if len(g.Relax) == 0 {
		g.Relax = nil
	}
}

func (a *Agent) normalize() {
	if a.Mode == "" {
		a.Mode = ModeExtension
	}
	a.Groups = notNil(a.Groups)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// ShortAbandon is the settings' short-abandon time (the default when not
// set).
func (s Settings) ShortAbandon() time.Duration {
	if s.ShortAbandonS == nil {
		return DefaultShortAbandonS * time.Second
	}
	return time.Duration(*s.ShortAbandonS) * time.Second
}

// Clone returns a deep copy of c. Flows are shared: a saved flow is never
// modified.
func (c Config) Clone() Config {
	out := c
	if c.Settings.ShortAbandonS != nil {
		v := *c.Settings.ShortAbandonS
		out.Settings.ShortAbandonS = &v
	}
	out.Groups = slices.Clone(c.Groups)
	for i := range out.Groups {
		g := &out.Groups[i]
		g.Relax = slices.Clone(g.Relax)
		g.Enabled = cloneBool(g.Enabled)
		g.Recording = cloneBool(g.Recording)
	}
	out.Agents = slices.Clone(c.Agents)
	for i := range out.Agents {
		out.Agents[i].Groups = slices.Clone(out.Agents[i].Groups)
	}
	out.CustomerTypes = slices.Clone(c.CustomerTypes)
	for i := range out.CustomerTypes {
		t := &out.CustomerTypes[i]
		t.Numbers, t.Prefixes = slices.Clone(t.Numbers), slices.Clone(t.Prefixes)
		t.Categories, t.Regions = slices.Clone(t.Categories), slices.Clone(t.Regions)
		t.Groups = slices.Clone(t.Groups)
	}
	out.Blacklist = slices.Clone(c.Blacklist)
	out.InboundRoutes = slices.Clone(c.InboundRoutes)
	out.Calendars = slices.Clone(c.Calendars)
	for i := range out.Calendars {
		out.Calendars[i].Spec = out.Calendars[i].Spec.Clone()
	}
	out.Bindings = slices.Clone(c.Bindings)
	out.CallerIDs = slices.Clone(c.CallerIDs)
	for i := range out.CallerIDs {
		out.CallerIDs[i].Agents = slices.Clone(out.CallerIDs[i].Agents)
	}
	out.Flows = slices.Clone(c.Flows)
	return out
}

func cloneBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

// MaxDocument bounds a configuration document with its flows.
const MaxDocument = 4 << 20

// ErrVersion means the document's version is not one this firmware reads.
var ErrVersion = errors.New("ccconf: unsupported version")

// wire is the document as JSON: the configuration with its flows raw, so
// that each flow is parsed (and its errors named) by telephony/ivr.
type wire struct {
	Config
	Flows []json.RawMessage `json:"flows,omitempty"`
}

// Parse decodes a document strictly (unknown fields, wrong types and
// trailing data are refused, naming the field) and normalizes it. It does
// not validate: Validate needs the context (the PBX configuration, the
// stored flows).
func Parse(data []byte) (Config, error) {
	if len(data) > MaxDocument {
		return Config{}, newFieldError("", objRef{kind: ObjCallCentre}, "", ReasonTooMany, MaxDocument)
	}
	root := objRef{kind: ObjCallCentre}
	// Flows are decoded by ivr, which has its own field names (an HTTP
	// lookup's headers are not lower-case): take them out first.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		var c Config
		return Config{}, fromPBX(decodeStrict(data, &c, ObjCallCentre), "", root)
	}
	flows, hasFlows := top["flows"]
	delete(top, "flows")
	rest, err := json.Marshal(top)
	if err != nil {
		return Config{}, fmt.Errorf("ccconf: %w", err)
	}
	var c Config
	if err := decodeStrict(rest, &c, ObjCallCentre); err != nil {
		return Config{}, fromPBX(err, "", root)
	}
	if c.Version != Version {
		fe := newFieldError("", root, "version", ReasonVersionUnsupported, c.Version, Version)
		fe.err = ErrVersion
		return Config{}, fe
	}
	if hasFlows && !bytes.Equal(bytes.TrimSpace(flows), []byte("null")) {
		var raws []json.RawMessage
		if err := json.Unmarshal(flows, &raws); err != nil {
			return Config{}, newFieldError("", root, "flows", ReasonJSONWantList, "value")
		}
		var errs []error
		for i, raw := range raws {
			f, err := parseFlow(raw, "flows["+strconv.Itoa(i)+"]")
			if err != nil {
				errs = append(errs, err)
				continue
			}
			c.Flows = append(c.Flows, f)
		}
		if err := errors.Join(errs...); err != nil {
			return Config{}, err
		}
	}
	c.Normalize()
	return c, nil
}

// ParseFlow parses one flow as a document's flows are parsed: its errors
// are *FieldError values naming the flow (telephony/ivr's words inside).
func ParseFlow(data []byte) (*ivr.Flow, error) { return parseFlow(data, "") }

func parseFlow(data []byte, base string) (*ivr.Flow, error) {
	f, err := ivr.ParseFlow(data)
	if err != nil {
		id := ""
		if f != nil {
			id = f.ID
		}
		return nil, newFieldError(base, objRef{kind: ObjFlow, key: id}, "", ReasonFlowParse, err.Error())
	}
	return f, nil
}

// Marshal encodes c with its flows as an indented document ending in a
// newline, the format of Parse. It refuses a configuration holding a PIN
// in clear (HashPINs first).
func Marshal(c Config) ([]byte, error) {
	c = c.Clone()
	c.Normalize()
	for _, a := range c.Agents {
		if a.PIN != "" {
			return nil, newFieldError("", objRef{kind: ObjAgent, key: a.ID, numeric: true}, "pin", ReasonPINNotHashed)
		}
	}
	w := wire{Config: c}
	for _, f := range c.Flows {
		b, err := json.Marshal(f)
		if err != nil {
			return nil, fmt.Errorf("ccconf: flow %q: %w", f.ID, err)
		}
		w.Flows = append(w.Flows, b)
	}
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("ccconf: %w", err)
	}
	return append(b, '\n'), nil
}

// Flow returns the document's flow with the id.
func (c *Config) Flow(id string) (*ivr.Flow, bool) {
	for _, f := range c.Flows {
		if f.ID == id {
			return f, true
		}
	}
	return nil, false
}

// decodeStrict is telephony/pbxconf's strict decoding, whose errors
// fromPBX turns into this package's.
func decodeStrict(data []byte, v any, object string) error {
	return pbxconf.DecodeStrict(data, v, object)
}
