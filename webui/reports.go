package webui

import (
	"fmt"
	"html"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"callbox/webui/internal/htmlpage"

	"callbox/telephony/crm/sheet"
)

// ReportQuery asks for a report (GET /api/v1/reports): dimension group,
// agent or all; period hour, day, week, month or all; the measures
// (ReportMeasures; none: all) over [From, To).
type ReportQuery struct {
	Dimension string
	Period    string
	Measures  []string
	From, To  time.Time
}

// ReportMeasures are the measures a report may show, in order: counts
// (offered, answered, abandoned, timed out), service level and occupancy
// in percent, ASA, AHT and break in seconds (break followed by one
// "break:<reason>" column per reason), the survey average.
var ReportMeasures = []string{"offered", "answered", "abandoned", "timed_out", "service_level", "asa", "aht",
	"occupancy", "break", "survey"}

// Report dimensions and periods.
var (
	reportDimensions = []string{"group", "agent", "all"}
	reportPeriods    = []string{"hour", "day", "week", "month", "all"}
)

// ReportTable is a computed report.
type ReportTable struct {
	Dimension string   `json:"dimension"`
	Period    string   `json:"period"`
	Columns   []string `json:"columns"`
	Rows      []ReportRow
	// Formulas show how the service level and occupancy are worked out.
	Formulas map[string]string `json:"formulas"`
}

// ReportRow is one key's figures in one period; a nil value has nothing to
// stand on (no answered call for an ASA).
type ReportRow struct {
	Key    string     `json:"key"`
	Label  string     `json:"label,omitempty"`
	Period time.Time  `json:"period"`
	Values []*float64 `json:"values"`
}

// reportParams reads a report's query: the time range as the logs read
// it (default the last 24 hours), and its shape (default per group by
// hour, every measure).
func (s *Server) reportParams(c *gin.Context) (ReportQuery, *failure) {
	q := ReportQuery{Dimension: c.DefaultQuery("dimension", "group"), Period: c.DefaultQuery("period", "hour")}
	var f *failure
	if q.From, q.To, f = parseRange(c); f != nil {
		return q, f
	}
	if !slices.Contains(reportDimensions, q.Dimension) {
		return q, fail(http.StatusBadRequest, "err.reports.dimension", "dimension")
	}
	if !slices.Contains(reportPeriods, q.Period) {
		return q, fail(http.StatusBadRequest, "err.reports.period", "period")
	}
	for _, m := range c.QueryArray("measure") {
		for _, name := range strings.Split(m, ",") {
			if name == "" {
				continue
			}
			if !slices.Contains(ReportMeasures, name) {
				return q, fail(http.StatusBadRequest, "err.reports.measure", "measure", name)
			}
			if !slices.Contains(q.Measures, name) {
				q.Measures = append(q.Measures, name)
			}
		}
	}
	return q, nil
}

// report runs the query and labels the rows with names.
func (s *Server) report(c *gin.Context, q ReportQuery) (ReportTable, *failure) {
	t, err := s.cfg.Logs.Report(c.Request.Context(), q)
	if err != nil {
		return t, logFailure(err)
	}
	agents, groups, err := s.cfg.Logs.Directory(c.Request.Context())
	if err != nil {
		return t, internal(err)
	}
	names := groups
	if q.Dimension == "agent" {
		names = agents
	}
	for i := range t.Rows {
		if j := slices.IndexFunc(names, func(n Named) bool { return n.ID == t.Rows[i].Key }); j >= 0 {
			t.Rows[i].Label = names[j].Name
		}
	}
	return t, nil
}

// apiReport serves a report as JSON, CSV, XLSX or an SVG chart
// (?format=svg&chart=<measure>).
func (s *Server) apiReport(c *gin.Context) {
	q, f := s.reportParams(c)
	if f != nil {
		s.failWith(c, f)
		return
	}
	format := c.Query("format")
	if !slices.Contains([]string{"", "csv", "xlsx", "svg"}, format) {
		s.failWith(c, fail(http.StatusBadRequest, "err.logs.format", "format"))
		return
	}
	t, f := s.report(c, q)
	if f != nil {
		s.failWith(c, f)
		return
	}
	p := &pageData{s: s, Lang: langOf(c)}
	switch format {
	case "svg":
		c.Data(http.StatusOK, "image/svg+xml; charset=utf-8", []byte(reportChart(p, t, c.Query("chart"))))
	case "csv", "xlsx":
		header, rows := reportSheet(p, t)
		s.writeSheet(c, "callbox-report", sheet.Format(format), header, func(yield func([]string, error) bool) {
			for _, r := range rows {
				if !yield(r, nil) {
					return
				}
			}
		})
	default:
		if t.Rows == nil {
			t.Rows = []ReportRow{}
		}
		c.JSON(http.StatusOK, gin.H{"dimension": t.Dimension, "period": t.Period, "columns": t.Columns,
			"rows": t.Rows, "formulas": t.Formulas})
	}
}

// columnLabel words a report column ("break:meal": the break reason).
func columnLabel(p *pageData, col string) string {
	if r, ok := strings.CutPrefix(col, "break:"); ok {
		return p.T("reports.m.break") + ": " + p.BreakReason(r)
	}
	return p.T("reports.m." + col)
}

// periodLabel shows a period's start as the period's size calls for.
func periodLabel(period string, t time.Time) string {
	t = t.Local()
	switch period {
	case "hour":
		return t.Format("2006-01-02 15:00")
	case "month":
		return t.Format("2006-01")
	}
	return t.Format("2006-01-02")
}

// keyLabel words a row's key: the group's or agent's id and name, or the
// whole centre.
func keyLabel(p *pageData, r ReportRow) string {
	if r.Key == "" {
		return p.T("reports.all")
	}
	return agentLabel(r.Key, r.Label)
}

// figure shows a value: counts whole, the others with one decimal.
func figure(col string, v *float64) string {
	if v == nil {
		return "-"
	}
	switch col {
	case "offered", "answered", "abandoned", "timed_out":
		return strconv.FormatFloat(*v, 'f', 0, 64)
	case "asa", "aht":
		return strconv.FormatFloat(*v, 'f', 1, 64)
	}
	if strings.HasPrefix(col, "break") {
		return fmtHMS(*v)
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

// reportSheet is the report as a table of words.
func reportSheet(p *pageData, t ReportTable) (header []string, rows [][]string) {
	header = []string{p.T("reports.dim." + t.Dimension), p.T("reports.period")}
	for _, col := range t.Columns {
		header = append(header, columnLabel(p, col))
	}
	for _, r := range t.Rows {
		row := []string{keyLabel(p, r), periodLabel(t.Period, r.Period)}
		for i, col := range t.Columns {
			row = append(row, figure(col, r.Values[i]))
		}
		rows = append(rows, row)
	}
	return header, rows
}

// chartColours tell the series apart (the layout's palette).
var chartColours = []string{"#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"}

// reportChart draws one measure of a report (chart; default the first
// column) as grouped bars: periods along, one bar per key. It is drawn on
// the server so the page needs no charting script.
func reportChart(p *pageData, t ReportTable, chart string) string {
	col := slices.Index(t.Columns, chart)
	if col < 0 {
		col = 0
	}
	const w, h, left, bottom, top = 720.0, 280.0, 56.0, 48.0, 28.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" class="chart" role="img">`, w, h)
	if len(t.Columns) == 0 || len(t.Rows) == 0 {
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">%s</text></svg>`, w/2, h/2, html.EscapeString(p.T("reports.empty")))
		return b.String()
	}
	name := columnLabel(p, t.Columns[col])
	fmt.Fprintf(&b, `<title>%s</title><text x="%g" y="18" font-size="14" font-weight="bold">%s</text>`,
		html.EscapeString(name), left, html.EscapeString(name))
	var periods []time.Time
	var keys []string
	top1 := 0.0
	for _, r := range t.Rows {
		if !slices.ContainsFunc(periods, r.Period.Equal) {
			periods = append(periods, r.Period)
		}
		if !slices.Contains(keys, r.Key) {
			keys = append(keys, r.Key)
		}
		if v := r.Values[col]; v != nil && !math.IsNaN(*v) {
			top1 = max(top1, *v)
		}
	}
	slices.SortFunc(periods, time.Time.Compare)
	top1, ticks := niceScale(top1, counts[t.Columns[col]])
	plotW, plotH := w-left-8, h-top-bottom
	for i := 0; i <= ticks; i++ {
		y := top + plotH - plotH*float64(i)/float64(ticks)
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%g" y="%.1f" font-size="10" text-anchor="end">%s</text>`,
			left, w-8, y, y, left-4, y+3, figure(t.Columns[col], ptr(top1*float64(i)/float64(ticks))))
	}
	slot := plotW / float64(len(periods))
	bar := slot * 0.8 / float64(len(keys))
	for _, r := range t.Rows {
		v := r.Values[col]
		if v == nil || math.IsNaN(*v) {
			continue
		}
		pi := slices.IndexFunc(periods, r.Period.Equal)
		ki := slices.Index(keys, r.Key)
		bh := plotH * *v / top1
		x := left + slot*float64(pi) + slot*0.1 + bar*float64(ki)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
			x, top+plotH-bh, max(bar-1, 1), bh, chartColours[ki%len(chartColours)],
			html.EscapeString(keyLabel(p, r)), html.EscapeString(periodLabel(t.Period, r.Period)), figure(t.Columns[col], v))
	}
	step := max(1, len(periods)/8) // at most about 8 labels along
	for i, per := range periods {
		if i%step == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%g" font-size="10" text-anchor="middle">%s</text>`,
				left+slot*(float64(i)+0.5), top+plotH+14, html.EscapeString(periodLabel(t.Period, per)))
		}
	}
	// Legend.
	x := left
	for i, k := range keys {
		label := keyLabel(p, ReportRow{Key: k, Label: labelOf(t, k)})
		fmt.Fprintf(&b, `<rect x="%.1f" y="%g" width="10" height="10" fill="%s"/><text x="%.1f" y="%g" font-size="11">%s</text>`,
			x, h-14, chartColours[i%len(chartColours)], x+14, h-5, html.EscapeString(label))
		x += 24 + 7*float64(len([]rune(label)))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// counts are the measures that count calls: whole numbers on the axis.
var counts = map[string]bool{"offered": true, "answered": true, "abandoned": true, "timed_out": true}

// niceScale rounds the chart's top up to a round step (1, 2 or 5 times a
// power of ten; whole for counts) and says how many steps it has.
func niceScale(top float64, whole bool) (float64, int) {
	if top <= 0 {
		top = 1
	}
	raw := top / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	if whole {
		step = max(step, 1)
		step = math.Ceil(step)
	}
	n := int(math.Ceil(top/step - 1e-9))
	return step * float64(n), max(n, 1)
}

func labelOf(t ReportTable, key string) string {
	for _, r := range t.Rows {
		if r.Key == key {
			return r.Label
		}
	}
	return ""
}

func ptr(v float64) *float64 { return &v }

// reportPage is what reports.html draws.
type reportPage struct {
	Dimension, Period   string
	Dimensions, Periods []string
	From, To            string
	Measures            []reportMeasure
	Header              []string
	Rows                [][]string
	Chart               htmlpage.HTML
	Charts              []reportMeasure // the columns one may chart
	ChartOf             string
	CSV, XLSX, SVG      string
	Formulas            []string
	Error, Field        string
	// Saved lists the saved reports the viewer sees; CanSave offers the
	// form that saves this one's shape (Picked: its measures).
	Saved   []savedLink
	CanSave bool
	Picked  []string
}

type reportMeasure struct {
	Name, Label string
	On          bool
}

// pageReport draws the report form, the chart and the table.
func (s *Server) pageReport(c *gin.Context) {
	p := &pageData{s: s, Lang: langOf(c)}
	q, f := s.reportParams(c)
	d := &reportPage{Dimension: q.Dimension, Period: q.Period, From: q.From.Local().Format("2006-01-02T15:04"),
		To: q.To.Local().Format("2006-01-02T15:04"), ChartOf: c.Query("chart"),
		Dimensions: reportDimensions, Periods: reportPeriods}
	for _, m := range ReportMeasures {
		d.Measures = append(d.Measures, reportMeasure{m, p.T("reports.m." + m), len(q.Measures) == 0 || slices.Contains(q.Measures, m)})
	}
	d.Saved, d.CanSave, d.Picked = s.savedLinks(c), s.savedStore() != nil, q.Measures
	status := http.StatusOK
	switch {
	case f != nil:
		status, d.Error, d.Field = f.status, s.failText(c, f), f.field
	case savedRefusals[c.Query("refused")] != nil:
		rf := savedRefusals[c.Query("refused")]
		d.Error, d.Field = s.failText(c, rf), rf.field
	case s.cfg.Logs == nil:
		status, d.Error = http.StatusServiceUnavailable, p.T("err.cc.unavailable")
	default:
		t, f := s.report(c, q)
		if f != nil {
			status, d.Error = f.status, s.failText(c, f)
			break
		}
		d.Header, d.Rows = reportSheet(p, t)
		for _, col := range t.Columns {
			d.Charts = append(d.Charts, reportMeasure{col, columnLabel(p, col), col == d.ChartOf})
		}
		d.Chart = htmlpage.HTML(reportChart(p, t, d.ChartOf)) // built with every text escaped
		for _, m := range []string{"service_level", "occupancy"} {
			if slices.Contains(t.Columns, m) {
				d.Formulas = append(d.Formulas, p.T("reports.m."+m)+": "+p.T("reports.formula."+m))
			}
		}
		api := func(format string) string {
			v := c.Request.URL.Query()
			v.Set("format", format)
			return "/api/v1/reports?" + v.Encode()
		}
		d.CSV, d.XLSX, d.SVG = api("csv"), api("xlsx"), api("svg")
	}
	s.render(c, status, "reports", gin.H{"R": d})
}
