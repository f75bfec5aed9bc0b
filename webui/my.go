package webui

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"
)

// The agent's own pages: its recordings (everyone's for a user with
// PermRecordingsAll: the recordings search) and its voicemail. They are
// plain pages over the same stores and the same rules as the API's
// (mayHear, mayOpen); the audio plays from the API's routes, which answer
// Range requests.
//
//	GET  /my/status?from=&to=    the agent's state log (the call centre's)
//	GET  /my/calls?from=&to=&direction=in|out|internal&number=
//	                             the agent's phones' calls in and out: the
//	                             call log's page and query (logs.go), own rows only
//	GET  /my/recordings?from=&to=&customer=[&agent=&group=]
//	GET  /my/voicemail
//	POST /my/voicemail/:box/:id/delete
func (s *Server) myRoutes(e *gin.Engine) {
	g := e.Group("/my", s.requireUser(false))
	g.GET("/status", s.need(PermDesk), s.pageMyLog("status"))
	g.GET("/calls", s.need(PermDesk), s.pageMyCalls)
	g.GET("/recordings", s.pageMyRecordings)
	g.GET("/voicemail", s.pageMyVoicemail)
	g.POST("/voicemail/:box/:id/delete", s.postMyMessageDelete)
}

// myRecordingsMax bounds the recordings a page lists.
const myRecordingsMax = 200

// recordingsView is what my_recordings.html shows.
type recordingsView struct {
	From, To, Customer, Agent, Group string
	// All: the user hears everyone's (the agent and group filters show).
	All     bool
	List    []Recording
	More    bool
	Problem string
}

// dateParam reads a date field ("2006-01-02", the box's local time); end
// moves it to the end of that day.
func dateParam(v string, end bool) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	t, err := time.ParseInLocation(time.DateOnly, v, time.Local)
	if err != nil {
		return time.Time{}, false
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, true
}

func (s *Server) pageMyRecordings(c *gin.Context) {
	u, _ := userOf(c)
	v := recordingsView{From: c.Query("from"), To: c.Query("to"), Customer: c.Query("customer"), All: u.Can(PermRecordingsAll)}
	if v.All {
		v.Agent, v.Group = c.Query("agent"), c.Query("group")
	}
	if v.From == "" && v.To == "" {
		v.From = s.now().AddDate(0, 0, -7).Format(time.DateOnly)
	}
	status := http.StatusOK
	from, okFrom := dateParam(v.From, false)
	to, okTo := dateParam(v.To, true)
	switch {
	case s.cfg.Recordings == nil:
		v.Problem, status = "err.recording.unavailable", http.StatusServiceUnavailable
	case !okFrom || !okTo:
		v.Problem, status = "my.bad_date", http.StatusBadRequest
	case !to.IsZero() && !to.After(from):
		v.Problem, status = "err.cdr.range", http.StatusBadRequest
	default:
		q := RecordingQuery{From: from, To: to, Customer: v.Customer, Agent: v.Agent, Group: v.Group, Limit: myRecordingsMax + 1}
		if !v.All {
			q.Agent = ownRecordings(u) // one's own, as the API
		}
		list, err := s.cfg.Recordings.SearchRecordings(c.Request.Context(), q)
		if err != nil {
			s.log.Error("webui: my recordings", "err", err)
			v.Problem, status = "err.internal", http.StatusInternalServerError
			break
		}
		for _, r := range list {
			if mayHear(u, r) {
				v.List = append(v.List, r)
			}
		}
		if len(v.List) > myRecordingsMax {
			v.List, v.More = v.List[:myRecordingsMax], true
		}
	}
	s.render(c, status, "my_recordings", gin.H{"Rec": v})
}

// voicemailView is what my_voicemail.html shows: the boxes the user reads
// with their messages.
type voicemailView struct {
	Boxes   []myBox
	Problem string
	Error   string
}

type myBox struct {
	Box      VoiceBox
	Messages []VoiceMessage
}

func (s *Server) pageMyVoicemail(c *gin.Context) {
	s.renderMyVoicemail(c, http.StatusOK, "")
}

func (s *Server) renderMyVoicemail(c *gin.Context, status int, errText string) {
	u, _ := userOf(c)
	v := voicemailView{Error: errText}
	if s.cfg.Voicemail == nil {
		v.Problem, status = "err.voicemail.unavailable", http.StatusServiceUnavailable
	} else {
		ctx := c.Request.Context()
		boxes, err := s.cfg.Voicemail.Boxes(ctx)
		if err != nil {
			s.log.Error("webui: my voicemail", "err", err)
			v.Problem, status = "err.internal", http.StatusInternalServerError
		}
		for _, b := range boxes {
			// One's own boxes here, even for a supervisor: this is "my"
			// voicemail.
			if b.Owner != u.Login {
				continue
			}
			msgs, err := s.cfg.Voicemail.Messages(ctx, b.Number)
			if err != nil {
				s.log.Error("webui: my voicemail", "box", b.Number, "err", err)
				v.Problem, status = "err.internal", http.StatusInternalServerError
				continue
			}
			v.Boxes = append(v.Boxes, myBox{Box: b, Messages: msgs})
		}
	}
	s.render(c, status, "my_voicemail", gin.H{"VM": v})
}

// postMyMessageDelete deletes a message of one of the user's own boxes.
func (s *Server) postMyMessageDelete(c *gin.Context) {
	u, _ := userOf(c)
	if s.cfg.Voicemail == nil {
		s.renderMyVoicemail(c, http.StatusServiceUnavailable, "")
		return
	}
	box, id := c.Param("box"), c.Param("id")
	b, err := s.cfg.Voicemail.Box(c.Request.Context(), box)
	if err == nil && b.Owner != u.Login {
		err = ErrNotFound // not told that another's box exists
	}
	if err == nil {
		err = s.cfg.Voicemail.DeleteMessage(c.Request.Context(), box, id)
	}
	if err != nil {
		f := vmFailure(err)
		if f.status >= 500 {
			s.log.Error("webui: delete a voice message", "box", box, "id", id, "err", err)
		}
		s.renderMyVoicemail(c, f.status, s.failText(c, f))
		return
	}
	c.Redirect(http.StatusSeeOther, "/my/voicemail?deleted="+url.QueryEscape(id))
}

// pageMyCalls is the call log's page (the same query and filters as
// /logs/calls) scoped to the viewer's own phones, a supervisor's too.
func (s *Server) pageMyCalls(c *gin.Context) {
	c.Set(keyMyLog, true)
	s.pageLog(callsLog)(c)
}

// myLogMax bounds the rows a log page shows.
const myLogMax = 500

// logView is what my_log.html shows: the agent's rows of the call
// centre's status log ("status"; its calls are the call log's page,
// pageMyCalls).
type logView struct {
	What     string
	From, To string
	Rows     []logRow
	More     bool
	Problem  string
}

// logRow is one line: a state with its reason and how long it lasted.
type logRow struct {
	Start, End    time.Time
	Duration      time.Duration
	State, Reason string
	Call          string
}

// pageMyLog shows the agent's own rows of an export of the call centre
// (what its CSV export gives a supervisor for everyone), between two
// dates (default: today).
func (s *Server) pageMyLog(what string) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, _ := userOf(c)
		v := logView{What: what, From: c.Query("from"), To: c.Query("to")}
		if v.From == "" && v.To == "" {
			v.From = s.now().Format(time.DateOnly)
		}
		status := http.StatusOK
		from, okFrom := dateParam(v.From, false)
		to, okTo := dateParam(v.To, true)
		if to.IsZero() {
			// Up to now, and at least the day from names.
			to = from.AddDate(0, 0, 1)
			if now := s.now().Add(time.Minute); now.After(to) {
				to = now
			}
		}
		switch {
		case agentOf(u) == "":
			v.Problem = "desk.no_agent"
		case s.cfg.Live == nil:
			v.Problem, status = "err.cc.unavailable", http.StatusServiceUnavailable
		case !okFrom || !okTo:
			v.Problem, status = "my.bad_date", http.StatusBadRequest
		case !to.After(from):
			v.Problem, status = "err.cdr.range", http.StatusBadRequest
		default:
			rows, err := myRows(c.Request.Context(), s.cfg.Live, what, agentOf(u), from, to)
			if err != nil {
				if !errors.Is(err, ErrConflict) {
					s.log.Error("webui: my log", "what", what, "err", err)
				}
				v.Problem, status = "err.cc.unavailable", http.StatusServiceUnavailable
				break
			}
			v.Rows = rows
			if len(v.Rows) > myLogMax {
				v.Rows, v.More = v.Rows[len(v.Rows)-myLogMax:], true
			}
		}
		s.render(c, status, "my_log", gin.H{"Log": v})
	}
}

// myRows reads the status export's CSV (by its header's column names) and
// keeps the agent's rows; a state lasts until the agent's next one.
func myRows(ctx context.Context, live CCLive, what, agent string, from, to time.Time) ([]logRow, error) {
	var buf bytes.Buffer
	if err := live.CCExport(ctx, &buf, what, from, to); err != nil {
		return nil, err
	}
	r := csv.NewReader(&buf)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("webui: %s export: %w", what, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	at := func(v string) time.Time {
		t, _ := time.Parse(time.RFC3339, v)
		return t
	}
	var out []logRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("webui: %s export: %w", what, err)
		}
		if get(rec, "agent") != agent {
			continue
		}
		row := logRow{Start: at(get(rec, "at")), State: get(rec, "to"), Reason: get(rec, "reason"), Call: get(rec, "call")}
		if n := len(out); n > 0 {
			out[n-1].End = row.Start
			out[n-1].Duration = row.Start.Sub(out[n-1].Start)
		}
		out = append(out, row)
	}
	return out, nil
}
