package webui

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// The call-centre configuration's choices, as telephony/ccconf has them (a
// test keeps them equal; webui does not import the configuration's
// package).
var (
	groupRules = []string{"longest_idle", "agent_level", "last_agent", "round_robin", "fewest_calls",
		"least_talk_time", "ring_all", "linear", "random", "ring_progressive"}
	joinRules  = []string{"always", "if_logged_in", "if_available"}
	leaveRules = []string{"never", "if_none_logged_in", "if_none_available"}
	agentModes = []string{"extension", "softphone", "outside"}
	// groupConsents: the recording notice before a group's recorded
	// services, "default" following the box's setting.
	groupConsents = []string{"default", "on", "off"}
	targetKinds   = []string{"flow", "group", "extension", "voicemail", "hangup"}
	// routeKinds are an inbound route's targets: a fax DID or line goes
	// to the fax receiver, a room's callers join a conference room.
	routeKinds   = []string{"flow", "group", "extension", "voicemail", "fax", "room"}
	directions   = []string{"in", "out", "both"}
	routeSources = []string{"trunk", "line", "internal"}
)

// Limits of the call-centre configuration the forms show (maxlength).
const (
	ccNameMax          = 64
	ccDescMax          = 200
	ccNoteMax          = 50 // a blacklist entry's note (seed 003)
	ccBlacklistNumMax  = 20 // a blacklisted number (seed 003)
	ccAgentIDMax       = 8
	ccNumberMax        = 32
	ccInternalNumMax   = 8
	ccMaxDigitsKeyOrID = 4
)

// targetFields are a call's destination (a group's overflow, an inbound
// route's target): its kind, and the one field that kind uses.
func targetFields(prefix string, required bool, kinds []string) []formField {
	return []formField{
		{Name: prefix + ".kind", Type: ftSelect, Options: opts(kinds...), Required: required},
		{Name: prefix + ".flow", Type: ftSelect, Dynamic: flowOptions, When: prefix + ".kind=flow"},
		{Name: prefix + ".group", Type: ftSelect, Dynamic: ccKeys(CCGroups, "name"), When: prefix + ".kind=group", Ints: true},
		{Name: prefix + ".extension", Type: ftSelect, Dynamic: pbxKeys(PBXExtensions), When: prefix + ".kind=extension"},
		{Name: prefix + ".mailbox", Max: 16, When: prefix + ".kind=voicemail"},
		{Name: prefix + ".message", Max: 64, When: prefix + ".kind=hangup"},
		{Name: prefix + ".room", Max: 16, When: prefix + ".kind=room"},
	}
}

// ccForms are the pages of the call centre's objects.
var ccForms = []*formKind{
	{
		Kind: CCGroups, Key: "id", Object: "group", Nav: "nav.groups", Intro: "obj.intro.groups",
		Columns: []column{{Field: "id"}, {Field: "name"}, {Field: "priority"}, {Field: "rule"}, {Field: "enabled"},
			{Field: "max_wait_s"}, {Field: "overflow.kind", Label: "label.overflow.kind"}, {Field: "sl_threshold_s"}},
		Fields: append(append([]formField{
			{Name: "id", Type: ftNumber, Required: true, KeyField: true},
			{Name: "name", Required: true, Max: ccNameMax},
			{Name: "priority", Type: ftNumber},
			{Name: "rule", Type: ftSelect, Options: opts(groupRules...), Required: true},
			{Name: "enabled", Type: ftCheck, Default: "true"},
			{Name: "recording", Type: ftCheck, Default: "true"},
			{Name: "consent", Type: ftSelect, Options: opts(groupConsents...), Required: true},
			{Name: "description", Max: ccDescMax},
			{Name: "ring_timeout_s", Type: ftNumber},
			{Name: "wrap_up_s", Type: ftNumber},
			{Name: "min_skill", Type: ftNumber},
			{Name: "max_wait_s", Type: ftNumber},
			{Name: "max_queue", Type: ftNumber},
			{Name: "join", Type: ftSelect, Options: opts(joinRules...)},
			{Name: "leave", Type: ftSelect, Options: opts(leaveRules...)},
		}, targetFields("overflow", false, targetKinds)...), []formField{
			{Name: "moh", Type: ftSelect, Dynamic: mohOptions},
			{Name: "prompt", Max: 64},
			{Name: "prompt_every_s", Type: ftNumber},
			{Name: "announce_position", Type: ftCheck},
			{Name: "announce_wait", Type: ftCheck},
			{Name: "announce_every_s", Type: ftNumber},
			{Name: "announce_agent", Type: ftCheck},
			{Name: "callback_offer", Type: ftCheck},
			{Name: "callback_key", Max: 1},
			{Name: "callback_after_s", Type: ftNumber},
			{Name: "survey", Type: ftCheck},
			{Name: "survey_flow", Type: ftSelect, Dynamic: flowOptions},
			{Name: "sl_threshold_s", Type: ftNumber},
		}...),
	},
	{
		Kind: CCAgents, Key: "id", Object: "agent", Nav: "nav.agents", Intro: "obj.intro.agents",
		Columns: []column{{Field: "id"}, {Field: "name"}, {Field: "level"}, {Field: "mode"}, {Field: "device"},
			{Field: "groups.group", Label: "label.groups"}, {Field: "pin_set"}},
		Fields: []formField{
			{Name: "id", Required: true, Max: ccAgentIDMax, KeyField: true},
			{Name: "name", Required: true, Max: ccNameMax},
			{Name: "level", Type: ftNumber},
			{Name: "pin", Type: ftSecret, Max: 8},
			{Name: "mode", Type: ftSelect, Options: opts(agentModes...), Required: true},
			{Name: "device", Max: ccNumberMax},
			{Name: "route", Type: ftSelect, Dynamic: pbxKeys(PBXRoutes), When: "mode=outside"},
			{Name: "groups", Type: ftMembers, Dynamic: ccKeys(CCGroups, "name"), Also: []string{"group", "skill"}},
			{Name: "auto_answer", Type: ftCheck},
			{Name: "max_no_answer", Type: ftNumber},
			{Name: "wrap_up_s", Type: ftNumber},
		},
	},
	{
		Kind: CCCustomerTypes, Key: "id", Object: "customer_type", Nav: "nav.customer_types", Intro: "obj.intro.customer_types",
		Columns: []column{{Field: "id"}, {Field: "name"}, {Field: "priority"}, {Field: "groups"}, {Field: "default", Label: "label.customer_type.default"}},
		Fields: []formField{
			{Name: "id", Type: ftNumber, Required: true, KeyField: true},
			{Name: "name", Required: true, Max: ccNameMax},
			{Name: "priority", Type: ftNumber},
			{Name: "groups", Type: ftLines, Ints: true, Dynamic: ccKeys(CCGroups, "name"), Required: true},
			{Name: "numbers", Type: ftLines},
			{Name: "prefixes", Type: ftLines},
			{Name: "regions", Type: ftLines},
			{Name: "categories", Type: ftLines},
			{Name: "default", Type: ftCheck},
		},
	},
	{
		Kind: CCBlacklist, Key: "number", Object: "blacklist", Nav: "nav.blacklist", Intro: "obj.intro.blacklist",
		Columns: []column{{Field: "number"}, {Field: "direction"}, {Field: "note"}},
		Fields: []formField{
			{Name: "number", Required: true, Max: ccBlacklistNumMax, KeyField: true},
			{Name: "direction", Type: ftSelect, Options: opts(directions...), Required: true},
			{Name: "note", Max: ccNoteMax},
		},
	},
	{
		Kind: CCInboundRoutes, Key: "name", Object: "inbound_route", Nav: "nav.inbound_routes", Intro: "obj.intro.inbound_routes",
		Columns: []column{{Field: "name"}, {Field: "source"}, {Field: "trunk"}, {Field: "did"}, {Field: "number"},
			{Field: "target.kind", Label: "label.target.kind"}, {Field: "description"}},
		Fields: append([]formField{
			{Name: "name", Required: true, Max: 32, KeyField: true},
			{Name: "source", Type: ftSelect, Options: opts(routeSources...), Required: true},
			{Name: "trunk", Type: ftSelect, Dynamic: pbxKeys(PBXTrunks), When: "source=trunk|line"},
			{Name: "did", Max: ccNumberMax, When: "source=trunk"},
			{Name: "number", Max: ccInternalNumMax, When: "source=internal"},
		}, append(targetFields("target", true, routeKinds), formField{Name: "description", Max: ccDescMax})...),
	},
	{
		Kind: CCCalendars, Key: "name", Object: "calendar", Nav: "nav.calendars", Intro: "obj.intro.calendars",
		Columns: []column{{Field: "name"}, {Field: "tz"}, {Field: "hours"}, {Field: "holidays"}, {Field: "description"}},
		Fields: []formField{
			{Name: "name", Required: true, Max: 32, KeyField: true},
			{Name: "description", Max: ccDescMax},
			{Name: "tz", Max: 64, Default: "Asia/Shanghai"},
			{Name: "hours", Type: ftPairs},
			{Name: "special", Type: ftPairs},
			{Name: "holidays", Type: ftLines},
		},
	},
	{
		Kind: CCBindings, Key: "pc", Object: "binding", Nav: "nav.bindings", Intro: "obj.intro.bindings",
		Columns: []column{{Field: "pc"}, {Field: "extension"}, {Field: "description"}},
		Fields: []formField{
			{Name: "pc", Required: true, Max: 45, KeyField: true},
			{Name: "extension", Type: ftSelect, Dynamic: pbxKeys(PBXExtensions), Required: true},
			{Name: "description", Max: ccDescMax},
		},
	},
	{
		Kind: CCCallerIDs, Key: "number", Object: "caller_id", Nav: "nav.caller_ids", Intro: "obj.intro.caller_ids",
		Columns: []column{{Field: "number"}, {Field: "description"}, {Field: "all_agents"}, {Field: "agents"}},
		Fields: []formField{
			{Name: "number", Required: true, Max: ccNumberMax, KeyField: true},
			{Name: "description", Max: ccDescMax},
			{Name: "all_agents", Type: ftCheck},
			{Name: "agents", Type: ftLines, Dynamic: ccKeys(CCAgents, "name")},
		},
	},
}

func init() {
	for _, fk := range ccForms {
		fk.Read, fk.Write = PermCCRead, PermCCWrite
		fk.store = func(s *Server) objectStore { return ccObjects{s, fk.Kind} }
		fk.available = func(s *Server) bool { return s.cfg.CallCentre != nil }
		fk.Unavailable = "err.cc.unavailable"
	}
}

// ccKeys gives the keys of the call centre's objects of kind with the
// label field beside them ("1 Sales"), for a field that names them.
func ccKeys(kind, labelField string) func(c *gin.Context, s *Server) []option {
	return func(c *gin.Context, s *Server) []option {
		if s.cfg.CallCentre == nil {
			return nil
		}
		objs, f := (ccObjects{s, kind}).list(c)
		if f != nil {
			return nil
		}
		out := make([]option, 0, len(objs))
		for _, o := range objs {
			d := decodeObject(o)
			key := d.first(ccKeyField[kind])
			out = append(out, option{Value: key, Label: key + " " + d.first(labelField)})
		}
		return out
	}
}

// flowOptions gives the IVR flows, for a field that names one.
func flowOptions(c *gin.Context, s *Server) []option {
	if s.cfg.CallCentre == nil {
		return nil
	}
	flows, err := s.cfg.CallCentre.FlowList(c.Request.Context())
	if err != nil {
		return nil
	}
	out := make([]option, 0, len(flows))
	for _, fl := range flows {
		label := fl.ID
		if fl.Name != "" {
			label += " " + fl.Name
		}
		out = append(out, option{Value: fl.ID, Label: label + " (v" + strconv.Itoa(fl.Version) + ")"})
	}
	return out
}

// mohOptions gives the box's music on hold, for a group's "moh" (empty:
// the built-in tune).
func mohOptions(c *gin.Context, s *Server) []option {
	names, err := s.mohNames(c.Request.Context())
	if err != nil {
		s.log.Warn("webui: music on hold", "err", err)
	}
	out := make([]option, len(names))
	for i, n := range names {
		out[i] = option{Value: n, Label: n}
	}
	return out
}

// mohNames lists the music on hold by name, sorted: the prompts named
// "moh/..." in any language (what GET /api/v1/prompts lists and the music
// page shows). None without a prompt catalogue.
func (s *Server) mohNames(ctx context.Context) ([]string, error) {
	p := s.cfg.Prompts
	if p == nil {
		return nil, nil
	}
	var names []string
	for _, lang := range p.PromptLanguages() {
		list, err := p.PromptList(ctx, lang)
		if err != nil {
			return names, err
		}
		for _, info := range list {
			if strings.HasPrefix(info.Name, mohPrefix) && !slices.Contains(names, info.Name) {
				names = append(names, info.Name)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// checkMOH refuses a group whose "moh" names no music on hold of the box,
// naming the field, before the call centre sees it. Without a prompt
// catalogue (or when it cannot be read) the call centre's own check
// decides.
func (s *Server) checkMOH(c *gin.Context, kind string, o pbxObject) *failure {
	if kind != CCGroups || s.cfg.Prompts == nil {
		return nil
	}
	var name string
	if raw, ok := o["moh"]; !ok || json.Unmarshal(raw, &name) != nil || name == "" {
		return nil // absent or empty: the built-in tune; not a string: the call centre says so
	}
	names, err := s.mohNames(c.Request.Context())
	if err != nil {
		s.log.Warn("webui: music on hold", "err", err)
		return nil
	}
	if !slices.Contains(names, name) {
		return fail(http.StatusBadRequest, "err.cc.moh", "moh", name)
	}
	return nil
}

// ccObjects is the call-centre configuration as the object pages use it,
// agents' PIN hashes hidden as the API hides them.
type ccObjects struct {
	s    *Server
	kind string
}

func (p ccObjects) list(c *gin.Context) ([]pbxObject, *failure) {
	raws, err := p.s.cfg.CallCentre.CCList(c.Request.Context(), p.kind)
	if err != nil {
		return nil, p.s.ccFailure(p.kind, err)
	}
	out := make([]pbxObject, 0, len(raws))
	for _, raw := range raws {
		o, err := ccView(p.kind, raw)
		if err != nil {
			return nil, internal(err)
		}
		out = append(out, o)
	}
	return out, nil
}

func (p ccObjects) get(c *gin.Context, key string) (pbxObject, *failure) {
	raw, err := p.s.cfg.CallCentre.CCGet(c.Request.Context(), p.kind, key)
	if err != nil {
		return nil, p.s.ccFailure(p.kind, err)
	}
	return p.view(raw)
}

func (p ccObjects) view(raw []byte) (pbxObject, *failure) {
	o, err := ccView(p.kind, raw)
	if err != nil {
		return nil, internal(err)
	}
	return o, nil
}

func (p ccObjects) create(c *gin.Context, o pbxObject) (pbxObject, string, *failure) {
	delete(o, fieldPINSet)
	if f := p.s.checkMOH(c, p.kind, o); f != nil {
		return nil, "", f
	}
	raw, _ := json.Marshal(o)
	stored, err := p.s.cfg.CallCentre.CCCreate(c.Request.Context(), p.kind, raw)
	if err != nil {
		return nil, "", p.s.ccFailure(p.kind, err)
	}
	v, f := p.view(stored)
	return v, "", f
}

func (p ccObjects) update(c *gin.Context, key string, o pbxObject) (pbxObject, string, *failure) {
	delete(o, fieldPINSet)
	if f := p.s.checkMOH(c, p.kind, o); f != nil {
		return nil, "", f
	}
	raw, _ := json.Marshal(o)
	stored, err := p.s.cfg.CallCentre.CCUpdate(c.Request.Context(), p.kind, key, raw)
	if err != nil {
		return nil, "", p.s.ccFailure(p.kind, err)
	}
	v, f := p.view(stored)
	return v, "", f
}

func (p ccObjects) delete(c *gin.Context, key string) *failure {
	if err := p.s.cfg.CallCentre.CCDelete(c.Request.Context(), p.kind, key); err != nil {
		return p.s.ccFailure(p.kind, err)
	}
	return nil
}
