package cc

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/calendar"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
	"callbox/telephony/region"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/dialplan"
)

// The service runs on the call centre's configuration as telephony/ccconf
// compiles it (a Snapshot: immutable, swapped whole by Reconfigure). This
// file reads what the service needs from it.

// AppName is the name the dial plan gives the call centre's numbers.
const AppName = "cc"

// DialPlan returns the numbers the call centre serves, for the switch's
// dial plan (dialplan.Config.Apps): the feature codes and the internal
// numbers of the inbound routes.
func DialPlan(c *ccconf.Snapshot) dialplan.App {
	k := c.Features()
	a := dialplan.App{Name: AppName, Patterns: []string{k.Login, k.Logout, k.Ready, k.Break + "!", k.Busy,
		k.WrapUpDone, k.Monitor + "X.", k.RecordPrompt + "!", k.Voicemail, k.VoicemailBox, k.Deposit + "X."}}
	a.Patterns = append(a.Patterns, c.InternalNumbers()...)
	return a
}

// national is a caller's number as the call centre keeps it: in national
// form (+86 13800138000 is 13800138000, +86 25 ... is 025...), so that
// the blacklist, customer types, agents' screens and facts all see one
// form; a number region cannot read is kept as it came.
func national(n string) string {
	if nat := region.National(n); nat != "" {
		return nat
	}
	return n
}

// target finds where an offered call goes: a trunk's DID, a line, or an
// internal number. lineTrunk names the PBX trunk of an FXO port.
func target(c *ccconf.Snapshot, in callswitch.Incoming, lineTrunk func(string) string) (ccconf.Target, bool) {
	switch in.Kind {
	case callswitch.Dialled:
		return c.Internal(in.To)
	case callswitch.FromLine:
		return c.FromLine(lineTrunk(in.Trunk))
	default:
		return c.FromTrunk(in.Trunk, in.To)
	}
}

// dialOut is what the switch dials for a number the service calls
// itself: an extension as it is, an outside number through route (or any)
// as Options.DialOut makes it.
func (s *Service) dialOut(n, route string) string {
	if s.sw.IsExtension(n) {
		return n
	}
	return s.opts.DialOut(n, route)
}

// language is the language callers hear.
func language(c *ccconf.Snapshot) string {
	if l := c.Config().Settings.Language; l != "" {
		return l
	}
	return ccconf.DefaultLanguage
}

// groupConf returns a group's configuration.
func groupConf(c *ccconf.Snapshot, id int) (ccconf.Group, bool) { return c.Group(id) }

// agentConf returns an agent's configuration.
func agentConf(c *ccconf.Snapshot, id acd.AgentID) (ccconf.Agent, bool) { return c.Agent(string(id)) }

// callbackKey is the key a group's waiting callers press to be called
// back ("" when the group offers no callback).
func callbackKey(g ccconf.Group) string {
	if !g.CallbackOffer {
		return ""
	}
	return g.CallbackKey
}

// surveyFlow is the flow the caller runs after the agent hangs up, ""
// for none.
func surveyFlow(g ccconf.Group) string {
	if !g.Survey {
		return ""
	}
	return g.SurveyFlow
}

// hotline is the caller ID of callbacks: the first caller ID every agent
// may present ("" leaves it to the route).
func hotline(c *ccconf.Snapshot) string {
	for _, id := range c.Config().CallerIDs {
		if id.AllAgents {
			return id.Number
		}
	}
	return ""
}

// customerType finds a customer type by name (or id).
func customerType(c *ccconf.Snapshot, name string) (int, bool) {
	cfg := c.ACD()
	for _, t := range append(slices.Clone(cfg.CustomerTypes), cfg.Default) {
		if t.Name == name || strconv.Itoa(t.ID) == name {
			return t.ID, true
		}
	}
	return 0, false
}

// ringTimeout is how long the switch lets an agent's phone ring: the
// engine times the ring itself; this is its backstop.
func ringTimeout(g ccconf.Group) time.Duration {
	d := time.Duration(g.RingTimeoutS) * time.Second
	if d <= 0 {
		d = acd.DefaultRingTimeout
	}
	return d + 5*time.Second
}

// Codes are the agents' feature codes (ccconf's, defaults filled in).
type Codes = ccconf.FeatureCodes

// parseCode splits a dialled number into the feature code it starts with
// and its argument.
func parseCode(k Codes, number string) (code, arg string, ok bool) {
	for _, c := range []string{k.Login, k.Logout, k.Ready, k.Busy, k.WrapUpDone, k.Voicemail, k.VoicemailBox} {
		if c != "" && number == c {
			return c, "", true
		}
	}
	for _, c := range []string{k.Break, k.Monitor, k.RecordPrompt, k.Deposit} {
		if c != "" && strings.HasPrefix(number, c) {
			return c, strings.TrimSuffix(number[len(c):], "#"), true
		}
	}
	return "", "", false
}

// isCode reports whether number is one of the agents' feature codes.
func isCode(c *ccconf.Snapshot, number string) bool {
	_, _, ok := parseCode(c.Features(), number)
	return ok
}

// calendars are the business calendars in force, for the IVR's time
// branches: an edited calendar counts at once.
type calendars struct{ s *Service }

// Calendar implements ivr.CalendarSource.
func (c calendars) Calendar(name string) (*calendar.Calendar, bool) {
	return c.s.cfg.Load().Calendar(name)
}

var _ ivr.CalendarSource = calendars{}

// The system prompts the service plays (telephony/prompt's system.tsv),
// with the text spoken when the catalogue lacks the file.
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
	promptRecordPrompt = ivr.Prompt{File: "rec/start", Text: "Record after the tone. Press the hash key when you have finished."}
	promptRecorded     = ivr.Prompt{File: "rec/saved", Text: "Your recording has been saved."}
	promptConsent      = ivr.Prompt{File: "rec/notice", Text: "Your call may be recorded."}
)
