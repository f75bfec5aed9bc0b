package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"callbox/telephony/crm/sheet"
)

// CCLogs is the call centre's stored history as the logs and reports read
// it (issue 11, logs and reports): the agents' status log, the service log
// (one fact row per queue call) and reports computed from them. The
// firmware computes them over its store (telephony/ccreport); webui scopes
// the queries by role, pages, exports and draws them.
//
//	GET /api/v1/logs/status    the status log  (?from=&to=&agent=&agent=&exclude=1&offset=&limit=&format=csv|xlsx)
//	GET /api/v1/logs/service   the service log (same parameters)
//	GET /api/v1/logs/calls     the call log in and out, an agent's own phones' calls (?from=&to=&direction=in|out|internal&number=&offset=&limit=&format=)
//	GET /api/v1/reports        a report (reports.go)
//
// Supervisors and administrators (PermLogsAll) see every agent; an agent
// sees its own rows only, whatever it asks. Config.Logs provides it;
// without one the routes answer 503.
type CCLogs interface {
	// StatusLog returns the status spans that started in [q.From, q.To)
	// of the agents q selects, newest first.
	StatusLog(ctx context.Context, q LogQuery) ([]StatusRow, error)
	// ServiceLog returns the fact rows queued in [q.From, q.To) that
	// concern the agents q selects (answered by or rang one), newest
	// first.
	ServiceLog(ctx context.Context, q LogQuery) ([]ServiceRow, error)
	// Report computes a report; a bad query wraps ErrInvalid.
	Report(ctx context.Context, q ReportQuery) (ReportTable, error)
	// Directory lists the agents and groups by id with their names, for
	// the filters and the reports' labels.
	Directory(ctx context.Context) (agents, groups []Named, err error)
}

// LogQuery selects log rows: a time range and agents (none listed:
// everyone; Exclude: everyone but those listed).
type LogQuery struct {
	From, To time.Time
	Agents   []string
	Exclude  bool
}

// Named is an agent's work number or a group's id with its name.
type Named struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Device is an agent's configured phone (an extension), if any.
	Device string `json:"device,omitempty"`
}

// StatusRow is a row of the status log (seed 003: agent, state, device
// state, start, end, duration; End zero while the agent is still in it).
type StatusRow struct {
	Agent   string    `json:"agent"`
	Name    string    `json:"name,omitempty"`
	State   string    `json:"state"`
	Reason  string    `json:"reason,omitempty"`
	Device  string    `json:"device,omitempty"` // registered, unregistered, "" when offline
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	Seconds float64   `json:"seconds,omitempty"`
}

// ServiceRow is a row of the service log: one queue call.
type ServiceRow struct {
	Call          string    `json:"call"`
	Group         string    `json:"group,omitempty"`
	Number        string    `json:"number"`
	CustomerType  string    `json:"customer_type,omitempty"`
	Queued        time.Time `json:"queued"`
	Answered      time.Time `json:"answered,omitzero"`
	Ended         time.Time `json:"ended,omitzero"`
	Agent         string    `json:"agent,omitempty"`
	Disposition   string    `json:"disposition"`
	WaitSeconds   float64   `json:"wait_seconds"`
	TalkSeconds   float64   `json:"talk_seconds,omitempty"`
	WrapUpSeconds float64   `json:"wrap_up_seconds,omitempty"`
	Survey        *int      `json:"survey,omitempty"`
	Recording     string    `json:"recording,omitempty"`
}

// Log paging.
const (
	LogPageDefault = 50
	LogPageMax     = 1000
	// logExportMax bounds an export (what is filtered, not a page).
	logExportMax = 100000
)

// logsRoutes registers the logs' API and pages. The permission comes
// before the 503 as everywhere; the logs themselves are every user's (an
// agent's own), so they need a login only.
func (s *Server) logsRoutes(e *gin.Engine, authed *gin.RouterGroup) {
	authed.GET("/logs/status", s.needLogs, s.apiLog(statusLog))
	authed.GET("/logs/service", s.needLogs, s.apiLog(serviceLog))
	authed.GET("/logs/calls", s.needCallLog, s.apiLog(callsLog))
	authed.GET("/reports", s.need(PermReports), s.needLogs, s.apiReport)
	s.savedRoutes(e, authed)
	pages := e.Group("", s.requireUser(false))
	pages.GET("/logs", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/logs/status") })
	pages.GET("/logs/status", s.pageLog(statusLog))
	pages.GET("/logs/service", s.pageLog(serviceLog))
	pages.GET("/logs/calls", s.pageLog(callsLog))
	pages.GET("/reports", s.need(PermReports), s.pageReport)
}

func (s *Server) needLogs(c *gin.Context) {
	if s.cfg.Logs == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.cc.unavailable", ""))
		c.Abort()
	}
}

func (s *Server) needCallLog(c *gin.Context) {
	if s.cfg.CallLog == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.cdr.unavailable", ""))
		c.Abort()
	}
}

// logKind is one of the logs: how to fetch its rows and show them.
type logKind struct {
	name string
	// cols are the columns' catalogue keys under "logs.col.".
	cols  []string
	fetch func(s *Server, c *gin.Context, q logParams) (rows any, n int, err error)
	// cells shows row i of rows in lang.
	cells func(p *pageData, rows any, i int) []string
}

var statusLog = &logKind{
	name: "status",
	cols: []string{"agent", "state", "device", "start", "end", "duration"},
	fetch: func(s *Server, c *gin.Context, q logParams) (any, int, error) {
		rows, err := s.cfg.Logs.StatusLog(c.Request.Context(), q.LogQuery)
		return rows, len(rows), err
	},
	cells: func(p *pageData, rows any, i int) []string {
		r := rows.([]StatusRow)[i]
		state := p.AgentState(r.State)
		if r.Reason != "" && r.State == DeskBreak {
			state += " (" + p.BreakReason(r.Reason) + ")"
		}
		end, dur := "-", "-"
		if !r.End.IsZero() {
			end, dur = fmtTime(r.End), fmtHMS(r.Seconds)
		}
		dev := "-"
		if r.Device != "" {
			dev = p.T("logs.device." + r.Device)
		}
		return []string{agentLabel(r.Agent, r.Name), state, dev, fmtTime(r.Start), end, dur}
	},
}

var serviceLog = &logKind{
	name: "service",
	cols: []string{"queued", "number", "group", "agent", "disposition", "wait", "talk", "wrap_up", "survey"},
	fetch: func(s *Server, c *gin.Context, q logParams) (any, int, error) {
		rows, err := s.cfg.Logs.ServiceLog(c.Request.Context(), q.LogQuery)
		return rows, len(rows), err
	},
	cells: func(p *pageData, rows any, i int) []string {
		r := rows.([]ServiceRow)[i]
		survey := ""
		if r.Survey != nil {
			survey = strconv.Itoa(*r.Survey)
		}
		disp := r.Disposition
		if k := "logs.disp." + strings.ReplaceAll(disp, " ", "_"); p.s.cat.Has(k) {
			disp = p.T(k)
		}
		return []string{fmtTime(r.Queued), r.Number, r.Group, r.Agent, disp, fmtHMS(r.WaitSeconds),
			fmtHMS(r.TalkSeconds), fmtHMS(r.WrapUpSeconds), survey}
	},
}

var callsLog = &logKind{
	name:  "calls",
	cols:  []string{"start", "direction", "from", "to", "trunk", "disposition", "duration", "billable"},
	fetch: fetchCalls,
	cells: func(p *pageData, rows any, i int) []string {
		r := rows.([]CallRow)[i]
		disp := r.Disposition
		if k := "logs.disp." + strings.ReplaceAll(disp, " ", "_"); p.s.cat.Has(k) {
			disp = p.T(k)
		}
		return []string{fmtTime(r.Start), p.T("logs.dir." + r.Direction), r.From, r.To, p.PortName(r.Trunk), disp,
			fmtHMS(r.DurationS), fmtHMS(float64(r.BillableS))}
	},
}

// CallRow is a call log row: the call detail record as the store keeps it
// (CallLog), with its direction worked out.
type CallRow struct {
	ID          string    `json:"id"`
	Direction   string    `json:"direction"` // in, out, internal
	From        string    `json:"from"`
	To          string    `json:"to"`
	Start       time.Time `json:"start"`
	Answer      time.Time `json:"answer,omitzero"`
	End         time.Time `json:"end"`
	Disposition string    `json:"disposition"`
	Trunk       string    `json:"trunk,omitempty"`
	DurationS   float64   `json:"duration_s"`
	BillableS   int64     `json:"billable_s"`
	Legs        []CallLeg `json:"legs,omitempty"`
}

// CallLeg is what the call log reads of a call's leg.
type CallLeg struct {
	Kind  string `json:"kind"`
	Party string `json:"party,omitempty"`
	Trunk string `json:"trunk,omitempty"`
}

// involves reports whether one of numbers took part in the call.
func (r *CallRow) involves(numbers []string) bool {
	return slices.ContainsFunc(numbers, func(n string) bool {
		return n != "" && (r.From == n || r.To == n || slices.ContainsFunc(r.Legs, func(l CallLeg) bool { return l.Party == n }))
	})
}

// direction: a call whose first leg came over a line or trunk is in, one
// that reached a line or trunk otherwise is out.
func (r *CallRow) direction() string {
	if len(r.Legs) > 0 && (r.Legs[0].Kind == "fxo" || r.Legs[0].Trunk != "") {
		return "in"
	}
	if r.Trunk != "" || slices.ContainsFunc(r.Legs, func(l CallLeg) bool { return l.Kind == "fxo" || l.Trunk != "" }) {
		return "out"
	}
	return "internal"
}

// fetchCalls reads the call log of the range page by page and keeps the
// calls of the direction and number asked for, newest first; an agent's
// own are those its phones took part in (its configured device and the
// one it is signed in on).
func fetchCalls(s *Server, c *gin.Context, q logParams) (any, int, error) {
	var out []CallRow
	var mine []string
	if q.Mine {
		var err error
		if mine, err = s.agentDevices(c.Request.Context(), q.Agents[0]); err != nil {
			return nil, 0, err
		}
		if len(mine) == 0 {
			return []CallRow{}, 0, nil
		}
	}
	from := q.From
	for len(out) < logExportMax {
		recs, next, err := s.cfg.CallLog.CallLog(c.Request.Context(), from, q.To, CDRPageMax)
		if err != nil {
			return nil, 0, err
		}
		for _, raw := range recs {
			var r CallRow
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, 0, fmt.Errorf("webui: call log: %w", err)
			}
			r.Direction = r.direction()
			if q.direction != "" && r.Direction != q.direction ||
				q.number != "" && !strings.Contains(r.From, q.number) && !strings.Contains(r.To, q.number) ||
				q.Mine && !r.involves(mine) {
				continue
			}
			r.Legs = nil
			out = append(out, r)
		}
		if next.IsZero() {
			break
		}
		from = next
	}
	slices.Reverse(out)
	return out, len(out), nil
}

// callDirections are the call log's directions.
var callDirections = []string{"in", "out", "internal"}

// agentDevices lists the phones an agent's calls ring: its configured
// device (Directory) and the one it is signed in on (Desk).
func (s *Server) agentDevices(ctx context.Context, agent string) ([]string, error) {
	var out []string
	if s.cfg.Logs != nil {
		agents, _, err := s.cfg.Logs.Directory(ctx)
		if err != nil {
			return nil, err
		}
		if i := slices.IndexFunc(agents, func(n Named) bool { return n.ID == agent }); i >= 0 && agents[i].Device != "" {
			out = append(out, agents[i].Device)
		}
	}
	if s.cfg.Desk != nil {
		if line, err := s.cfg.Desk.AgentLine(ctx, agent); err == nil && line.Device != "" && !slices.Contains(out, line.Device) {
			out = append(out, line.Device)
		}
	}
	return out, nil
}

// logParams is a log request's parsed parameters.
type logParams struct {
	LogQuery
	offset, limit     int
	format            string // "", csv, xlsx
	direction, number string // the call log's
	// Mine: the viewer sees its own rows only.
	Mine bool
}

// parseLogParams reads the filters, scoped by role: a user without
// PermLogsAll sees its own agent's rows only (none when it is no agent).
// Times are RFC 3339, or a form's local "2006-01-02T15:04"; the range
// defaults to the last 24 hours.
func (s *Server) parseLogParams(c *gin.Context) (logParams, *failure) {
	q := logParams{limit: LogPageDefault}
	var f *failure
	if q.From, q.To, f = parseRange(c); f != nil {
		return q, f
	}
	for _, a := range c.QueryArray("agent") {
		for _, id := range strings.FieldsFunc(a, func(r rune) bool { return r == ',' || r == ' ' }) {
			if !slices.Contains(q.Agents, id) {
				q.Agents = append(q.Agents, id)
			}
		}
	}
	q.Exclude = c.Query("exclude") == "1" || c.Query("exclude") == "true"
	for _, p := range []struct {
		name  string
		v     *int
		lo, h int
	}{{"offset", &q.offset, 0, 1 << 30}, {"limit", &q.limit, 1, LogPageMax}} {
		if v := c.Query(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.lo || n > p.h {
				return q, fail(http.StatusBadRequest, "err.logs.page", p.name, LogPageMax)
			}
			*p.v = n
		}
	}
	q.format = c.Query("format")
	if q.format != "" && q.format != string(sheet.CSV) && q.format != string(sheet.XLSX) {
		return q, fail(http.StatusBadRequest, "err.logs.format", "format")
	}
	q.direction = c.Query("direction")
	if q.direction != "" && !slices.Contains(callDirections, q.direction) {
		return q, fail(http.StatusBadRequest, "err.logs.direction", "direction")
	}
	q.number = strings.TrimSpace(c.Query("number"))
	if len(q.number) > maxDeskNumber {
		return q, fail(http.StatusBadRequest, "err.desk.number", "number", maxDeskNumber)
	}
	if u, _ := userOf(c); !u.Can(PermLogsAll) || c.GetBool(keyMyLog) {
		q.Mine = true
		me := agentOf(u)
		if len(q.Agents) > 0 && (q.Exclude || slices.ContainsFunc(q.Agents, func(a string) bool { return a != me })) {
			return q, fail(http.StatusForbidden, "err.cc.not_yours", "agent")
		}
		q.Agents, q.Exclude = []string{me}, false
	}
	return q, nil
}

// parseRange reads from and to, RFC 3339 or a form's local time; the
// range defaults to the last 24 hours.
func parseRange(c *gin.Context) (from, to time.Time, f *failure) {
	to = time.Now()
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := c.Query(p.name); v != "" {
			t, err := parseFormTime(v)
			if err != nil {
				return from, to, fail(http.StatusBadRequest, "err.cdr.time", p.name, p.name)
			}
			*p.t = t
		}
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	if !to.After(from) {
		return from, to, fail(http.StatusBadRequest, "err.cdr.range", "to")
	}
	return from, to, nil
}

// parseFormTime reads RFC 3339 or a datetime-local field in the box's
// time zone.
func parseFormTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("webui: time %q", v)
}

// rowsOf runs a log's query, unless the viewer is nobody's agent.
func (s *Server) rowsOf(c *gin.Context, k *logKind, q logParams) (any, int, error) {
	if q.Mine && q.Agents[0] == "" {
		return emptyRows(k), 0, nil
	}
	return k.fetch(s, c, q)
}

func emptyRows(k *logKind) any {
	switch k {
	case statusLog:
		return []StatusRow{}
	case serviceLog:
		return []ServiceRow{}
	}
	return []CallRow{}
}

// page slices rows (a slice) to [offset, offset+limit).
func page(rows any, n, offset, limit int) any {
	lo, hi := min(offset, n), min(offset+limit, n)
	switch r := rows.(type) {
	case []StatusRow:
		return r[lo:hi]
	case []ServiceRow:
		return r[lo:hi]
	case []CallRow:
		return r[lo:hi]
	}
	return rows
}

// apiLog serves a log: a page of it as JSON, or all of what is filtered
// as CSV or XLSX.
func (s *Server) apiLog(k *logKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		q, f := s.parseLogParams(c)
		if f != nil {
			s.failWith(c, f)
			return
		}
		rows, n, err := s.rowsOf(c, k, q)
		if err != nil {
			s.failWith(c, logFailure(err))
			return
		}
		if q.format != "" {
			s.exportLog(c, k, rows, n, sheet.Format(q.format))
			return
		}
		body := gin.H{"rows": page(rows, n, q.offset, q.limit), "total": n}
		if q.offset+q.limit < n {
			body["next_offset"] = q.offset + q.limit
		}
		c.JSON(http.StatusOK, body)
	}
}

// logFailure maps a log's error: a bad query is the caller's.
func logFailure(err error) *failure {
	if errors.Is(err, ErrInvalid) {
		return liveFailure(err)
	}
	return internal(err)
}

// exportLog writes every filtered row as a table in the viewer's language.
func (s *Server) exportLog(c *gin.Context, k *logKind, rows any, n int, f sheet.Format) {
	p := &pageData{s: s, Lang: langOf(c)}
	header := make([]string, len(k.cols))
	for i, col := range k.cols {
		header[i] = p.T("logs.col." + col)
	}
	s.writeSheet(c, "callbox-"+k.name+"-log", f, header, func(yield func([]string, error) bool) {
		for i := range n {
			if !yield(k.cells(p, rows, i), nil) {
				return
			}
		}
	})
}

// writeSheet sends a table as a CSV or XLSX download.
func (s *Server) writeSheet(c *gin.Context, name string, f sheet.Format, header []string, rows func(func([]string, error) bool)) {
	c.Header("Content-Type", f.ContentType())
	c.Header("Content-Disposition", `attachment; filename="`+name+`.`+string(f)+`"`)
	c.Status(http.StatusOK)
	if err := sheet.Write(c.Writer, f, header, rows); err != nil {
		// Headers are gone; the log says why the file is short.
		s.log.Error("webui: export failed", "what", name, "err", err)
	}
}

// logPage is what logs.html draws.
type logPage struct {
	Kind    string
	Cols    []string
	Rows    [][]string
	Total   int
	From    string
	To      string
	Agents  []Named
	Picked  map[string]bool
	Exclude bool
	Mine    bool
	// Direction and Number are the call log's filters.
	Direction, Number string
	Directions        []string
	Prev, Next        string
	CSV, XLSX         string
	Error             string
	Field             string
	Showing           string
	// Action is where the filter form goes (the page's own path); My: the
	// agent's own page (/my/calls), without the logs' tabs.
	Action string
	My     bool
}

// pageLog draws a log with its filters, a page of rows and export links.
func (s *Server) pageLog(k *logKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		my := c.GetBool(keyMyLog)
		d := &logPage{Kind: k.name, Picked: map[string]bool{}, Directions: callDirections, Action: c.Request.URL.Path, My: my}
		p := &pageData{s: s, Lang: langOf(c)}
		for _, col := range k.cols {
			d.Cols = append(d.Cols, p.T("logs.col."+col))
		}
		q, f := s.parseLogParams(c)
		d.From, d.To = q.From.Local().Format("2006-01-02T15:04"), q.To.Local().Format("2006-01-02T15:04")
		d.Exclude, d.Mine, d.Direction, d.Number = q.Exclude, q.Mine, q.direction, q.number
		for _, a := range q.Agents {
			d.Picked[a] = true
		}
		status := http.StatusOK
		switch {
		case f != nil:
			status, d.Error, d.Field = f.status, s.failText(c, f), f.field
		case k != callsLog && s.cfg.Logs == nil, k == callsLog && s.cfg.CallLog == nil:
			status, d.Error = http.StatusServiceUnavailable, p.T("err.cc.unavailable")
		default:
			if s.cfg.Logs != nil && !q.Mine {
				if agents, _, err := s.cfg.Logs.Directory(c.Request.Context()); err == nil {
					d.Agents = agents
				}
			}
			rows, n, err := s.rowsOf(c, k, q)
			if err != nil {
				f := logFailure(err)
				status, d.Error = f.status, s.failText(c, f)
				break
			}
			d.Total = n
			for i := q.offset; i < min(n, q.offset+q.limit); i++ {
				d.Rows = append(d.Rows, k.cells(p, rows, i))
			}
			if n > 0 {
				d.Showing = p.T("logs.showing", q.offset+1, min(n, q.offset+q.limit), n)
			}
			link := func(set map[string]string) string {
				v := c.Request.URL.Query()
				for key, val := range set {
					v.Set(key, val)
				}
				return c.Request.URL.Path + "?" + v.Encode()
			}
			if q.offset > 0 {
				d.Prev = link(map[string]string{"offset": strconv.Itoa(max(q.offset-q.limit, 0))})
			}
			if q.offset+q.limit < n {
				d.Next = link(map[string]string{"offset": strconv.Itoa(q.offset + q.limit)})
			}
			api := func(format string) string {
				v := c.Request.URL.Query()
				v.Del("offset")
				v.Set("format", format)
				return "/api/v1" + c.Request.URL.Path + "?" + v.Encode()
			}
			if !my {
				d.CSV, d.XLSX = api("csv"), api("xlsx")
			}
		}
		var tabs []logTab
		if !my {
			tabs = s.logTabs(c, k)
		}
		s.render(c, status, "logs", gin.H{"Log": d, "Tabs": tabs})
	}
}

// keyMyLog marks a request for the viewer's own log page (/my/calls):
// scoped to its own rows whatever its permissions.
const keyMyLog = "callbox.my_log"

// logTab is a link of the logs' tab bar.
type logTab struct {
	Key, Href string
	Active    bool
}

func (s *Server) logTabs(c *gin.Context, k *logKind) []logTab {
	u, _ := userOf(c)
	tabs := []logTab{{"logs.status", "/logs/status", k == statusLog}, {"logs.service", "/logs/service", k == serviceLog}}
	if s.cfg.CallLog != nil && (u.Can(PermLogsAll) || agentOf(u) != "") {
		tabs = append(tabs, logTab{"logs.calls", "/logs/calls", k == callsLog})
	}
	return tabs
}

// agentLabel shows a work number with its name.
func agentLabel(id, name string) string {
	if name == "" || name == id {
		return id
	}
	return id + " " + name
}

// fmtTime shows a time as the seed's log does (2022-01-01 13:00:12), in the
// box's time zone.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// fmtHMS shows seconds as h:mm:ss.
func fmtHMS(secs float64) string {
	n := int64(secs + 0.5)
	return fmt.Sprintf("%d:%02d:%02d", n/3600, n%3600/60, n%60)
}
