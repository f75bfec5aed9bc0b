package app

import (
	"bytes"
	"encoding/csv"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"callbox/firmware/store"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/switch/cdr"
)

// logsDay is a hand-checked day of the call centre of ccTestConfig (group
// 1 "sales", agents 1088 Li and 1099 Wang), written to the store as the
// engine would: six queue calls and both agents' state changes.
var logsDay = time.Date(2026, 1, 5, 9, 0, 0, 0, time.Local)

func logsAt(min int) time.Time { return logsDay.Add(time.Duration(min) * time.Minute) }

func writeLogsDay(t *testing.T, a *App) {
	t.Helper()
	five, three := 5, 3
	facts := []cc.Fact{
		{Call: "a", Group: 1, Number: "02588880001", Queued: logsAt(0), Agent: "1088", Disposition: "answered", WaitSeconds: 8,
			TalkSeconds: 60, WrapUpSeconds: 10, Rings: []cc.FactRing{{Agent: "1088", At: logsAt(0), Result: "answered"}}, Survey: &five},
		{Call: "b", Group: 1, Number: "02588880002", Queued: logsAt(5), Agent: "1088", Disposition: "answered", WaitSeconds: 30,
			TalkSeconds: 100, WrapUpSeconds: 20, Rings: []cc.FactRing{{Agent: "1099", Result: "no answer"}, {Agent: "1088", Result: "answered"}}, Survey: &three},
		{Call: "c", Group: 1, Number: "02588880003", Queued: logsAt(20), Disposition: "abandoned", WaitSeconds: 3},
		{Call: "d", Group: 1, Number: "02588880004", Queued: logsAt(30), Disposition: "abandoned", WaitSeconds: 40,
			Rings: []cc.FactRing{{Agent: "1099", Result: "caller gone"}}},
		{Call: "e", Group: 1, Number: "02588880005", Queued: logsAt(70), Agent: "1099", Disposition: "answered", WaitSeconds: 12,
			TalkSeconds: 50, Rings: []cc.FactRing{{Agent: "1099", Result: "answered"}}},
		{Call: "f", Group: 1, Number: "02588880006", Queued: logsAt(80), Disposition: "overflowed", WaitSeconds: 60, Overflow: "voicemail"},
	}
	status := []acd.StatusEntry{
		{Agent: "1088", At: logsAt(0), From: acd.Offline, To: acd.Idle, Reason: "login"},
		{Agent: "1088", At: logsAt(30), From: acd.Idle, To: acd.Talking, Call: "x"},
		{Agent: "1088", At: logsAt(45), From: acd.Talking, To: acd.WrapUp},
		{Agent: "1088", At: logsAt(50), From: acd.WrapUp, To: acd.Break, Reason: "meal"},
		{Agent: "1088", At: logsAt(80), From: acd.Break, To: acd.Idle},
		{Agent: "1088", At: logsAt(120), From: acd.Idle, To: acd.Offline, Reason: "logout"},
		{Agent: "1099", At: logsAt(0), From: acd.Offline, To: acd.Idle, Reason: "login"},
		{Agent: "1099", At: logsAt(60), From: acd.Idle, To: acd.Break, Reason: cc.ReasonDeviceDown},
		{Agent: "1099", At: logsAt(70), From: acd.Break, To: acd.Talking, Call: "e"},
		{Agent: "1099", At: logsAt(90), From: acd.Talking, To: acd.Offline, Reason: "logout"},
	}
	err := a.withDB(func(db *store.DB) error {
		fs, st := &factStore{db: db}, NewACDStore(db)
		for _, f := range facts {
			if err := fs.PutFact(f); err != nil {
				return err
			}
		}
		for _, e := range status {
			if err := st.AppendStatus(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The logs and reports through the daemon's web server, as each role, over
// a hand-checked day written to the store: the supervisor sees every
// agent's status spans (with the device down while 1099's phone was gone),
// filters them by several agents, include or exclude, pages them and
// exports what is filtered as CSV and XLSX; the agent sees its own rows
// only and is refused another's, the call log and the reports; the report
// per group for the day gives the figures worked out by hand; the chart is
// an SVG; the pages draw in both languages.
func TestLogsAndReportsAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	t.Parallel()
	a, out := bootCCOut(t, 27700, ccTestPBX(), ccTestConfig(t))
	admin := adminClient(t, a, out)
	admin.call("POST", "/api/v1/users", map[string]any{"login": "1088", "role": "agent", "password": "Paper-Lantern-51"}, http.StatusCreated)
	admin.call("POST", "/api/v1/users", map[string]any{"login": "sup", "role": "supervisor", "password": "Kettle-Drum-43"}, http.StatusCreated)
	writeLogsDay(t, a)
	agent := loginAs(t, admin.base, "1088", "Paper-Lantern-51")
	sup := loginAs(t, admin.base, "sup", "Kettle-Drum-43")
	day := url.Values{"from": {logsDay.Add(-9 * time.Hour).Format(time.RFC3339)}, "to": {logsDay.Add(15 * time.Hour).Format(time.RFC3339)}}
	with := func(kv ...string) string {
		v := url.Values{}
		for k, vs := range day {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}

	// Status log: 6 + 4 spans; the newest first; 1099's device down on its break and after.
	m := sup.call("GET", "/api/v1/logs/status?"+with(), nil, http.StatusOK)
	rows := m["rows"].([]any)
	if m["total"] != float64(10) || len(rows) != 10 {
		t.Fatalf("status log: %v", m)
	}
	first := rows[0].(map[string]any)
	if first["agent"] != "1088" || first["state"] != "offline" || first["end"] != nil || first["name"] != "Li" {
		t.Fatalf("the newest span: %v", first)
	}
	var brk map[string]any
	for _, r := range rows {
		if r := r.(map[string]any); r["agent"] == "1099" && r["state"] == "break" {
			brk = r
		}
	}
	if brk == nil || brk["device"] != "unregistered" || brk["seconds"] != float64(600) {
		t.Fatalf("1099's break while its device was gone: %v", brk)
	}
	for _, c := range []struct {
		query string
		total float64
	}{
		{with("agent", "1099"), 4},
		{with("agent", "1099", "exclude", "1"), 6},
		{with("agent", "1088", "agent", "1099"), 10},
		{with("agent", "1088,1099", "exclude", "1"), 0},
		{with("limit", "4", "offset", "8"), 10},
	} {
		if m := sup.call("GET", "/api/v1/logs/status?"+c.query, nil, http.StatusOK); m["total"] != c.total {
			t.Errorf("status log ?%s: %v, want total %v", c.query, m["total"], c.total)
		}
	}
	if m := sup.call("GET", "/api/v1/logs/status?"+with("limit", "4", "offset", "8"), nil, http.StatusOK); len(m["rows"].([]any)) != 2 || m["next_offset"] != nil {
		t.Fatalf("the last page: %v", m)
	}
	if m := sup.call("GET", "/api/v1/logs/status?"+with("limit", "4"), nil, http.StatusOK); m["next_offset"] != float64(4) {
		t.Fatalf("the first page: %v", m)
	}
	for _, bad := range []struct{ query, field string }{
		{with("limit", "0"), "limit"}, {with("limit", "5000"), "limit"}, {"from=yesterday", "from"},
		{with("format", "pdf"), "format"},
	} {
		if st, m := sup.try("GET", "/api/v1/logs/status?"+bad.query, nil); st != http.StatusBadRequest || m["field"] != bad.field {
			t.Errorf("?%s: %d %v, want 400 naming %s", bad.query, st, m, bad.field)
		}
	}

	// The agent: its own spans, refused another's.
	if m := agent.call("GET", "/api/v1/logs/status?"+with(), nil, http.StatusOK); m["total"] != float64(6) {
		t.Fatalf("1088's own status log: %v", m)
	}
	agent.call("GET", "/api/v1/logs/status?"+with("agent", "1099"), nil, http.StatusForbidden)
	agent.call("GET", "/api/v1/logs/status?"+with("agent", "1099", "exclude", "1"), nil, http.StatusForbidden)

	// Service log: all six for the supervisor, the three 1088 answered or
	// rang for it... and 1099's.
	if m := sup.call("GET", "/api/v1/logs/service?"+with(), nil, http.StatusOK); m["total"] != float64(6) {
		t.Fatalf("service log: %v", m)
	}
	if m := agent.call("GET", "/api/v1/logs/service?"+with(), nil, http.StatusOK); m["total"] != float64(2) {
		t.Fatalf("1088's service log: %v", m)
	}
	if m := sup.call("GET", "/api/v1/logs/service?"+with("agent", "1099"), nil, http.StatusOK); m["total"] != float64(3) {
		t.Fatalf("1099's service log: %v", m)
	}
	// Call log: three calls; the agent's are those of the phone it is on.
	err := a.withDB(func(db *store.DB) error {
		w := &cdrWriter{db: db, log: a.log}
		w.store([]cdr.Record{
			{ID: "in1", From: "02588880001", To: "4008", Start: logsAt(1), Answer: logsAt(1), End: logsAt(3), Disposition: cdr.Answered,
				Trunk: "pstn1", Legs: []cdr.Leg{{Channel: "fxo1", Kind: "fxo", Party: "02588880001"}, {Channel: "fxs2", Kind: "fxs", Party: "202"}}},
			{ID: "int1", From: "201", To: "203", Start: logsAt(10), End: logsAt(11), Disposition: cdr.NoAnswer,
				Legs: []cdr.Leg{{Channel: "fxs1", Kind: "fxs", Party: "201"}, {Channel: "fxs3", Kind: "fxs", Party: "203"}}},
			{ID: "out1", From: "202", To: "13912345678", Start: logsAt(20), Answer: logsAt(20), End: logsAt(25), Disposition: cdr.Answered,
				Trunk: "carrier", Legs: []cdr.Leg{{Channel: "fxs2", Kind: "fxs", Party: "202"}, {Channel: "sip/x", Kind: "sip", Party: "13912345678", Trunk: "carrier"}}},
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	agent.call("POST", "/api/v1/cc/agents/1088/login", map[string]any{"device": "202"}, http.StatusNoContent)
	for _, c := range []struct {
		who   *webClient
		query string
		want  string
	}{
		{sup, with(), "out1 int1 in1"},
		{sup, with("direction", "in"), "in1"},
		{sup, with("direction", "out"), "out1"},
		{sup, with("direction", "internal", "number", "203"), "int1"},
		{agent, with(), "out1 in1"},
	} {
		var ids []string
		for _, r := range c.who.call("GET", "/api/v1/logs/calls?"+c.query, nil, http.StatusOK)["rows"].([]any) {
			ids = append(ids, r.(map[string]any)["id"].(string))
		}
		if got := strings.Join(ids, " "); got != c.want {
			t.Errorf("call log ?%s: %s, want %s", c.query, got, c.want)
		}
	}
	agent.call("GET", "/api/v1/reports?"+with(), nil, http.StatusForbidden)

	// CSV and XLSX of what is filtered: 1099's spans, every one.
	csvBody := sup.raw("/api/v1/logs/status?" + with("agent", "1099", "format", "csv", "limit", "1"))
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvBody, "\ufeff"))).ReadAll()
	if err != nil || len(recs) != 5 || recs[0][0] != "客服" || recs[1][0] != "1099 Wang" || recs[1][2] != "-" || recs[1][4] != "-" {
		t.Fatalf("status CSV (%v): %q", err, recs)
	}
	sup.lang = "zh-CN"
	x, err := excelize.OpenReader(bytes.NewReader([]byte(sup.raw("/api/v1/logs/service?" + with("format", "xlsx")))))
	if err != nil {
		t.Fatal(err)
	}
	xrows, err := x.GetRows(x.GetSheetList()[0])
	if err != nil || len(xrows) != 7 || xrows[0][1] != "号码" {
		t.Fatalf("service XLSX (%v): %q", err, xrows)
	}

	// The report per group for the day, by hand: offered 6, answered 3
	// (a b e), abandoned 2 (c d), timed out 1 (f); SL: within 20 s a and
	// e over answered 3 + d abandoned after 20 s = 2/4; ASA (8+30+12)/3;
	// AHT (70+120+50)/3; occupancy (15+5 + 20) / (30+15+5+40 + 60+20) min;
	// breaks: meal 30 min, device down 10 min; survey (5+3)/2.
	rep := sup.call("GET", "/api/v1/reports?"+with("dimension", "group", "period", "day"), nil, http.StatusOK)
	cols := rep["columns"].([]any)
	rrows := rep["rows"].([]any)
	if len(rrows) != 1 {
		t.Fatalf("report rows: %v", rep)
	}
	row := rrows[0].(map[string]any)
	vals := row["values"].([]any)
	want := map[string]float64{"offered": 6, "answered": 3, "abandoned": 2, "timed_out": 1, "service_level": 50,
		"asa": 50.0 / 3, "aht": 80, "occupancy": 100 * 40.0 / 170, "break": 2400, "break:meal": 1800,
		"break:" + cc.ReasonDeviceDown: 600, "survey": 4}
	for i, c := range cols {
		w, ok := want[c.(string)]
		if !ok {
			t.Errorf("unexpected column %v", c)
			continue
		}
		if v, _ := vals[i].(float64); math.Abs(v-w) > 1e-9 {
			t.Errorf("%v = %v, want %v", c, vals[i], w)
		}
	}
	if len(cols) != len(want) || row["key"] != "1" || row["label"] != "sales" || rep["formulas"].(map[string]any)["service_level"] != cc.SLFormula {
		t.Fatalf("report: %v", rep)
	}
	if st, m := sup.try("GET", "/api/v1/reports?"+with("measure", "profit"), nil); st != http.StatusBadRequest || m["field"] != "measure" {
		t.Fatalf("an unknown measure: %d %v", st, m)
	}
	svg := sup.raw("/api/v1/reports?" + with("dimension", "agent", "period", "hour", "format", "svg", "chart", "answered"))
	if !strings.HasPrefix(svg, "<svg") || strings.Count(svg, "<rect") < 3 || !strings.Contains(svg, "1099 Wang") {
		t.Fatalf("chart: %s", svg)
	}

	// The pages, in both languages.
	for _, c := range []struct {
		who        *webClient
		lang, path string
		want       []string
	}{
		{sup, "zh-CN", "/logs/status?" + with(), []string{"客服状态日志", "未注册", "1099 Wang", "导出 Excel"}},
		{sup, "en", "/logs/service?" + with("agent", "1099"), []string{"Service log", "02588880004", "abandoned", "Rows 1 to 3 of 3"}},
		{sup, "en", "/reports?" + with("period", "day"), []string{"<svg", "Service level %", "50.0", "sales"}},
		{agent, "en", "/logs/status?" + with(), []string{"You see your own rows only", "1088 Li"}},
	} {
		c.who.lang = c.lang
		st, body := c.who.get(c.path)
		if st != http.StatusOK {
			t.Errorf("%s: %d", c.path, st)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s in %s lacks %q", c.path, c.lang, w)
			}
		}
	}
	if st, _ := agent.get("/reports"); st != http.StatusForbidden {
		t.Errorf("the agent's reports page: %d", st)
	}

	// Custom reports saved per user or shared.
	mine := sup.call("POST", "/api/v1/reports/saved", map[string]any{"name": "坐席占用率", "dimension": "agent", "period": "day",
		"measures": []string{"occupancy", "break"}, "chart": "occupancy"}, http.StatusCreated)
	shared := sup.call("POST", "/api/v1/reports/saved", map[string]any{"name": "Daily SL", "shared": true, "dimension": "group",
		"period": "day", "measures": []string{"service_level"}}, http.StatusCreated)
	admins := admin.call("POST", "/api/v1/reports/saved", map[string]any{"name": "admin only", "dimension": "all", "period": "month"}, http.StatusCreated)
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "", "dimension": "group", "period": "day"}, "name"},
		{map[string]any{"name": strings.Repeat("长", 41), "dimension": "group", "period": "day"}, "name"},
		{map[string]any{"name": "x", "dimension": "queue", "period": "day"}, "dimension"},
		{map[string]any{"name": "x", "dimension": "group", "period": "day", "measures": []string{"profit"}}, "measures"},
		{map[string]any{"name": "x", "dimension": "group", "period": "day", "owner": "root"}, "owner"},
	} {
		if st, m := sup.try("POST", "/api/v1/reports/saved", bad.body); st != http.StatusBadRequest || m["field"] != bad.field {
			t.Errorf("saving %v: %d %v", bad.body, st, m)
		}
	}
	names := func(c *webClient) []string {
		var out []string
		for _, r := range c.call("GET", "/api/v1/reports/saved", nil, http.StatusOK)["reports"].([]any) {
			out = append(out, r.(map[string]any)["name"].(string))
		}
		return out
	}
	if got := strings.Join(names(sup), "|"); got != "坐席占用率|Daily SL" {
		t.Errorf("the supervisor's saved reports: %s", got)
	}
	if got := strings.Join(names(admin), "|"); got != "Daily SL|admin only" {
		t.Errorf("the administrator's saved reports: %s", got)
	}
	agent.call("GET", "/api/v1/reports/saved", nil, http.StatusForbidden)
	sup.call("DELETE", "/api/v1/reports/saved/"+admins["id"].(string), nil, http.StatusNotFound)
	admin.call("DELETE", "/api/v1/reports/saved/"+mine["id"].(string), nil, http.StatusNotFound)
	admin.call("DELETE", "/api/v1/reports/saved/"+shared["id"].(string), nil, http.StatusNoContent)
	if got := strings.Join(names(sup), "|"); got != "坐席占用率" {
		t.Errorf("after the shared one went: %s", got)
	}
	sup.lang = "en"
	if _, body := sup.get("/reports"); !strings.Contains(body, `坐席占用率</a>`) || !strings.Contains(body, "dimension=agent") {
		t.Errorf("the reports page lacks the saved report:\n%s", body)
	}
}

// raw fetches path and returns its body, failing on any status but 200.
func (w *webClient) raw(path string) string {
	w.t.Helper()
	st, body := w.get(path)
	if st != http.StatusOK {
		w.t.Fatalf("GET %s = %d %s", path, st, body)
	}
	return body
}
