package webui

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"callbox/webui/internal/htmlpage"
)

// navItem is one link of the side navigation, shown to those who hold
// Perm ("" for every user) when show (if any) agrees.
type navItem struct {
	Key  string // catalogue key of the label
	Href string
	Perm Permission
	// Unless hides the link from a user with that permission (who has a
	// wider page at the same place).
	Unless Permission
	show   func(s *Server) bool
}

// navSection groups links under a heading.
type navSection struct {
	Key   string
	Items []navItem
}

// navSections is the whole navigation. The agent workbench, supervisor
// board, wallboard and reports join it as they are built, each behind its
// permission.
var navSections = []navSection{
	{"nav.section.overview", []navItem{{Key: "nav.dashboard", Href: "/"}}},
	{"nav.section.work", []navItem{
		{Key: "nav.desk", Href: "/desk", Perm: PermDesk},
		{Key: "nav.board", Href: "/board", Perm: PermQueueMonitor, show: hasLive},
		{Key: "nav.wallboard", Href: "/wallboard", Perm: PermWallboard, show: hasLive},
		{Key: "nav.customers", Href: "/customers", show: hasRecords},
		{Key: "nav.workorders", Href: "/workorders", show: hasRecords},
		{Key: "nav.kb", Href: "/kb", show: hasRecords},
		{Key: "nav.fax", Href: "/fax", Perm: PermFax, show: hasFax},
		{Key: "nav.my_status", Href: "/my/status", Perm: PermDesk, show: hasLive},
		{Key: "nav.my_calls", Href: "/my/calls", Perm: PermDesk, show: hasLive},
		{Key: "nav.my_recordings", Href: "/my/recordings", Unless: PermRecordingsAll, show: hasRecordings},
		{Key: "nav.recordings", Href: "/my/recordings", Perm: PermRecordingsAll, show: hasRecordings},
		{Key: "nav.my_voicemail", Href: "/my/voicemail", show: hasVoicemail},
	}},
	{"nav.section.logs", []navItem{
		{Key: "nav.logs", Href: "/logs", show: hasLogs},
		{Key: "nav.reports", Href: "/reports", Perm: PermReports, show: hasLogs},
	}},
	{"nav.section.pbx", []navItem{
		{Key: "nav.extensions", Href: "/extensions", Perm: PermPBX},
		{Key: "nav.trunks", Href: "/trunks", Perm: PermPBX},
		{Key: "nav.routes", Href: "/routes", Perm: PermPBX},
	}},
	{"nav.section.cc", []navItem{
		{Key: "nav.groups", Href: "/groups", Perm: PermCCRead, show: hasCC},
		{Key: "nav.agents", Href: "/agents", Perm: PermCCRead, show: hasCC},
		{Key: "nav.customer_types", Href: "/customer-types", Perm: PermCCRead, show: hasCC},
		{Key: "nav.blacklist", Href: "/blacklist", Perm: PermCCRead, show: hasCC},
		{Key: "nav.inbound_routes", Href: "/inbound-routes", Perm: PermCCRead, show: hasCC},
		{Key: "nav.calendars", Href: "/calendars", Perm: PermCCRead, show: hasCC},
		{Key: "nav.bindings", Href: "/bindings", Perm: PermCCRead, show: hasCC},
		{Key: "nav.caller_ids", Href: "/caller-ids", Perm: PermCCRead, show: hasCC},
		{Key: "nav.flows", Href: "/flows", Perm: PermCCRead, show: hasCC},
	}},
	{"nav.section.media", []navItem{
		{Key: "nav.prompts", Href: "/prompts", Perm: PermCCRead, show: hasPrompts},
		{Key: "nav.moh", Href: "/moh", Perm: PermCCRead, show: hasPrompts},
		{Key: "nav.retention", Href: "/retention", Perm: PermPBX, show: hasRecordings},
		{Key: "nav.voicemail_boxes", Href: "/voicemail-boxes", Perm: PermPBX, show: hasVoicemail},
		{Key: "nav.conference_rooms", Href: "/conference-rooms", Perm: PermPBX, show: hasConferences},
		{Key: "nav.conference_live", Href: "/conference", Perm: PermQueueControl, show: hasConferences},
	}},
	{"nav.section.system", []navItem{
		{Key: "nav.users", Href: "/users", Perm: PermUsers},
		{Key: "nav.update", Href: "/update", Perm: PermSystem},
		{Key: "nav.sim", Href: "/sim", Perm: PermSystem, show: func(s *Server) bool { return s.cfg.Sim != nil }},
		{Key: "nav.outside", Href: "/outside", Perm: PermSMS, show: func(s *Server) bool { return s.cfg.Outside != nil }},
	}},
}

func hasCC(s *Server) bool { return s.cfg.CallCentre != nil }

func hasLive(s *Server) bool { return s.cfg.Live != nil }

func hasLogs(s *Server) bool { return s.cfg.Logs != nil }

func hasRecords(s *Server) bool { return s.cfg.Records != nil }

func hasFax(s *Server) bool { return s.cfg.Fax != nil }

func hasRecordings(s *Server) bool { return s.cfg.Recordings != nil }

func hasVoicemail(s *Server) bool { return s.cfg.Voicemail != nil }

// navView is a section as the layout draws it.
type navView struct {
	Label string
	Items []navLink
}

type navLink struct {
	Label, Href string
	Active      bool
}

// Nav lists the sections and links the viewer may use, marking the page's.
func (p *pageData) Nav() []navView {
	if p.User == nil {
		return nil
	}
	path, _, _ := strings.Cut(p.Path, "?")
	var out []navView
	for _, sec := range navSections {
		v := navView{Label: p.T(sec.Key)}
		for _, it := range sec.Items {
			if it.Perm != "" && !p.User.Can(string(it.Perm)) || it.Unless != "" && p.User.Can(string(it.Unless)) ||
				it.show != nil && !it.show(p.s) {
				continue
			}
			active := path == it.Href || it.Href != "/" && strings.HasPrefix(path, it.Href+"/")
			v.Items = append(v.Items, navLink{Label: p.T(it.Key), Href: it.Href, Active: active})
		}
		if len(v.Items) > 0 {
			out = append(out, v)
		}
	}
	return out
}

// Static is the URL of a static file with its content hash, so browsers
// keep it until it changes (staticFiles).
func (p *pageData) Static(name string) string {
	if h, ok := p.s.static[name]; ok {
		return "/static/" + name + "?v=" + h
	}
	return "/static/" + name
}

// jsMessages are the catalogue keys the scripts use; the layout hands them
// over in a JSON block (data, not script, so the CSP allows it).
var jsMessages = []string{
	"live.connecting", "live.ok", "live.lost", "live.unavailable", "desk.call_ringing",
}

// JSMessages is the scripts' messages in the page's language, as JSON.
func (p *pageData) JSMessages() htmlpage.JSON {
	m := make(map[string]string, len(jsMessages))
	for _, k := range jsMessages {
		m[k] = p.T(k)
	}
	for _, k := range p.s.eventTypeKeys {
		m[k] = p.T(k)
	}
	b, _ := json.Marshal(m)
	return htmlpage.JSON(b)
}

// liveView is what a page's live-data client starts from.
type liveView struct {
	// After is the id of the last event when the page was made: the
	// stream starts there, so nothing between the page and its stream is
	// lost.
	After string
	// HeartbeatMS is the stream's heartbeat, for the client's watchdog.
	HeartbeatMS int64
}

// Live is the live stream's starting point for a logged-in viewer, nil
// when no stream is available (the call centre is not running).
func (p *pageData) Live() *liveView {
	if p.User == nil || p.s.cfg.Events == nil {
		return nil
	}
	after, ok := p.s.cfg.Events.Last()
	if !ok {
		return nil
	}
	return &liveView{After: after, HeartbeatMS: p.s.heartbeat().Milliseconds()}
}

// hashStatic computes each static file's content hash.
func hashStatic() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(assets, "assets/static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[strings.TrimPrefix(path, "assets/static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out, err
}

// serveStatic serves the embedded files with their hash as ETag: a URL
// with the current ?v= is kept for a year, any other is revalidated (the
// scripts' own imports carry no hash).
func (s *Server) serveStatic(files http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("path"), "/")
		if h, ok := s.static[name]; ok {
			c.Header("ETag", `"`+h+`"`)
			if c.Query("v") == h {
				c.Header("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				c.Header("Cache-Control", "no-cache")
			}
		}
		files.ServeHTTP(c.Writer, c.Request)
	}
}

// PortName words a board port's name ("fxs1") in the page's language
// ("内线口 1"); names of another shape stay as they are.
func (p *pageData) PortName(name string) string {
	i := strings.IndexAny(name, "0123456789")
	if i <= 0 {
		return name
	}
	if k := "port.label." + name[:i]; p.s.cat.Has(k) {
		return p.T(k, name[i:])
	}
	return name
}

// PortKind words a port's kind ("fxs", "fxo").
func (p *pageData) PortKind(kind string) string {
	if k := "port.kind." + kind; p.s.cat.Has(k) {
		return p.T(k)
	}
	return kind
}

// PortState words a port's state as the board gives it: comma-separated
// parts ("ok, off-hook, forward active"), each translated, or "failed: "
// and the driver's error, which stays in its own words.
func (p *pageData) PortState(state string) string {
	if rest, ok := strings.CutPrefix(state, "failed: "); ok {
		return p.T("port.st.failed") + ": " + rest
	}
	parts := strings.Split(state, ", ")
	for i, part := range parts {
		if k := "port.st." + strings.ReplaceAll(part, " ", "_"); p.s.cat.Has(k) {
			parts[i] = p.T(k)
		}
	}
	return strings.Join(parts, p.T("list.sep"))
}

// AgentState words an agent's state from the call centre ("wrap_up").
func (p *pageData) AgentState(state string) string {
	if k := "ev.state." + state; p.s.cat.Has(k) {
		return p.T(k)
	}
	return state
}

// BreakReason words a break's reason: the workbench's own (BreakReasons)
// and the engine's ("device unavailable", "no answer"); others, typed by a
// supervisor or a feature code, stay as they are.
func (p *pageData) BreakReason(reason string) string {
	if k := "desk.reason." + strings.ReplaceAll(reason, " ", "_"); p.s.cat.Has(k) {
		return p.T(k)
	}
	return reason
}

// Region words where a call's number is from in the page's language.
func (p *pageData) Region(c *DeskCall) string {
	switch {
	case c.Mobile:
		return p.T("desk.mobile")
	case p.Lang == "en" && c.RegionEN != "":
		return c.RegionEN
	}
	return c.Region
}
