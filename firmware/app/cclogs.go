package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"callbox/firmware/store"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/ccreport"
	"callbox/webui"
)

// ccLogs serves the call centre's logs and reports to the web admin
// (webui.CCLogs): rows read from the store, worked out by
// telephony/ccreport.
type ccLogs struct{ a *App }

var _ webui.CCLogs = ccLogs{}

// statusLookahead is how far past a range the status log is read, so
// that a span starting inside the range gets its end.
const statusLookahead = 24 * time.Hour

// agentIDs lists the configured agents (none while the call centre is not
// running: its configuration is what names them).
func (l ccLogs) agentIDs() []acd.AgentID {
	snap := l.a.callCentreSnapshot()
	if snap == nil {
		return nil
	}
	var out []acd.AgentID
	for _, ag := range snap.ACD().Agents {
		out = append(out, ag.ID)
	}
	return out
}

// spans reads the status entries of every configured agent from from on
// and turns them into spans.
func (l ccLogs) spans(from, to time.Time) ([]ccreport.Span, error) {
	var all []acd.StatusEntry
	err := l.a.withDB(func(db *store.DB) error {
		st := NewACDStore(db)
		for _, id := range l.agentIDs() {
			es, err := st.StatusEntries(id, from, to.Add(statusLookahead))
			if err != nil {
				return err
			}
			all = append(all, es...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("app: status log: %w", err)
	}
	return ccreport.Spans(all), nil
}

func (l ccLogs) facts() ([]cc.Fact, error) {
	var facts []cc.Fact
	err := l.a.withDB(func(db *store.DB) (err error) {
		facts, err = (&factStore{db: db}).Facts()
		return err
	})
	return facts, err
}

// StatusLog implements webui.CCLogs.
func (l ccLogs) StatusLog(ctx context.Context, q webui.LogQuery) ([]webui.StatusRow, error) {
	spans, err := l.spans(q.From, q.To)
	if err != nil {
		return nil, err
	}
	names := l.names()
	out := []webui.StatusRow{}
	for _, s := range ccreport.FilterSpans(spans, ccreport.Agents{IDs: q.Agents, Exclude: q.Exclude}, q.From, q.To) {
		out = append(out, webui.StatusRow{Agent: s.Agent, Name: names[s.Agent], State: s.State, Reason: s.Reason,
			Device: s.Device, Start: s.Start, End: s.End, Seconds: s.Duration().Seconds()})
	}
	return out, nil
}

// ServiceLog implements webui.CCLogs.
func (l ccLogs) ServiceLog(ctx context.Context, q webui.LogQuery) ([]webui.ServiceRow, error) {
	facts, err := l.facts()
	if err != nil {
		return nil, err
	}
	facts = ccreport.FilterFacts(facts, ccreport.Agents{IDs: q.Agents, Exclude: q.Exclude}, q.From, q.To)
	slices.SortStableFunc(facts, func(x, y cc.Fact) int { return cmp.Or(y.Queued.Compare(x.Queued), cmp.Compare(x.Call, y.Call)) })
	out := make([]webui.ServiceRow, 0, len(facts))
	for _, f := range facts {
		group := ""
		if f.Group != 0 {
			group = strconv.Itoa(f.Group)
		}
		out = append(out, webui.ServiceRow{Call: f.Call, Group: group, Number: f.Number, CustomerType: f.CustomerType,
			Queued: f.Queued, Answered: f.Answered, Ended: f.Ended, Agent: f.Agent, Disposition: f.Disposition,
			WaitSeconds: f.WaitSeconds, TalkSeconds: f.TalkSeconds, WrapUpSeconds: f.WrapUpSeconds, Survey: f.Survey,
			Recording: f.Recording})
	}
	return out, nil
}

// Report implements webui.CCLogs: the groups' thresholds and the agents'
// groups are the running configuration's.
func (l ccLogs) Report(ctx context.Context, q webui.ReportQuery) (webui.ReportTable, error) {
	rq := ccreport.Query{Dimension: q.Dimension, Period: q.Period, Measures: q.Measures, From: q.From, To: q.To,
		Now: time.Now(), Loc: time.Local, Threshold: map[int]time.Duration{}, Members: map[string][]int{}}
	if snap := l.a.callCentreSnapshot(); snap != nil {
		cfg := snap.ACD()
		rq.DefaultThreshold = cfg.SLThreshold
		for _, g := range cfg.Groups {
			rq.Threshold[g.ID] = g.SLThreshold
		}
		for _, ag := range cfg.Agents {
			for _, m := range ag.Groups {
				rq.Members[string(ag.ID)] = append(rq.Members[string(ag.ID)], m.Group)
			}
		}
	}
	facts, err := l.facts()
	if err != nil {
		return webui.ReportTable{}, err
	}
	spans, err := l.spans(q.From, q.To)
	if err != nil {
		return webui.ReportTable{}, err
	}
	rep, err := ccreport.Compute(rq, facts, spans)
	if errors.Is(err, ccreport.ErrQuery) {
		return webui.ReportTable{}, fmt.Errorf("%w: %w", webui.ErrInvalid, err)
	} else if err != nil {
		return webui.ReportTable{}, err
	}
	t := webui.ReportTable{Dimension: rep.Dimension, Period: rep.Period, Columns: rep.Columns,
		Formulas: map[string]string{ccreport.ServiceLevel: cc.SLFormula, ccreport.Occupancy: ccreport.OccupancyFormula}}
	for _, r := range rep.Rows {
		row := webui.ReportRow{Key: r.Key, Period: r.Period, Values: make([]*float64, len(r.Values))}
		for i, v := range r.Values {
			if !math.IsNaN(v) {
				row.Values[i] = &v
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// names maps work numbers to names.
func (l ccLogs) names() map[string]string {
	out := map[string]string{}
	if snap := l.a.callCentreSnapshot(); snap != nil {
		for _, ag := range snap.Config().Agents {
			out[ag.ID] = ag.Name
		}
	}
	return out
}

// Directory implements webui.CCLogs.
func (l ccLogs) Directory(ctx context.Context) (agents, groups []webui.Named, err error) {
	agents, groups = []webui.Named{}, []webui.Named{}
	snap := l.a.callCentreSnapshot()
	if snap == nil {
		return agents, groups, nil
	}
	for _, ag := range snap.Config().Agents {
		agents = append(agents, webui.Named{ID: ag.ID, Name: ag.Name, Device: ag.Device})
	}
	for _, g := range snap.Config().Groups {
		groups = append(groups, webui.Named{ID: strconv.Itoa(g.ID), Name: g.Name})
	}
	return agents, groups, nil
}

// savedReportsKey is the setting the saved custom reports are kept in,
// as one JSON list (webui bounds it to 100 short entries, well within a
// setting's 64 KiB).
const savedReportsKey = "reports.saved"

var _ webui.SavedReports = ccLogs{}

// SavedReports implements webui.SavedReports.
func (l ccLogs) SavedReports(ctx context.Context) ([]webui.SavedReport, error) {
	var out []webui.SavedReport
	err := l.a.withDB(func(db *store.DB) error {
		return db.View(func(tx *store.Tx) error {
			v, err := tx.Setting(savedReportsKey)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			} else if err != nil {
				return err
			}
			return json.Unmarshal([]byte(v), &out)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("app: saved reports: %w", err)
	}
	return out, nil
}

// PutSavedReports implements webui.SavedReports.
func (l ccLogs) PutSavedReports(ctx context.Context, list []webui.SavedReport) error {
	b, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("app: saved reports: %w", err)
	}
	err = l.a.withDB(func(db *store.DB) error {
		return db.Update(func(tx *store.Tx) error { return tx.SetSetting(savedReportsKey, string(b)) })
	})
	if err != nil {
		return fmt.Errorf("app: saved reports: %w", err)
	}
	return nil
}
