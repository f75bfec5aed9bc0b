package ccconf

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/calendar"
	"callbox/telephony/ivr"
	"callbox/telephony/pbxconf"
)

func TestMain(m *testing.M) {
	// Cheap PIN hashes: the cost is argon2's, tested with the real
	// parameters once (TestPINRealCost).
	pinParams.memory, pinParams.passes = 64, 1
	os.Exit(m.Run())
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testPBX(t testing.TB) *pbxconf.Config {
	t.Helper()
	p, err := pbxconf.Parse(readFile(t, "pbx.json"))
	if err != nil {
		t.Fatal(err)
	}
	return &p
}

// example is the testdata document, parsed; it is valid against testPBX.
func example(t testing.TB) Config {
	t.Helper()
	c, err := Parse(readFile(t, "callcentre.json"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestExample: the documented shape parses, validates against its PBX
// configuration, hashes its PIN, and survives Marshal and Parse unchanged.
func TestExample(t *testing.T) {
	c := example(t)
	if err := c.Validate(Context{PBX: testPBX(t)}); err != nil {
		t.Fatalf("example refused:\n%v", err)
	}
	if len(c.Groups) != 3 || len(c.Agents) != 4 || len(c.Flows) != 2 || len(c.InboundRoutes) != 6 {
		t.Fatalf("parsed %d groups, %d agents, %d flows, %d routes", len(c.Groups), len(c.Agents), len(c.Flows), len(c.InboundRoutes))
	}
	// Defaults are filled in and shown.
	g := c.Groups[2]
	if g.Rule != "longest_idle" || g.Enabled == nil || g.IsEnabled() || !g.Records() || g.Join != JoinAlways || g.Leave != LeaveNever {
		t.Fatalf("defaults of group 3: %+v", g)
	}
	if g.Consent != "" || !g.PlaysConsent(true) || g.PlaysConsent(false) {
		t.Fatalf("group 3's consent %q does not follow the box's default", g.Consent)
	}
	if c.Groups[0].CallbackKey != "1" || c.Groups[1].Records() {
		t.Fatalf("callback key %q, recording %v", c.Groups[0].CallbackKey, c.Groups[1].Records())
	}
	if c.Settings.MaxNoAnswer != 3 || c.Settings.NoAnswer != NoAnswerBreak || c.FeatureCodes != DefaultFeatureCodes {
		t.Fatalf("settings %+v, codes %+v", c.Settings, c.FeatureCodes)
	}
	if c.Agents[3].Mode != ModeExtension || c.Blacklist[2].Direction != DirBoth {
		t.Fatal("agent mode or blacklist direction not defaulted")
	}
	if _, err := Marshal(c); err == nil {
		t.Fatal("Marshal wrote a PIN in clear")
	}
	if err := c.HashPINs(); err != nil {
		t.Fatal(err)
	}
	if a := c.Agents[0]; a.PIN != "" || !strings.HasPrefix(a.PINHash, "$argon2id$v=19$") || !a.CheckPIN("4321") || a.CheckPIN("1234") {
		t.Fatalf("PIN not hashed: %+v", a)
	}
	doc, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), `"4321"`) || strings.Contains(string(doc), `"pin":`) {
		t.Fatal("the PIN is in the document")
	}
	back, err := Parse(doc)
	if err != nil {
		t.Fatalf("own output refused: %v\n%s", err, doc)
	}
	again, _ := Marshal(back)
	if string(again) != string(doc) {
		t.Fatalf("round trip differs:\n%s\n---\n%s", doc, again)
	}
	if err := back.Validate(Context{PBX: testPBX(t)}); err != nil {
		t.Fatal(err)
	}
}

// TestDefaultIsValid: a new box's configuration validates, with or without
// a PBX configuration.
func TestDefaultIsValid(t *testing.T) {
	c := Default()
	for _, ctx := range []Context{{}, {PBX: testPBX(t)}} {
		if err := c.Validate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"groups": []`, `"agents": []`, `"pin_tries": 3`, `"login": "*50"`} {
		if !strings.Contains(string(doc), field) {
			t.Errorf("default document lacks %s:\n%s", field, doc)
		}
	}
}

// TestValidateNames: each mistake is refused with the object, the field and
// the reason named, as the issue's example ("group 3: overflow: unknown
// group 9") reads.
func TestValidateNames(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // Error() of the first problem
		code   ReasonCode
		kind   string
		key    string
		field  string
	}{
		{"overflow to an unknown group", func(c *Config) { c.Groups[2].Overflow = Target{Kind: TargetGroup, Group: 9} },
			"ccconf: group 3: overflow.group: unknown group 9", ReasonUnknownGroup, ObjGroup, "3", "group"},
		{"overflow to itself", func(c *Config) { c.Groups[0].Overflow = Target{Kind: TargetGroup, Group: 1} },
			"ccconf: group 1: overflow.group: a group cannot overflow to itself", ReasonOverflowSelf, ObjGroup, "1", "group"},
		{"overflow loop", func(c *Config) { c.Groups[0].Overflow = Target{Kind: TargetGroup, Group: 2} },
			"ccconf: group 1: overflow.group: overflows go round in a loop: 1 -> 2 -> 1", ReasonOverflowLoop, ObjGroup, "1", "group"},
		{"overflow target with two fields", func(c *Config) { c.Groups[0].Overflow.Flow = "main" },
			`ccconf: group 1: overflow.flow: not used by a "voicemail" target`, ReasonTargetUnused, ObjGroup, "1", "flow"},
		{"overflow to an unknown kind", func(c *Config) { c.Groups[0].Overflow = Target{Kind: "agent"} },
			`ccconf: group 1: overflow.kind: "agent" is not one of group, flow, voicemail, hangup`, ReasonNotOneOf, ObjGroup, "1", "kind"},
		{"group id zero", func(c *Config) { c.Groups[2].ID = 0; c.Agents[3].Groups = nil },
			"ccconf: group 0: id: a whole number from 1 to 9999", ReasonID, ObjGroup, "0", "id"},
		{"group id twice", func(c *Config) { c.Groups[2].ID = 2; c.Agents[3].Groups = nil },
			`ccconf: group 2: id: "2" is taken`, ReasonKeyTaken, ObjGroup, "2", "id"},
		{"unknown rule", func(c *Config) { c.Groups[1].Rule = "fastest" },
			`ccconf: group 2: rule: "fastest" is not one of longest_idle, agent_level, last_agent, round_robin, fewest_calls, least_talk_time, ring_all, linear, random, ring_progressive`,
			ReasonNotOneOf, ObjGroup, "2", "rule"},
		{"unknown consent", func(c *Config) { c.Groups[1].Consent = "ask" },
			`ccconf: group 2: consent: "ask" is not one of default, on, off`, ReasonNotOneOf, ObjGroup, "2", "consent"},
		{"ring timeout too short", func(c *Config) { c.Groups[0].RingTimeoutS = 2 },
			"ccconf: group 1: ring_timeout_s: 0 (the default) or from 5 to 300", ReasonRangeOrZero, ObjGroup, "1", "ring_timeout_s"},
		{"relax out of order", func(c *Config) { c.Groups[1].Relax[1].AfterS = 30 },
			"ccconf: group 2: relax[1].after_s: steps in ascending order of after_s", ReasonRelaxOrder, ObjGroup, "2", "after_s"},
		{"survey without its flow", func(c *Config) { c.Groups[0].SurveyFlow = "" },
			"ccconf: group 1: survey_flow: the survey needs its flow (survey_flow)", ReasonSurveyFlow, ObjGroup, "1", "survey_flow"},
		{"survey flow unknown", func(c *Config) { c.Groups[0].SurveyFlow = "poll" },
			`ccconf: group 1: survey_flow: unknown IVR flow "poll"`, ReasonUnknownFlow, ObjGroup, "1", "survey_flow"},
		{"announcements without interval", func(c *Config) { c.Groups[0].AnnounceEveryS = 0 },
			"ccconf: group 1: announce_every_s: announcements need an interval (announce_every_s)", ReasonAnnounceEvery, ObjGroup, "1", "announce_every_s"},
		{"callback key", func(c *Config) { c.Groups[0].CallbackKey = "12" },
			"ccconf: group 1: callback_key: one key: 0-9, * or #", ReasonKey, ObjGroup, "1", "callback_key"},
		{"group name too long", func(c *Config) { c.Groups[0].Name = strings.Repeat("名", 65) },
			"ccconf: group 1: name: at most 64 characters, no control characters", ReasonTextFormat, ObjGroup, "1", "name"},
		{"agent in an unknown group", func(c *Config) { c.Agents[0].Groups[1].Group = 7 },
			"ccconf: agent 1088: groups[1].group: unknown group 7", ReasonUnknownGroup, ObjAgent, "1088", "group"},
		{"agent in a group twice", func(c *Config) { c.Agents[0].Groups[1].Group = 1 },
			`ccconf: agent 1088: groups[1].group: 1 listed twice`, ReasonTwice, ObjAgent, "1088", "group"},
		{"work number with letters", func(c *Config) { c.Agents[1].ID = "A12"; c.CallerIDs[1].Agents = nil; c.CallerIDs[1].AllAgents = true },
			`ccconf: agent "A12": id: the work number: 1 to 8 digits`, ReasonAgentID, ObjAgent, "A12", "id"},
		{"work number twice", func(c *Config) { c.Agents[1].ID = "1088" },
			`ccconf: agent 1088: id: "1088" is taken`, ReasonKeyTaken, ObjAgent, "1088", "id"},
		{"short PIN", func(c *Config) { c.Agents[0].PIN = "12" },
			"ccconf: agent 1088: pin: 4 to 8 digits", ReasonPIN, ObjAgent, "1088", "pin"},
		{"PIN and hash", func(c *Config) { c.Agents[0].PINHash = "$argon2id$x" },
			"ccconf: agent 1088: pin: give pin or pin_hash, not both", ReasonPINBoth, ObjAgent, "1088", "pin"},
		{"bad PIN hash", func(c *Config) { c.Agents[1].PINHash = "$2a$10$abc" },
			"ccconf: agent 1089: pin_hash: not a PIN hash this box made (argon2id); give the pin itself", ReasonPINHash, ObjAgent, "1089", "pin_hash"},
		{"device not an extension", func(c *Config) { c.Agents[0].Device = "209" },
			`ccconf: agent 1088: device: "209" is not an extension`, ReasonNotExtension, ObjAgent, "1088", "device"},
		{"softphone on an analog port", func(c *Config) { c.Agents[1].Device = "202" },
			`ccconf: agent 1089: device: "202" is not a SIP extension`, ReasonNotSIPExtension, ObjAgent, "1089", "device"},
		{"outside without a number", func(c *Config) { c.Agents[2].Device = "" },
			"ccconf: agent 1099: device: an agent reached on an outside number needs that number", ReasonDeviceOutside, ObjAgent, "1099", "device"},
		{"outside through an unknown route", func(c *Config) { c.Agents[2].Route = "intl" },
			`ccconf: agent 1099: route: "intl" is not an outbound route`, ReasonUnknownRoute, ObjAgent, "1099", "route"},
		{"route for an extension agent", func(c *Config) { c.Agents[0].Route = "mobile" },
			"ccconf: agent 1088: route: only an agent reached on an outside number has a route", ReasonRouteOutside, ObjAgent, "1088", "route"},
		{"unknown mode", func(c *Config) { c.Agents[0].Mode = "pager" },
			`ccconf: agent 1088: mode: "pager" is not one of extension, softphone, outside`, ReasonNotOneOf, ObjAgent, "1088", "mode"},
		{"type in an unknown group", func(c *Config) { c.CustomerTypes[0].Groups = []int{2, 5} },
			"ccconf: customer type 1: groups[1]: unknown group 5", ReasonUnknownGroup, ObjCustomerType, "1", "groups"},
		{"two default types", func(c *Config) {
			c.CustomerTypes = append(c.CustomerTypes, CustomerType{ID: 3, Name: "x", Groups: []int{}, Default: true})
		},
			"ccconf: customer type 3: default: customer type 2 is already the default", ReasonDefaultTwice, ObjCustomerType, "3", "default"},
		{"default type that matches", func(c *Config) { c.CustomerTypes[1].Numbers = []string{"110"} },
			"ccconf: customer type 2: default: the default type serves callers no other type matches: leave numbers, prefixes, categories and regions empty",
			ReasonDefaultMatches, ObjCustomerType, "2", "default"},
		{"unknown region", func(c *Config) { c.CustomerTypes[0].Regions[1] = "0200" },
			`ccconf: customer type 1: regions[1]: "0200" is not a mainland area code`, ReasonRegion, ObjCustomerType, "1", "regions"},
		{"bad prefix", func(c *Config) { c.CustomerTypes[0].Prefixes[0] = "05x" },
			"ccconf: customer type 1: prefixes[0]: 1 to 16 digits, optionally after '+'", ReasonPrefix, ObjCustomerType, "1", "prefixes"},
		{"blacklist number too long", func(c *Config) { c.Blacklist[0].Number = "123456789012345678901" },
			`ccconf: blacklist entry "123456789012345678901": number: up to 20 digits, '*' or '#', optionally after '+'`, ReasonBlacklistNumber, ObjBlacklist, "123456789012345678901", "number"},
		{"blacklist twice in two forms", func(c *Config) { c.Blacklist[1].Number = "+8613000000000" },
			`ccconf: blacklist entry "+8613000000000": number: +8613000000000 listed twice`, ReasonTwice, ObjBlacklist, "+8613000000000", "number"},
		{"blacklist note too long", func(c *Config) { c.Blacklist[0].Note = strings.Repeat("骚", 51) },
			`ccconf: blacklist entry "13000000000": note: at most 50 characters, no control characters`, ReasonTextFormat, ObjBlacklist, "13000000000", "note"},
		{"blacklist direction", func(c *Config) { c.Blacklist[0].Direction = "sideways" },
			`ccconf: blacklist entry "13000000000": direction: "sideways" is not one of in, out, both`, ReasonNotOneOf, ObjBlacklist, "13000000000", "direction"},
		{"route from an FXO line as a trunk", func(c *Config) { c.InboundRoutes[0].Trunk = "pstn1" },
			`ccconf: inbound route "main": trunk: "pstn1" is not a SIP trunk`, ReasonNotSIPTrunk, ObjInboundRoute, "main", "trunk"},
		{"route from a SIP trunk as a line", func(c *Config) { c.InboundRoutes[2].Trunk = "provider" },
			`ccconf: inbound route "pstn": trunk: "provider" is not an FXO line (a trunk of kind fxo)`, ReasonNotFXOTrunk, ObjInboundRoute, "pstn", "trunk"},
		{"route to an unknown flow", func(c *Config) { c.InboundRoutes[0].Target.Flow = "nightly" },
			`ccconf: inbound route "main": target.flow: unknown IVR flow "nightly"`, ReasonUnknownFlow, ObjInboundRoute, "main", "flow"},
		{"route to an unknown extension", func(c *Config) { c.InboundRoutes[5].Target.Extension = "299" },
			`ccconf: inbound route "front-desk": target.extension: "299" is not an extension`, ReasonNotExtension, ObjInboundRoute, "front-desk", "extension"},
		{"fax route with a flow", func(c *Config) {
			c.InboundRoutes[len(c.InboundRoutes)-1].Target = Target{Kind: TargetFax, Flow: "main"}
		},
			`ccconf: inbound route "front-desk": target.flow: not used by a "fax" target`, ReasonTargetUnused, ObjInboundRoute, "front-desk", "flow"},
		{"route to a room without its number", func(c *Config) { c.InboundRoutes[5].Target = Target{Kind: TargetRoom} },
			`ccconf: inbound route "front-desk": target.room: required`, ReasonRequired, ObjInboundRoute, "front-desk", "room"},
		{"route to a room by a name", func(c *Config) { c.InboundRoutes[5].Target = Target{Kind: TargetRoom, Room: "daily"} },
			`ccconf: inbound route "front-desk": target.room: "daily" is not a conference room's number`, ReasonUnknownRoom, ObjInboundRoute, "front-desk", "room"},
		{"room route with an extension", func(c *Config) { c.InboundRoutes[5].Target.Kind = TargetRoom },
			`ccconf: inbound route "front-desk": target.extension: not used by a "room" target`, ReasonTargetUnused, ObjInboundRoute, "front-desk", "extension"},
		{"overflow to a room", func(c *Config) { c.Groups[0].Overflow = Target{Kind: TargetRoom, Room: "7001"} },
			`ccconf: group 1: overflow.kind: "room" is not one of group, flow, voicemail, hangup`, ReasonNotOneOf, ObjGroup, "1", "kind"},
		{"overflow to the fax receiver", func(c *Config) { c.Groups[0].Overflow = Target{Kind: TargetFax} },
			`ccconf: group 1: overflow.kind: "fax" is not one of group, flow, voicemail, hangup`, ReasonNotOneOf, ObjGroup, "1", "kind"},
		{"same DID twice", func(c *Config) { c.InboundRoutes[1].DID = "+862155550100" },
			`ccconf: inbound route "provider-other": did: inbound route "main" already takes these calls`, ReasonSourceTaken, ObjInboundRoute, "provider-other", "did"},
		{"internal number is an extension", func(c *Config) { c.InboundRoutes[3].Number = "201" },
			`ccconf: inbound route "ivr": number: is an extension: choose a number no phone has`, ReasonInternalExt, ObjInboundRoute, "ivr", "number"},
		{"internal number is an emergency number", func(c *Config) { c.InboundRoutes[3].Number = "110" },
			`ccconf: inbound route "ivr": number: is an emergency number`, ReasonEmergency, ObjInboundRoute, "ivr", "number"},
		{"route name", func(c *Config) { c.InboundRoutes[0].Name = "Main Line" },
			`ccconf: inbound route "Main Line": name: 1 to 32 of a-z, 0-9, '-' and '_', starting with a letter or digit`, ReasonName, ObjInboundRoute, "Main Line", "name"},
		{"calendar hours", func(c *Config) { c.Calendars[0].Hours["mon-fri"] = "18:00-09:00" },
			`ccconf: calendar "main": hours.mon-fri: time range "18:00-09:00" ends before it starts (split ranges that cross midnight)`,
			"calendar.range.order", ObjCalendar, "main", "mon-fri"},
		{"calendar a flow names is gone", func(c *Config) { c.Calendars[0].Name = "office" },
			`ccconf: flow "main": nodes.hours.calendar: unknown calendar "main"`, ReasonUnknownCalendar, ObjFlow, "main", "calendar"},
		{"flow queues to an unknown group", func(c *Config) { c.Flows[0].Node("sales").Spec.(*ivr.Queue).Group = 4 },
			`ccconf: flow "main": nodes.sales.group: unknown group 4`, ReasonUnknownGroup, ObjFlow, "main", "group"},
		{"binding address", func(c *Config) { c.Bindings[0].PC = "pc-23" },
			`ccconf: binding "pc-23": pc: the IP address of the agent's PC`, ReasonPCAddress, ObjBinding, "pc-23", "pc"},
		{"binding extension twice", func(c *Config) { c.Bindings[1].Extension = "201" },
			`ccconf: binding "192.168.1.24": extension: "201" is taken`, ReasonKeyTaken, ObjBinding, "192.168.1.24", "extension"},
		{"caller ID for nobody", func(c *Config) { c.CallerIDs[1].Agents = nil },
			`ccconf: caller ID "02155550199": agents: list the agents who may use it, or set all_agents`, ReasonCallerIDNobody, ObjCallerID, "02155550199", "agents"},
		{"caller ID for an unknown agent", func(c *Config) { c.CallerIDs[1].Agents[1] = "7777" },
			`ccconf: caller ID "02155550199": agents[1]: unknown agent "7777"`, ReasonUnknownAgent, ObjCallerID, "02155550199", "agents"},
		{"caller ID for all and some", func(c *Config) { c.CallerIDs[1].AllAgents = true },
			`ccconf: caller ID "02155550199": agents: all_agents and a list of agents exclude each other`, ReasonCallerIDBoth, ObjCallerID, "02155550199", "agents"},
		{"feature code format", func(c *Config) { c.FeatureCodes.Login = "50" },
			"ccconf: feature codes: login: '*' or '#' followed by 1 to 4 digits", ReasonFeatureCode, ObjFeatureCodes, "", "login"},
		{"feature code the start of another", func(c *Config) { c.FeatureCodes.Busy = "*5" },
			"ccconf: feature codes: busy: *5 clashes with *50 (login): one is the start of the other", ReasonCodeClash, ObjFeatureCodes, "", "busy"},
		{"feature code the PBX's", func(c *Config) { c.FeatureCodes.Monitor = "*72" },
			"ccconf: feature codes: monitor: *72 clashes with *72 (the PBX): one is the start of the other", ReasonCodeClash, ObjFeatureCodes, "", "monitor"},
		{"settings language", func(c *Config) { c.Settings.Language = "fr" },
			`ccconf: settings: language: "fr" is not one of zh-CN, en`, ReasonNotOneOf, ObjSettings, "", "language"},
		{"settings tries", func(c *Config) { c.Settings.PINTries = 99 },
			"ccconf: settings: pin_tries: from 1 to 10", ReasonRange, ObjSettings, "", "pin_tries"},
	}
	pbx := testPBX(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := example(t)
			tt.change(&c)
			err := c.Validate(Context{PBX: pbx})
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("accepted: %v", err)
			}
			if fe.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s\n(all: %v)", fe.Error(), tt.want, err)
			}
			if fe.Code != tt.code || fe.Kind != tt.kind || fe.Key != tt.key || fe.JSONField() != tt.field {
				t.Errorf("code %q kind %q key %q field %q, want %q %q %q %q", fe.Code, fe.Kind, fe.Key, fe.JSONField(), tt.code, tt.kind, tt.key, tt.field)
			}
			if code, args := fe.ReasonCode(); ReasonText(ReasonCode(code), args...) != fe.Reason {
				t.Errorf("ReasonText(%q, %v) = %q, Reason %q", code, args, ReasonText(ReasonCode(code), args...), fe.Reason)
			}
		})
	}
}

// A fax DID or line routes to the fax receiver: the target "fax" takes no
// other field.
func TestFaxRouteIsValid(t *testing.T) {
	c := example(t)
	for i, r := range c.InboundRoutes {
		if r.Name == "pstn" {
			c.InboundRoutes[i].Target = Target{Kind: TargetFax}
		}
	}
	if err := c.Validate(Context{PBX: testPBX(t)}); err != nil {
		t.Fatal(err)
	}
}

// A route's room target: a room's number is enough without the rooms to
// ask; with them, the room must be there.
func TestRoomRouteIsValid(t *testing.T) {
	c := example(t)
	c.InboundRoutes[5].Target = Target{Kind: TargetRoom, Room: "7001"}
	if err := c.Validate(Context{PBX: testPBX(t)}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(Context{PBX: testPBX(t), Rooms: func(n string) bool { return n == "7001" }}); err != nil {
		t.Fatal(err)
	}
	var fe *FieldError
	if err := c.Validate(Context{PBX: testPBX(t), Rooms: func(string) bool { return false }}); !errors.As(err, &fe) || fe.Code != ReasonUnknownRoom {
		t.Fatalf("a route to a room that is not there: %v", err)
	}
}

// TestValidateCollectsEverything: every problem is reported at once, each
// naming its own object.
func TestValidateCollectsEverything(t *testing.T) {
	c := example(t)
	c.Groups[0].RingTimeoutS = 1
	c.Agents[1].Device = "999"
	c.Blacklist[0].Direction = "up"
	c.Bindings[0].PC = "x"
	c.Settings.Language = "de"
	err := c.Validate(Context{PBX: testPBX(t)})
	var objects []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		objects = append(objects, e.(*FieldError).Object)
	}
	want := []string{"settings", "group 1", "agent 1089", `blacklist entry "13000000000"`, `binding "x"`}
	if !reflect.DeepEqual(objects, want) {
		t.Fatalf("objects %q, want %q:\n%v", objects, want, err)
	}
}

// TestValidateWithoutPBX: without the PBX configuration, references into it
// are only checked for their form.
func TestValidateWithoutPBX(t *testing.T) {
	c := example(t)
	c.Agents[0].Device = "209"
	c.InboundRoutes[0].Trunk = "elsewhere"
	if err := c.Validate(Context{}); err != nil {
		t.Fatalf("without a PBX configuration: %v", err)
	}
	c.Agents[0].Device = "x9"
	if err := c.Validate(Context{}); err == nil || !strings.Contains(err.Error(), `agent 1088: device: "x9" is not an extension`) {
		t.Fatalf("a device that cannot be an extension: %v", err)
	}
}

// storedFlows is an ivr.FlowSource with some flows.
type storedFlows map[string]*ivr.Flow

func (s storedFlows) Flow(id string, version int) (*ivr.Flow, error) {
	if f, ok := s[id]; ok {
		return f, nil
	}
	return nil, ivr.ErrNoFlow
}

// TestFlowsFromTheStore: a reference to a flow the document does not carry
// is fine when the store has it.
func TestFlowsFromTheStore(t *testing.T) {
	c := example(t)
	survey := c.Flows[1]
	c.Flows = c.Flows[:1]
	if err := c.Validate(Context{PBX: testPBX(t)}); err == nil || !strings.Contains(err.Error(), `unknown IVR flow "survey"`) {
		t.Fatalf("survey flow in neither: %v", err)
	}
	if err := c.Validate(Context{PBX: testPBX(t), Flows: storedFlows{"survey": survey}}); err != nil {
		t.Fatalf("survey flow stored: %v", err)
	}
}

// promptSet is a prompt catalogue holding the names given.
type promptSet map[string]bool

func (p promptSet) HasPrompt(name string) bool { return p[name] }

// TestPromptsInTheCatalogue: a group's periodic prompt, music and overflow
// message must be in the prompt catalogue when there is one to ask, as
// the flows' prompts must.
func TestPromptsInTheCatalogue(t *testing.T) {
	c := example(t)
	c.Groups[1].MOH = "music/jazz"
	c.Groups[1].Overflow = Target{Kind: TargetHangup, Message: "sorry-closed"}
	if err := c.Validate(Context{PBX: testPBX(t)}); err != nil {
		t.Fatalf("without a catalogue: %v", err)
	}
	err := c.Validate(Context{PBX: testPBX(t), Prompts: promptSet{"music/jazz": true}})
	var fe *FieldError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), `prompt: prompt "queue-thanks" is not in the prompt catalogue`) ||
		!strings.Contains(err.Error(), `overflow.message: prompt "sorry-closed" is not in the prompt catalogue`) {
		t.Fatalf("missing prompts: %v", err)
	}
	if code, _ := fe.ReasonCode(); code != string(ReasonUnknownPrompt) {
		t.Fatalf("reason %q", code)
	}
	err = c.Validate(Context{PBX: testPBX(t), Prompts: promptSet{"music/jazz": true, "queue-thanks": true, "sorry-closed": true}})
	if err != nil && strings.Contains(err.Error(), "prompt catalogue") {
		t.Fatalf("prompts in the catalogue refused: %v", err)
	}
}

// TestParseStrict: unknown fields, wrong types, trailing data, an unknown
// version and broken flows are refused with the field named.
func TestParseStrict(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"version": 1, "groups": [{"id": 1, "name": "x", "colour": "red"}]}`, `ccconf: call-centre configuration: colour: unknown field`},
		{`{"version": 1, "groups": [{"id": "one"}]}`, `ccconf: call-centre configuration: groups.id: want a whole number, not a JSON string`},
		{`{"version": 1, "Groups": []}`, `ccconf: call-centre configuration: Groups: unknown field (field names are lower-case)`},
		{`{"version": 1} {}`, `ccconf: call-centre configuration: trailing data after the JSON value`},
		{`{"version": 2}`, `ccconf: call-centre configuration: version: 2 is not supported (this firmware reads version 1)`},
		{`{"version": 1, "flows": {}}`, `ccconf: call-centre configuration: flows: want a list, not a JSON value`},
		{`{"version": 1, "flows": [{"id": "f", "nodes": [{"id": "a", "type": "dance"}]}]}`, `ccconf: flow "f": ivr: invalid flow:` + "\n" + `node "a": unknown node type "dance"`},
		{`[1, 2]`, `ccconf: call-centre configuration: want an object, not a JSON array`},
		{`{"version": 1,`, `ccconf: call-centre configuration: empty or truncated JSON`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.doc))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s:\n got %v\nwant %s", tt.doc, err, tt.want)
		}
	}
	if _, err := Parse([]byte(`{"version": 2}`)); !errors.Is(err, ErrVersion) {
		t.Errorf("version error is not ErrVersion: %v", err)
	}
	// A flow's own keys are the IVR's: its variables need not be lower-case.
	doc := `{"version": 1, "flows": [{"id": "f", "entry": "h", "nodes": [
		{"id": "h", "type": "http", "url": "http://crm.example/x", "body": {"Token": "t"}, "results": {"CustomerName": "name"}, "next": "b"},
		{"id": "b", "type": "hangup"}]}]}`
	if _, err := Parse([]byte(doc)); err != nil {
		t.Fatalf("flow with capitalised keys: %v", err)
	}
}

// TestACD: the engine's configuration carries every setting across, turns
// regions into prefixes in the forms callers present, and the engine
// accepts it.
func TestACD(t *testing.T) {
	c := example(t)
	a := c.ACD()
	g := a.Groups[0]
	if g.ID != 1 || g.Rule != acd.LongestIdle || !g.Enabled || g.RingTimeout != 15*time.Second || g.WrapUp != 10*time.Second ||
		g.MaxWait != 5*time.Minute || g.Overflow != (acd.Target{Kind: acd.TargetVoicemail, Mailbox: "201"}) || g.MaxQueue != 20 ||
		g.Join != acd.EmptyNoLoggedIn || g.Leave != acd.EmptyAllow || g.Prompt != "queue-thanks" || g.PromptEvery != 30*time.Second ||
		g.AnnounceEvery != time.Minute || g.SLThreshold != 15*time.Second || g.NoCallback {
		t.Fatalf("group 1: %+v", g)
	}
	if g := a.Groups[1]; g.Rule != acd.AgentLevel || !g.NoCallback || g.Overflow.Kind != acd.TargetGroup || g.MinSkill != 5 ||
		len(g.Relax) != 2 || g.Relax[1] != (acd.RelaxStep{After: time.Minute, MinSkill: 0}) {
		t.Fatalf("group 2: %+v", g)
	}
	if a.Groups[2].Enabled {
		t.Fatal("group 3 enabled")
	}
	if ag := a.Agents[1]; ag.Mode != acd.ModeSoftphone || ag.Device != "301" || !ag.AutoAnswer || ag.WrapUp != 30*time.Second {
		t.Fatalf("agent 1089: %+v", ag)
	}
	if ag := a.Agents[2]; ag.Mode != acd.ModeOutside || ag.MaxNoAnswer != 2 {
		t.Fatalf("agent 1099: %+v", ag)
	}
	vip := a.CustomerTypes[0]
	if len(a.CustomerTypes) != 1 || a.Default.ID != 2 || a.Default.Name != "普通" {
		t.Fatalf("types %+v default %+v", a.CustomerTypes, a.Default)
	}
	for _, p := range []string{"0512", "025", "+8625", "008625", "010", "+8610"} {
		if !slices.Contains(vip.Prefixes, p) {
			t.Errorf("prefix %s missing from %q", p, vip.Prefixes)
		}
	}
	if !slices.Contains(vip.Numbers, "13700137000") || !slices.Contains(vip.Numbers, "+8613700137000") {
		t.Errorf("numbers %q", vip.Numbers)
	}
	if !slices.Contains(a.Blacklist, "13000000000") || !slices.Contains(a.Blacklist, "02166666666") ||
		slices.Contains(a.Blacklist, "13100000000") {
		t.Errorf("inbound blacklist %q", a.Blacklist)
	}
	if a.SLThreshold != 20*time.Second || a.MaxNoAnswer != 3 || a.NoAnswer != acd.NoAnswerBreak {
		t.Errorf("settings %+v", a)
	}
	e, err := acd.New(a, acd.Options{Clock: acd.NewVirtualClock(time.Now()), Actions: nopActions{}})
	if err != nil {
		t.Fatalf("the engine refuses the configuration: %v", err)
	}
	// A Nanjing caller presented with +86 is a VIP, queued for group 2 first.
	if ct, blocked := e.Classify("+862583201234", ""); ct.ID != 1 || blocked {
		t.Fatalf("Nanjing caller classified %+v %v", ct, blocked)
	}
	if _, blocked := e.Classify("13000000000", ""); !blocked {
		t.Fatal("blacklisted caller not blocked")
	}
	// Without a default type every group serves the unclassified.
	c.CustomerTypes = c.CustomerTypes[:1]
	if d := c.ACD().Default; d.ID != 0 || len(d.Groups) != 0 {
		t.Fatalf("implicit default %+v", d)
	}
}

type nopActions struct{}

func (nopActions) Ring(acd.RingRequest)                     {}
func (nopActions) StopRing(acd.AgentID, acd.CallID)         {}
func (nopActions) Connect(acd.CallID, acd.AgentID)          {}
func (nopActions) Play(acd.CallID, string)                  {}
func (nopActions) Announce(acd.CallID, int, time.Duration)  {}
func (nopActions) Route(acd.CallID, acd.Target)             {}
func (nopActions) CallBack(acd.CallID, string, acd.AgentID) {}
func (nopActions) Notify(acd.Notice)                        {}

// TestSnapshot: the compiled configuration routes inbound calls, finds
// calendars for the IVR, and answers the service's questions.
func TestSnapshot(t *testing.T) {
	s := example(t).Compile()
	for _, tt := range []struct {
		got  func() (Target, bool)
		want Target
		ok   bool
	}{
		{func() (Target, bool) { return s.FromTrunk("provider", "02155550100") }, Target{Kind: TargetFlow, Flow: "main"}, true},
		{func() (Target, bool) { return s.FromTrunk("provider", "+862155550100") }, Target{Kind: TargetFlow, Flow: "main"}, true},
		{func() (Target, bool) { return s.FromTrunk("provider", "02155550111") }, Target{Kind: TargetGroup, Group: 1}, true},
		{func() (Target, bool) { return s.FromTrunk("other", "02155550100") }, Target{}, false},
		{func() (Target, bool) { return s.FromLine("pstn1") }, Target{Kind: TargetFlow, Flow: "main"}, true},
		{func() (Target, bool) { return s.FromLine("pstn2") }, Target{}, false},
		{func() (Target, bool) { return s.Internal("8001") }, Target{Kind: TargetGroup, Group: 2}, true},
		{func() (Target, bool) { return s.Internal("8002") }, Target{}, false},
	} {
		got, ok := tt.got()
		if got != tt.want || ok != tt.ok {
			t.Errorf("got %+v %v, want %+v %v", got, ok, tt.want, tt.ok)
		}
	}
	if n := s.InternalNumbers(); !reflect.DeepEqual(n, []string{"8000", "8001", "8009"}) {
		t.Errorf("internal numbers %q", n)
	}
	if !s.BlockedIn("+86 130 0000 0000") || s.BlockedOut("13000000000") || !s.BlockedOut("13100000000") ||
		s.BlockedIn("13100000000") || !s.BlockedIn("021-66666666") || !s.BlockedOut("02166666666") {
		t.Error("blacklist directions")
	}
	cal, ok := s.Calendar("main")
	if !ok || cal.State(time.Date(2026, 10, 2, 10, 0, 0, 0, time.UTC)) != calendar.Holiday {
		t.Fatalf("calendar %v %v", cal, ok)
	}
	if _, ok := s.Calendar("other"); ok {
		t.Error("unknown calendar found")
	}
	var _ ivr.CalendarSource = s
	if ext, ok := s.Binding("192.168.1.24"); !ok || ext != "202" {
		t.Errorf("binding %q %v", ext, ok)
	}
	if ids := s.CallerIDs("1089"); len(ids) != 1 || ids[0].Number != "02155550100" {
		t.Errorf("1089's caller IDs %+v", ids)
	}
	if !s.MayPresent("1099", "02155550199") || s.MayPresent("1089", "02155550199") {
		t.Error("MayPresent")
	}
	if g, ok := s.Group(2); !ok || g.Name != "VIP" || g.Records() {
		t.Errorf("group 2 %+v", g)
	}
	if a, ok := s.Agent("1088"); !ok || a.Name != "李明" {
		t.Errorf("agent %+v", a)
	}
	if _, ok := s.Agent("1"); ok {
		t.Error("unknown agent found")
	}
	if s.Features().Monitor != "*56" || s.ACD().Groups[0].ID != 1 || s.Config().Version != 1 {
		t.Error("features, acd, config")
	}
}

// TestPINs: a PIN is hashed, checked, kept across edits that do not mention
// it, and the hash is in the PHC form the web passwords use.
func TestPINs(t *testing.T) {
	c := example(t)
	if err := c.HashPINs(); err != nil {
		t.Fatal(err)
	}
	hash := c.Agents[0].PINHash
	next := example(t)
	next.Agents[0].PIN = ""
	next.KeepPINs(&c)
	if next.Agents[0].PINHash != hash {
		t.Fatal("an import without the PIN lost it")
	}
	next.Agents[0].PIN = "98765"
	next.Agents[0].PINHash = ""
	next.KeepPINs(&c)
	if next.Agents[0].PINHash != "" {
		t.Fatal("a new PIN was overridden by the old hash")
	}
	for _, a := range []Agent{{}, {PINHash: hash}, {PINHash: "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"}} {
		if a.CheckPIN("4321") && a.PINHash != hash {
			t.Errorf("%+v accepts 4321", a)
		}
	}
	if !(&Agent{PINHash: hash}).CheckPIN("4321") || (&Agent{PINHash: hash}).CheckPIN("432") {
		t.Error("CheckPIN")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=64,t=1,p=1$AAAA$AAAA", "$argon2i$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=064,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "$argon2id$v=19$m=999999999,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"} {
		if pinHashOK(bad) {
			t.Errorf("hash %q accepted", bad)
		}
	}
}

// TestPINRealCost: a hash with the shipped parameters is argon2id with 19
// MiB and 2 passes, and verifies.
func TestPINRealCost(t *testing.T) {
	saved := pinParams
	defer func() { pinParams = saved }()
	pinParams.memory, pinParams.passes = 19*1024, 2
	h, err := HashPIN("24680")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || !(&Agent{PINHash: h}).CheckPIN("24680") {
		t.Fatalf("hash %s", h)
	}
}

// TestObjects: the API's edits of one object: create, read, replace,
// delete, with keys taken, immutable and missing refused.
func TestObjects(t *testing.T) {
	c := example(t)
	if err := c.HashPINs(); err != nil {
		t.Fatal(err)
	}
	list, err := c.List(KindGroups)
	if err != nil || len(list) != 3 {
		t.Fatalf("list %v %v", list, err)
	}
	path, key, err := c.Put(KindGroups, "", []byte(`{"id": 4, "name": "Support"}`))
	if err != nil || path != "groups[3]" || key != "4" {
		t.Fatalf("create: %q %q %v", path, key, err)
	}
	g, _ := c.Get(KindGroups, "4")
	var got map[string]any
	json.Unmarshal(g, &got)
	if got["enabled"] != true || got["recording"] != true || got["rule"] != "longest_idle" {
		t.Fatalf("created group %s", g)
	}
	if _, _, err := c.Put(KindGroups, "", []byte(`{"id": 4, "name": "Again"}`)); !errors.Is(err, ErrTaken) {
		t.Fatalf("create with a taken key: %v", err)
	}
	var fe *FieldError
	if _, _, err := c.Put(KindGroups, "4", []byte(`{"id": 5, "name": "Moved"}`)); !errors.As(err, &fe) || fe.Code != ReasonKeyImmutable || fe.Field != "id" {
		t.Fatalf("update changing the key: %v", err)
	}
	if _, _, err := c.Put(KindGroups, "4", []byte(`{"id": 4, "name": "Support", "colour": 1}`)); !errors.As(err, &fe) ||
		fe.Error() != "ccconf: group: colour: unknown field" {
		t.Fatalf("update with an unknown field: %v", err)
	}
	if _, _, err := c.Put(KindGroups, "9", []byte(`{"id": 9}`)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a missing group: %v", err)
	}
	if _, _, err := c.Put("queues", "", []byte(`{}`)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown kind: %v", err)
	}
	// An agent updated without pin keeps its PIN; with one, gets it.
	hash := c.Agents[0].PINHash
	if _, _, err := c.Put(KindAgents, "1088", []byte(`{"name": "李明", "groups": [{"group": 1, "skill": 5}]}`)); err != nil {
		t.Fatal(err)
	}
	if c.Agents[0].PINHash != hash || c.Agents[0].Mode != ModeExtension {
		t.Fatalf("agent after update %+v", c.Agents[0])
	}
	if _, _, err := c.Put(KindAgents, "1088", []byte(`{"id": "1088", "name": "李明", "pin": "5555"}`)); err != nil || c.Agents[0].PIN != "5555" || c.Agents[0].PINHash != "" {
		t.Fatalf("agent with a new pin %+v %v", c.Agents[0], err)
	}
	// A group updated without its id takes the URL's.
	if _, key, err := c.Put(KindGroups, "4", []byte(`{"name": "Support desk"}`)); err != nil || key != "4" || c.Groups[3].Name != "Support desk" {
		t.Fatalf("update without the key: %q %v", key, err)
	}
	// Deleting what others use leaves a configuration that names them.
	if err := c.Delete(KindGroups, "2"); err != nil {
		t.Fatal(err)
	}
	err = c.Validate(Context{PBX: testPBX(t)})
	if err == nil || !strings.Contains(err.Error(), "ccconf: customer type 1: groups[0]: unknown group 2") {
		t.Fatalf("after deleting group 2: %v", err)
	}
	if err := c.Delete(KindGroups, "2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	for _, k := range Kinds() {
		if _, err := c.List(k); err != nil || KeyField(k) == "" {
			t.Errorf("kind %s: %v, key %q", k, err, KeyField(k))
		}
	}
	if _, err := c.Get(KindCalendars, "main"); err != nil {
		t.Error(err)
	}
	if _, err := c.Get(KindCalendars, "night"); !errors.Is(err, ErrNotFound) {
		t.Error(err)
	}
}

// FuzzParse: any document parses or is refused with a *FieldError; what
// parses marshals (once PINs are hashed) and parses back the same.
func FuzzParse(f *testing.F) {
	f.Add(readFile(f, "callcentre.json"))
	f.Add([]byte(`{"version": 1}`))
	f.Add([]byte(`{"version": 1, "groups": [{"id": 1, "name": "x", "enabled": null}], "flows": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || strings.Contains(fe.Reason, "%!") {
				t.Fatalf("error %v", err)
			}
			return
		}
		_ = c.Validate(Context{})
		for i := range c.Agents {
			if c.Agents[i].PIN != "" {
				c.Agents[i].PIN, c.Agents[i].PINHash = "", "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"
			}
		}
		doc, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(doc)
		if err != nil {
			t.Fatalf("own output refused: %v\n%s", err, doc)
		}
		again, err := Marshal(back)
		if err != nil || string(again) != string(doc) {
			t.Fatalf("round trip differs: %v\n%s\n---\n%s", err, doc, again)
		}
	})
}

// TestShortAbandonZero: 0 counts every abandon and survives a round trip;
// absent is the default.
func TestShortAbandonZero(t *testing.T) {
	zero, err := Parse([]byte(`{"version": 1, "settings": {"short_abandon_s": 0}}`))
	if err != nil || zero.Settings.ShortAbandon() != 0 {
		t.Fatalf("zero: %v %v", zero.Settings.ShortAbandon(), err)
	}
	doc, _ := Marshal(zero)
	if back, _ := Parse(doc); back.Settings.ShortAbandon() != 0 || !strings.Contains(string(doc), `"short_abandon_s": 0`) {
		t.Fatalf("round trip:\n%s", doc)
	}
	if d := Default(); d.Settings.ShortAbandon() != 5*time.Second || (Settings{}).ShortAbandon() != 5*time.Second {
		t.Fatal("default short abandon")
	}
	c := Default()
	c.Settings.ShortAbandonS = new(int)
	*c.Settings.ShortAbandonS = 61
	if err := c.Validate(Context{}); err == nil || !strings.Contains(err.Error(), "short_abandon_s: from 0 to 60") {
		t.Fatalf("61 s: %v", err)
	}
}

// A group's consent: on and off override the box's default, "" and
// "default" (kept as "") follow it, and a group that does not record
// plays none.
func TestGroupConsent(t *testing.T) {
	no := false
	for _, tc := range []struct {
		consent    string
		recording  *bool
		boxDefault bool
		want       bool
	}{
		{"", nil, false, false}, {"", nil, true, true}, {ConsentDefault, nil, true, true},
		{ConsentOn, nil, false, true}, {ConsentOff, nil, true, false}, {ConsentOn, &no, true, false},
	} {
		c := Config{Version: Version, Groups: []Group{{ID: 1, Name: "g", Consent: tc.consent, Recording: tc.recording}}}
		c.Normalize()
		g := c.Groups[0]
		if got := g.PlaysConsent(tc.boxDefault); got != tc.want || g.Consent == ConsentDefault {
			t.Errorf("consent %q, recording %v, default %v: plays %v (stored %q), want %v", tc.consent, tc.recording, tc.boxDefault, got, g.Consent, tc.want)
		}
	}
}
