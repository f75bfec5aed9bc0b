package webui

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"callbox/webui/internal/htmlpage"
)

// The supervisor board (班长, /board) and the wallboard (/wallboard) are
// pages over the live API: the board reads GET /api/v1/cc/figures once and
// again after events (never on a timer), applies the waiting list's and
// agents' events at once, and acts through /api/v1/cc/calls and
// /api/v1/cc/agents, which check each permission on the server. The
// wallboard reads GET /api/v1/wallboard, a summary without callers'
// numbers that a read-only wallboard account (PermWallboard alone) may
// see.

// boardRoutes registers the two pages and the wallboard's summary.
func (s *Server) boardRoutes(e *gin.Engine, authed *gin.RouterGroup) {
	e.GET("/board", s.requireUser(false), s.need(PermQueueMonitor), s.pageBoard)
	e.GET("/wallboard", s.requireUser(false), s.need(PermWallboard), s.pageWallboard)
	authed.GET("/wallboard", s.need(PermWallboard), s.needLive, s.apiWallboard)
}

// wallboardOnly reports whether u is a wallboard account: it holds the
// wallboard and nothing else, so its session may outlive SessionMax (a
// screen on the wall cannot type a password every twelve hours) while it
// is in use; the open wallboard's event stream keeps it so.
func wallboardOnly(u User) bool {
	return u.Role != RoleAdmin && slices.Equal(u.Effective(), []Permission{PermWallboard})
}

// boardGroup is a group as the board's filter lists it.
type boardGroup struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// boardConfig is what board.js starts from (the page hands it over as
// JSON): who the viewer is, what it may do, and the configuration the
// live figures name only by number.
type boardConfig struct {
	// Me is the viewer's work number ("" for none: no take-over).
	Me       string `json:"me"`
	Login    string `json:"login"`
	Assign   bool   `json:"assign"`
	Monitor  bool   `json:"monitor"`
	Control  bool   `json:"control"`
	Live     bool   `json:"live"`
	SLFormat string `json:"sl_formula"`
	// Prompts are what the viewer may play to a caller (with Assign).
	Prompts []string `json:"prompts,omitempty"`
	// Groups, customer types by id and each agent's groups.
	Groups  []boardGroup      `json:"groups"`
	Types   map[int]string    `json:"types"`
	Members map[string][]int  `json:"members"`
	Msgs    map[string]string `json:"msgs"`
}

// boardMsgs are the catalogue keys board.js and wallboard.js word their
// tables and answers with (the states come with the layout's ev.* keys).
var boardMsgs = []string{
	"board.assign", "board.stop", "board.listen", "board.whisper", "board.barge", "board.take_over", "board.hangup",
	"board.force", "board.force.ready", "board.force.busy", "board.force.logout", "board.confirm.stop",
	"board.confirm.hangup", "board.confirm.take_over", "board.confirm.force", "board.done", "board.failed",
	"board.no_waiting", "board.no_agents", "board.callback", "board.mobile", "board.held", "board.recorded",
	"board.monitored", "board.pick_agent", "board.all_groups", "board.ringing", "board.no_queues",
	"board.play", "board.play_pick", "board.notice.no_answer_limit", "board.notice.callback_failed", "board.notice.store_error", "board.notice.other",
	"desk.reason.device_back", "desk.reason.device_unavailable", "desk.reason.login", "desk.reason.logout",
	"desk.reason.meal", "desk.reason.meeting", "desk.reason.no_answer", "desk.reason.other", "desk.reason.rest",
	"desk.reason.restored_after_restart", "desk.reason.training", "desk.reason.wrap-up_done",
	"wall.ready", "wall.talking", "wall.busy", "wall.break", "wall.waiting", "wall.longest", "wall.sl",
	"wall.answered", "wall.abandoned", "wall.total",
}

// boardSetup reads the groups, customer types and memberships from the
// configuration; without one (or on an error, logged) the board names
// groups by the live figures alone.
func (s *Server) boardSetup(ctx context.Context) (groups []boardGroup, types map[int]string, members map[string][]int) {
	types, members = map[int]string{}, map[string][]int{}
	groups = []boardGroup{}
	if s.cfg.CallCentre == nil {
		return groups, types, members
	}
	list := func(kind string, each func(json.RawMessage) error) {
		objs, err := s.cfg.CallCentre.CCList(ctx, kind)
		if err != nil {
			s.log.Warn("webui: board: the configuration is not readable", "kind", kind, "err", err)
			return
		}
		for _, o := range objs {
			if err := each(o); err != nil {
				s.log.Warn("webui: board: an object is not readable", "kind", kind, "err", err)
			}
		}
	}
	list(CCGroups, func(o json.RawMessage) error {
		var g boardGroup
		err := json.Unmarshal(o, &g)
		if err == nil {
			groups = append(groups, g)
		}
		return err
	})
	list(CCCustomerTypes, func(o json.RawMessage) error {
		var ct boardGroup
		err := json.Unmarshal(o, &ct)
		if err == nil {
			types[ct.ID] = ct.Name
		}
		return err
	})
	list(CCAgents, func(o json.RawMessage) error {
		var a struct {
			ID     string `json:"id"`
			Groups []struct {
				Group int `json:"group"`
			} `json:"groups"`
		}
		err := json.Unmarshal(o, &a)
		for _, m := range a.Groups {
			members[a.ID] = append(members[a.ID], m.Group)
		}
		return err
	})
	slices.SortFunc(groups, func(a, b boardGroup) int { return a.ID - b.ID })
	return groups, types, members
}

// pageBoard shows the supervisor board; its script fills it.
func (s *Server) pageBoard(c *gin.Context) {
	u, _ := userOf(c)
	lang := langOf(c)
	cfg := boardConfig{Me: agentOf(u), Login: u.Login, Assign: u.Can(PermQueueControl), Monitor: u.Can(PermAgentsMonitor),
		Control: u.Can(PermAgentsControl), Live: s.cfg.Live != nil, SLFormat: s.cat.T(lang, "board.sl_formula"),
		Msgs: s.boardMessages(lang)}
	cfg.Groups, cfg.Types, cfg.Members = s.boardSetup(c.Request.Context())
	if cfg.Assign {
		cfg.Prompts = s.deskPrompts(c)
	}
	s.render(c, http.StatusOK, "board", gin.H{"Board": cfg, "BoardJSON": boardJSON(cfg)})
}

// pageWallboard shows the wallboard: a page of its own, without the
// admin's frame, for a screen on the wall.
func (s *Server) pageWallboard(c *gin.Context) {
	lang := langOf(c)
	cfg := boardConfig{Live: s.cfg.Live != nil, Msgs: s.boardMessages(lang)}
	s.renderPart(c, http.StatusOK, "wallboard", "wallboard-page", gin.H{"BoardJSON": boardJSON(cfg)})
}

func (s *Server) boardMessages(lang string) map[string]string {
	m := make(map[string]string, len(boardMsgs))
	for _, k := range boardMsgs {
		m[k] = s.cat.T(lang, k)
	}
	return m
}

// boardJSON is the board's start as a JSON block (data, not script: the
// CSP allows it).
func boardJSON(cfg boardConfig) htmlpage.JSON {
	b, _ := json.Marshal(cfg)
	return htmlpage.JSON(b)
}

// wallQueue is one group's line on the wallboard.
type wallQueue struct {
	Group        int     `json:"group"`
	Name         string  `json:"name"`
	Waiting      int     `json:"waiting"`
	LongestWaitS float64 `json:"longest_wait_s"`
	Answered     int     `json:"answered"`
	Abandoned    int     `json:"abandoned"`
	SL           float64 `json:"sl"`
	SLThresholdS float64 `json:"sl_threshold_s"`
	// Agents in the group by what they do now.
	Ready   int `json:"ready"`
	Talking int `json:"talking"`
	Busy    int `json:"busy"`
	Break   int `json:"break"`
}

// apiWallboard sums the live figures up per group: no callers' numbers,
// no agents' names, so a wallboard account sees only what the wall shows.
func (s *Server) apiWallboard(c *gin.Context) {
	raw, err := s.cfg.Live.CCView(c.Request.Context(), "figures")
	if err != nil {
		s.failWith(c, liveFailure(err))
		return
	}
	var f struct {
		Queues []wallQueue `json:"queues"`
		Agents []struct {
			Agent string `json:"agent"`
			State string `json:"state"`
		} `json:"agents"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		s.failWith(c, internal(err))
		return
	}
	_, _, members := s.boardSetup(c.Request.Context())
	total := wallQueue{Group: 0}
	out := make([]wallQueue, 0, len(f.Queues)+1)
	for _, q := range f.Queues {
		q.Ready, q.Talking, q.Busy, q.Break = 0, 0, 0, 0
		out = append(out, q)
	}
	for _, a := range f.Agents {
		count := func(q *wallQueue) {
			switch a.State {
			case DeskReady:
				q.Ready++
			case DeskTalking, DeskRinging:
				q.Talking++
			case DeskBusy, DeskWrapUp:
				q.Busy++
			case DeskBreak:
				q.Break++
			}
		}
		count(&total)
		for i := range out {
			if slices.Contains(members[a.Agent], out[i].Group) {
				count(&out[i])
			}
		}
	}
	for _, q := range out {
		total.Waiting += q.Waiting
		total.LongestWaitS = max(total.LongestWaitS, q.LongestWaitS)
		total.Answered += q.Answered
		total.Abandoned += q.Abandoned
	}
	c.JSON(http.StatusOK, gin.H{"queues": out, "total": total})
}
