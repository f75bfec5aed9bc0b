package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/ccreport"
	"callbox/telephony/ivr"
)

// memLogs is CCLogs over rows in memory, computed by telephony/ccreport as
// the firmware does.
type memLogs struct {
	facts  []cc.Fact
	status []acd.StatusEntry
	now    time.Time
}

var logNames = map[string]string{"1088": "李明", "1099": "王芳"}

func (m *memLogs) StatusLog(ctx context.Context, q LogQuery) ([]StatusRow, error) {
	out := []StatusRow{}
	for _, s := range ccreport.FilterSpans(ccreport.Spans(m.status), ccreport.Agents{IDs: q.Agents, Exclude: q.Exclude}, q.From, q.To) {
		out = append(out, StatusRow{Agent: s.Agent, Name: logNames[s.Agent], State: s.State, Reason: s.Reason, Device: s.Device,
			Start: s.Start, End: s.End, Seconds: s.Duration().Seconds()})
	}
	return out, nil
}

func (m *memLogs) ServiceLog(ctx context.Context, q LogQuery) ([]ServiceRow, error) {
	out := []ServiceRow{}
	for _, f := range ccreport.FilterFacts(m.facts, ccreport.Agents{IDs: q.Agents, Exclude: q.Exclude}, q.From, q.To) {
		out = append(out, ServiceRow{Call: f.Call, Group: fmt.Sprint(f.Group), Number: f.Number, Queued: f.Queued, Agent: f.Agent,
			Disposition: f.Disposition, WaitSeconds: f.WaitSeconds, TalkSeconds: f.TalkSeconds, WrapUpSeconds: f.WrapUpSeconds, Survey: f.Survey})
	}
	return out, nil
}

func (m *memLogs) Report(ctx context.Context, q ReportQuery) (ReportTable, error) {
	rep, err := ccreport.Compute(ccreport.Query{Dimension: q.Dimension, Period: q.Period, Measures: q.Measures, From: q.From, To: q.To,
		Now: m.now, Loc: time.Local, Members: map[string][]int{"1088": {1}, "1099": {1, 2}}}, m.facts, ccreport.Spans(m.status))
	if err != nil {
		return ReportTable{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	t := ReportTable{Dimension: rep.Dimension, Period: rep.Period, Columns: rep.Columns}
	for _, r := range rep.Rows {
		row := ReportRow{Key: r.Key, Period: r.Period}
		for _, v := range r.Values {
			if math.IsNaN(v) {
				row.Values = append(row.Values, nil)
			} else {
				row.Values = append(row.Values, &v)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func (m *memLogs) Directory(ctx context.Context) (agents, groups []Named, err error) {
	return []Named{{ID: "1088", Name: "李明"}, {ID: "1099", Name: "王芳"}}, []Named{{ID: "1", Name: "售前 Sales"}, {ID: "2", Name: "VIP"}}, nil
}

// newMemLogs is a morning of two agents and eight calls, ending an hour
// before now.
func newMemLogs(now time.Time) *memLogs {
	t0 := now.Truncate(time.Hour).Add(-4 * time.Hour)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	score := func(n int) *int { return &n }
	m := &memLogs{now: now}
	for i, f := range []struct {
		min         int
		group       int
		agent, disp string
		wait, talk  float64
		survey      *int
	}{
		{0, 1, "1088", "answered", 8, 60, score(5)}, {12, 1, "1088", "answered", 30, 140, score(4)}, {25, 1, "", "abandoned", 40, 0, nil},
		{70, 2, "1099", "answered", 12, 50, nil}, {80, 2, "", "overflowed", 60, 0, nil}, {95, 1, "1099", "answered", 5, 200, score(3)},
		{130, 1, "1088", "answered", 18, 90, nil}, {150, 2, "", "abandoned", 3, 0, nil},
	} {
		fact := cc.Fact{Call: fmt.Sprintf("c%d", i), Group: f.group, Number: fmt.Sprintf("025888800%02d", i), Queued: at(f.min), Agent: f.agent,
			Disposition: f.disp, WaitSeconds: f.wait, TalkSeconds: f.talk, Survey: f.survey}
		if f.agent != "" {
			fact.Rings = []cc.FactRing{{Agent: f.agent, At: at(f.min), Result: "answered"}}
			fact.WrapUpSeconds = 15
		}
		m.facts = append(m.facts, fact)
	}
	for _, e := range []struct {
		agent    string
		min      int
		from, to acd.State
		reason   string
	}{
		{"1088", 0, acd.Offline, acd.Idle, "login"}, {"1088", 40, acd.Idle, acd.Break, "meal"}, {"1088", 70, acd.Break, acd.Idle, ""},
		{"1088", 130, acd.Idle, acd.Talking, ""}, {"1088", 135, acd.Talking, acd.WrapUp, ""}, {"1088", 137, acd.WrapUp, acd.Idle, ""},
		{"1099", 5, acd.Offline, acd.Idle, "login"}, {"1099", 60, acd.Idle, acd.Break, cc.ReasonDeviceDown},
		{"1099", 68, acd.Break, acd.Idle, cc.ReasonDeviceBack}, {"1099", 95, acd.Idle, acd.Talking, ""}, {"1099", 99, acd.Talking, acd.Offline, "logout"},
	} {
		m.status = append(m.status, acd.StatusEntry{Agent: acd.AgentID(e.agent), At: at(e.min), From: e.from, To: e.to, Reason: e.reason})
	}
	return m
}

// flowsCC is docCC with the sample document's flows, one version each,
// saved through the IVR's validator.
type flowsCC struct {
	*docCC
	flows map[string][]json.RawMessage
}

func newFlowsCC(t *testing.T, d *docCC) *flowsCC {
	raw, err := os.ReadFile("../telephony/ccconf/testdata/callcentre.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Flows []json.RawMessage `json:"flows"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	f := &flowsCC{docCC: d, flows: map[string][]json.RawMessage{}}
	for _, fl := range doc.Flows {
		var id struct{ ID string }
		_ = json.Unmarshal(fl, &id)
		f.flows[id.ID] = append(f.flows[id.ID], fl)
	}
	return f
}

func (f *flowsCC) FlowGet(ctx context.Context, id string, version int) (json.RawMessage, error) {
	vs := f.flows[id]
	if len(vs) == 0 || version > len(vs) {
		return nil, ErrNotFound
	}
	if version == 0 {
		version = len(vs)
	}
	return vs[version-1], nil
}

func (f *flowsCC) FlowVersions(ctx context.Context, id string) ([]int, error) {
	if len(f.flows[id]) == 0 {
		return nil, ErrNotFound
	}
	var out []int
	for i := range f.flows[id] {
		out = append(out, i+1)
	}
	return out, nil
}

// flowRefusal is a validator's problem as the configuration reports it.
type flowRefusal struct{ node, field, msg string }

func (e flowRefusal) Error() string { return "node " + e.node + ": " + e.field + ": " + e.msg }
func (e flowRefusal) ReasonCode() (string, []any) {
	return "cc.flow.invalid", []any{e.node, e.field, e.msg}
}

func (f *flowsCC) FlowSave(ctx context.Context, id string, raw json.RawMessage) (json.RawMessage, bool, error) {
	fl, err := ivr.ParseFlow(raw)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var ves ivr.ValidationErrors
	if err := ivr.Validate(fl, ivr.ValidateOptions{}); errors.As(err, &ves) {
		var errs []error
		for _, v := range ves {
			errs = append(errs, flowRefusal{v.Node, v.Field, v.Msg})
		}
		return nil, false, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	f.flows[id] = append(f.flows[id], raw)
	return raw, true, nil
}

// TestBrowserLogsReportsFlows looks at the logs, reports and flow editor
// pages in Chromium in both languages on a 1366x768 laptop and a 390 px
// phone: screenshots for a person to look at, nothing cut off or
// sideways-scrolling, no catalogue key left untranslated; the chart and
// the graph are drawn; a refused flow marks its node red.
func TestBrowserLogsReportsFlows(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	if out, err := exec.Command("fc-list", ":lang=zh").Output(); err != nil || len(out) == 0 {
		t.Fatal("no Chinese font for the screenshots: install the Debian package fonts-wqy-microhei")
	}
	pbx := samplePBX()
	now := time.Now()
	e := newEnv(t, Config{PBX: newDocPBX(pbx), CallCentre: newFlowsCC(t, newDocCC(t, &pbx)), Logs: newMemLogs(now)})
	e.s.now = time.Now
	e.users.add(t, "root", RoleAdmin, "root-password")
	srv := httptest.NewServer(e.s.Handler())
	t.Cleanup(srv.Close)
	dir := shotDir(t)
	b := startBrowser(t)
	b.navigate(srv.URL + "/login")
	b.submitForm("/login", map[string]string{"login": "root", "password": "root-password"})
	day := url.Values{"from": {now.Add(-6 * time.Hour).Format(time.RFC3339)}, "to": {now.Format(time.RFC3339)}}.Encode()
	pages := []struct{ name, path, want string }{
		{"logs_status", "/logs/status?" + day, "table.reflow tbody tr"},
		{"logs_service", "/logs/service?" + day + "&agent=1088", "table.reflow tbody tr"},
		{"reports", "/reports?" + day + "&period=hour&chart=answered", ".chart-box svg rect"},
		{"reports_agent", "/reports?" + day + "&dimension=agent&period=all&chart=occupancy", ".chart-box svg rect"},
		{"flows", "/flows", "table.reflow tbody tr"},
		{"flows_main", "/flows/main", ".flow-graph g.node"},
	}
	for _, lang := range []string{"zh-CN", "en"} {
		b.navigate(srv.URL + "/")
		b.submitForm("/lang/"+lang, nil)
		for _, vp := range pageViewports {
			b.viewport(vp.w, vp.h, vp.mobile)
			for _, p := range pages {
				b.navigate(srv.URL + p.path)
				var n int
				b.evalJSON(`document.querySelectorAll(`+jsString(p.want)+`).length`, &n)
				if n == 0 {
					t.Errorf("%s %s: no %s", lang, p.path, p.want)
				}
				lookAt(t, b, lang+" "+vp.name+" "+p.name, filepath.Join(dir, fmt.Sprintf("%s-%s-%s.png", p.name, lang, vp.name)))
			}
		}
	}
	// A refused version: the node the validator names is red.
	b.viewport(1366, 768, false)
	b.navigate(srv.URL + "/flows/survey")
	bad := `{"id": "survey", "entry": "ask", "nodes": [{"id": "ask", "type": "play", "prompt": "bye", "next": "nowhere"}]}`
	b.submitForm("/flows/survey", map[string]string{"json": bad})
	var red []string
	b.evalJSON(`[...document.querySelectorAll(".flow-graph g.node.bad")].map(g => g.dataset.node)`, &red)
	if len(red) != 1 || red[0] != "ask" {
		t.Errorf("nodes marked after a refused save: %v", red)
	}
	b.screenshot(filepath.Join(dir, "flows_survey-refused-en-laptop.png"))
	t.Logf("screenshots in %s", dir)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return strings.TrimSpace(string(b))
}
