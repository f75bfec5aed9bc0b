package cc

import (
	"fmt"
	"strings"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/ivr"
	"callbox/telephony/switch/dialplan"
)

// Config is the call centre's configuration as the service runs it: the
// ACD's, and what the service adds to it. firmware/app makes it from the
// stored call-centre configuration (telephony/ccconf).
type Config struct {
	ACD acd.Config
	// Groups are the settings of skill groups beyond acd.Group's, by id.
	Groups map[int]GroupOptions
	// Agents are the settings of agents beyond acd.Agent's, by id.
	Agents map[acd.AgentID]AgentOptions
	// Routes send calls from trunks, lines and internal numbers.
	Routes []Route
	// Blacklist lists numbers refused inbound (In) or never dialled (Out).
	Blacklist []Blocked
	// CallerIDs are the outbound caller IDs and who may use them.
	CallerIDs []CallerID
	// Codes are the feature codes; zero fields take DefaultCodes.
	Codes Codes
	// Language of the system prompts: "zh-CN" (default) or "en".
	Language string
	// Hotline is the caller ID of callbacks (the box's published number);
	// "" takes the route's.
	Hotline string
	// OutboundPrefix is put in front of the outside numbers the service
	// dials itself (callbacks, click to dial, agents' outside devices), so
	// that they match an outbound route (an access code such as 9).
	OutboundPrefix string
}

// GroupOptions are a skill group's call-centre settings.
type GroupOptions struct {
	// MusicOnHold names a prompt played in a loop to waiting callers; ""
	// is the switch's own music.
	MusicOnHold string
	// AnnounceAgent tells the caller the agent's work number on connect
	// ("1088 号客服代表为您服务").
	AnnounceAgent bool
	// CallbackKey is the key a waiting caller presses to be called back,
	// keeping their place ("" offers no callback); CallbackPrompt offers
	// it with each periodic prompt.
	CallbackKey string
	// Survey is the flow the caller runs after the agent hangs up (a
	// satisfaction survey); "" for none.
	Survey string
	// Record records the services of the group.
	Record bool
}

// AgentOptions are an agent's call-centre settings.
type AgentOptions struct {
	// PINHash is the agent's PIN as Options.VerifyPIN checks it.
	PINHash string
	// Supervisor may monitor services and manage the queues (班长).
	Supervisor bool
}

// Route sends the calls that match it to a target. A route matches a call
// from a trunk (Trunk, DID), a line (Trunk is the FXO port) or an
// extension dialling an internal number (Number).
type Route struct {
	// Trunk is a SIP trunk's name or an FXO port ("fxo1"); "" is any.
	Trunk string
	// DID is the number called on the trunk; "" is any.
	DID string
	// Number is an internal number extensions dial (a service number such
	// as 8000); a route with a Number matches only such calls.
	Number string
	// The target: exactly one of these.
	Flow      string // an IVR flow
	Group     int    // a skill group
	Extension string // an extension (rung by the switch's dial plan)
	Voicemail string // a mailbox
}

// Blocked is a blacklist entry.
type Blocked struct {
	Number  string
	In, Out bool
}

// CallerID is an outbound caller ID and the agents who may present it (all
// when Agents is empty).
type CallerID struct {
	Number string
	Agents []acd.AgentID
}

// Codes are the agents' feature codes and the in-call menu key.
type Codes struct {
	Login, Logout, Ready, Break, Busy, WrapUpDone, Monitor, RecordPrompt string
}

// DefaultCodes: *50 login (then work number #, PIN #), *51 logout, *52
// ready, *53 break (an optional reason digit), *54 busy, *55 wrap-up
// done, *56 plus an agent's work number to monitor that agent's service
// (then 4 listen, 5 whisper, 6 barge), *57 record a prompt.
var DefaultCodes = Codes{Login: "*50", Logout: "*51", Ready: "*52", Break: "*53", Busy: "*54",
	WrapUpDone: "*55", Monitor: "*56", RecordPrompt: "*57"}

func (c Codes) withDefaults() Codes {
	d := DefaultCodes
	for _, f := range []struct{ v, def *string }{
		{&c.Login, &d.Login}, {&c.Logout, &d.Logout}, {&c.Ready, &d.Ready}, {&c.Break, &d.Break},
		{&c.Busy, &d.Busy}, {&c.WrapUpDone, &d.WrapUpDone}, {&c.Monitor, &d.Monitor}, {&c.RecordPrompt, &d.RecordPrompt},
	} {
		if *f.v == "" {
			*f.v = *f.def
		}
	}
	return c
}

// AppName is the name the dial plan gives the call centre's numbers.
const AppName = "cc"

// DialPlan returns the numbers the call centre serves, for the switch's
// dial plan (dialplan.Config.Apps): the feature codes and the internal
// numbers of the routes.
func (c *Config) DialPlan() dialplan.App {
	k := c.Codes.withDefaults()
	a := dialplan.App{Name: AppName, Patterns: []string{k.Login, k.Logout, k.Ready, k.Break + "!", k.Busy,
		k.WrapUpDone, k.Monitor + "X.", k.RecordPrompt + "!"}}
	for _, r := range c.Routes {
		if r.Number != "" {
			a.Patterns = append(a.Patterns, r.Number)
		}
	}
	return a
}

// Validate checks what the service relies on: routes with one target
// that exists, group options for groups that exist.
func (c *Config) Validate() error {
	if err := c.ACD.Validate(); err != nil {
		return err
	}
	groups := map[int]bool{}
	for _, g := range c.ACD.Groups {
		groups[g.ID] = true
	}
	for id := range c.Groups {
		if !groups[id] {
			return fmt.Errorf("cc: group %d: options for a group that does not exist", id)
		}
	}
	for i, r := range c.Routes {
		n := 0
		for _, set := range []bool{r.Flow != "", r.Group != 0, r.Extension != "", r.Voicemail != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("cc: route %d: %d targets, want one of flow, group, extension, voicemail", i+1, n)
		}
		if r.Group != 0 && !groups[r.Group] {
			return fmt.Errorf("cc: route %d: group: unknown group %d", i+1, r.Group)
		}
		if r.Number != "" && (r.Trunk != "" || r.DID != "") {
			return fmt.Errorf("cc: route %d: an internal number cannot also name a trunk or DID", i+1)
		}
	}
	switch c.Language {
	case "", "zh-CN", "en":
	default:
		return fmt.Errorf("cc: language %q: want zh-CN or en", c.Language)
	}
	return nil
}

// route finds the route of a call: from trunk (or line) for did, or for an
// internal number. The most specific wins: trunk and DID, then DID, then
// trunk, then any.
func (c *Config) route(trunk, did, number string) (Route, bool) {
	best, score := Route{}, -1
	for _, r := range c.Routes {
		if number != "" || r.Number != "" {
			if r.Number != "" && r.Number == number {
				return r, true
			}
			continue
		}
		if (r.Trunk != "" && r.Trunk != trunk) || (r.DID != "" && strings.TrimPrefix(r.DID, "+") != strings.TrimPrefix(did, "+")) {
			continue
		}
		s := 0
		if r.DID != "" {
			s += 2
		}
		if r.Trunk != "" {
			s++
		}
		if s > score {
			best, score = r, s
		}
	}
	return best, score >= 0
}

// blockedIn reports whether number may not call in.
func (c *Config) blockedIn(number string) bool {
	for _, b := range c.Blacklist {
		if b.In && b.Number == number {
			return true
		}
	}
	return false
}

// blockedOut reports whether number may not be dialled.
func (c *Config) blockedOut(number string) bool {
	for _, b := range c.Blacklist {
		if b.Out && b.Number == number {
			return true
		}
	}
	return false
}

// callerIDFor returns whether agent may present number.
func (c *Config) callerIDAllowed(agent acd.AgentID, number string) bool {
	for _, id := range c.CallerIDs {
		if id.Number != number {
			continue
		}
		if len(id.Agents) == 0 {
			return true
		}
		for _, a := range id.Agents {
			if a == agent {
				return true
			}
		}
	}
	return false
}

func (c *Config) lang() string {
	if c.Language == "" {
		return "zh-CN"
	}
	return c.Language
}

func (c *Config) group(id int) (acd.Group, GroupOptions, bool) {
	for _, g := range c.ACD.Groups {
		if g.ID == id {
			return g, c.Groups[id], true
		}
	}
	return acd.Group{}, GroupOptions{}, false
}

func (c *Config) agent(id acd.AgentID) (acd.Agent, bool) {
	for _, a := range c.ACD.Agents {
		if a.ID == id {
			return a, true
		}
	}
	return acd.Agent{}, false
}

// ringTimeout is how long the switch lets an agent's phone ring: the
// engine times the ring itself; this is its backstop.
func ringTimeout(g acd.Group) time.Duration {
	d := g.RingTimeout
	if d <= 0 {
		d = acd.DefaultRingTimeout
	}
	return d + 5*time.Second
}

// The system prompts the service plays, with the text spoken when the
// catalogue lacks the file.
var (
	promptLoginNumber  = ivr.Prompt{File: "cc-login-number", Text: "Please enter your work number, then the hash key."}
	promptLoginPIN     = ivr.Prompt{File: "cc-login-pin", Text: "Please enter your PIN, then the hash key."}
	promptLoginOK      = ivr.Prompt{File: "cc-login-ok", Text: "You are logged in."}
	promptLoginFailed  = ivr.Prompt{File: "cc-login-failed", Text: "Login failed."}
	promptUnknownAgent = ivr.Prompt{File: "cc-unknown-agent", Text: "That work number is not known."}
	promptWrongPIN     = ivr.Prompt{File: "cc-wrong-pin", Text: "That PIN is not correct."}
	promptLogoutOK     = ivr.Prompt{File: "cc-logout-ok", Text: "You are logged out."}
	promptStateOK      = ivr.Prompt{File: "cc-state-ok", Text: "Your state is changed."}
	promptNotAgent     = ivr.Prompt{File: "cc-not-agent", Text: "No agent is logged in on this phone."}
	promptNotAllowed   = ivr.Prompt{File: "cc-not-allowed", Text: "This phone may not use that service."}
	promptRefused      = ivr.Prompt{File: "cc-refused", Text: "That is not possible now."}
	promptCallback     = ivr.Prompt{File: "cc-callback-confirm", Text: "We will call you back. You keep your place in the queue. Goodbye."}
	promptNoVoicemail  = ivr.Prompt{File: "cc-voicemail-unavailable", Text: "Sorry, voicemail is not available yet. Please call again later."}
	promptGoodbye      = ivr.Prompt{File: "cc-goodbye", Text: "Thank you for calling. Goodbye."}
	promptMonitor      = ivr.Prompt{File: "cc-monitor", Text: "Monitoring. Press 4 to listen, 5 to whisper, 6 to barge in."}
	promptNoService    = ivr.Prompt{File: "cc-no-service", Text: "That agent is not in a call."}
	promptUnavailable  = ivr.Prompt{File: "sorry-youre-having-problems", Text: "Sorry, this service is not available now. Please call again later."}
	promptRecordPrompt = ivr.Prompt{File: "cc-record-prompt", Text: "Record the prompt after the tone, then press the hash key."}
	promptRecorded     = ivr.Prompt{File: "cc-recorded", Text: "The prompt is saved."}
)
