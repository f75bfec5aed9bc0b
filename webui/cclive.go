package webui

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// CCLive is the running call centre the desks drive (issue 9, sections 3
// and 4): agents' operations on themselves, supervisors' on everyone and on
// calls, the live figures and lists, and CSV exports. The API is a thin
// layer over it under /api/v1/cc (the configuration keeps /api/v1/agents
// and the other object paths):
//
//	GET  /api/v1/cc/agents/:agent       an agent's own line: state, device, service
//	POST /api/v1/cc/agents/:agent/:op   an agent operation (CCAgentOps)
//	POST /api/v1/cc/calls/:call/:op     a supervisor's operation (CCCallOps)
//	GET  /api/v1/cc/figures             per group and per agent, waiting list, services
//	GET  /api/v1/cc/waiting             the waiting list
//	GET  /api/v1/cc/services            the services in progress
//	GET  /api/v1/cc/facts.csv           one row per queue call (?from=&to= RFC 3339)
//	GET  /api/v1/cc/status.csv          the agents' state log (?from=&to=)
//
// An agent (a user of role agent, whose login is the work number) acts only
// on itself; supervisors and administrators on every agent and call.
// Errors wrap ErrNotFound (no such agent or call), ErrInvalid (a parameter,
// named after the sentinel) or ErrConflict (refused now, with the reason:
// an agent ringing or talking, no call to act on); their text after the
// sentinel is shown to the user.
//
// Config.Live provides it; without one the routes answer 503.
type CCLive interface {
	// CCAgent runs op (a CCAgentOps name) for agent on behalf of actor (the
	// web user's login) and returns its result, if it has one (dial: the
	// call's id), as JSON.
	CCAgent(ctx context.Context, actor, agent, op string, req CCRequest) (json.RawMessage, error)
	// CCCall runs a supervisor's op (a CCCallOps name) on a call.
	CCCall(ctx context.Context, actor, call, op string, req CCRequest) error
	// CCView returns a live view as JSON: "figures", "waiting",
	// "services", or "agent:" and a work number (that agent's line and
	// the service they are in).
	CCView(ctx context.Context, view string) (json.RawMessage, error)
	// CCExport writes "facts" or "status" as CSV for [from, to).
	CCExport(ctx context.Context, w io.Writer, what string, from, to time.Time) error
	// CCDeskLogin binds a web agent to the extension of the PC at addr (an
	// extension-to-PC binding) and logs it in there; ok is false when the
	// PC has no binding. CCDeskLogout undoes a binding CCDeskLogin made.
	CCDeskLogin(ctx context.Context, agent, addr string) (ok bool, err error)
	CCDeskLogout(ctx context.Context, agent string) error
}

// CCRequest carries the parameters of a live operation (the JSON body);
// each operation reads the fields its doc names and ignores none it does
// not know (unknown fields are refused).
type CCRequest struct {
	// Device is the extension to log in on ("": the agent's own).
	Device string `json:"device,omitempty"`
	// State is "ready", "break", "busy" (state) or "listen", "whisper",
	// "barge" (a call's monitor-mode).
	State  string `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Number is what dial calls; CallerID what it presents ("": the
	// route's).
	Number   string `json:"number,omitempty"`
	CallerID string `json:"caller_id,omitempty"`
	// Target is where transfer and invite go.
	Target  CCTarget `json:"target,omitzero"`
	Consult bool     `json:"consult,omitempty"`
	// Prompts (up to three prompt names) or Text, then back to the agent
	// or, with Release, the agent is free and the caller hung up after.
	Prompts []string `json:"prompts,omitempty"`
	Text    string   `json:"text,omitempty"`
	Release bool     `json:"release,omitempty"`
	// Flow is the IVR flow run-flow and release-ivr send the caller to.
	Flow   string `json:"flow,omitempty"`
	Digits string `json:"digits,omitempty"`
	// On starts (true) or stops (false) recording.
	On *bool `json:"on,omitempty"`
	// Agent is who assign and transfer give a call to.
	Agent string `json:"agent,omitempty"`
	// Phone is the number monitor rings ("": the supervisor's device).
	Phone string `json:"phone,omitempty"`
}

// CCTarget is a transfer's or invitation's destination: kind "agent"
// (value a work number), "group" (a group id), "extension" or "number".
type CCTarget struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// ccOp is a live operation: the permission its own agent needs (a desk
// permission), and the one a supervisor acting on another agent needs.
type ccOp struct {
	self, other Permission
}

// CCAgentOps are the agent operations by name (POST
// /api/v1/cc/agents/:agent/:op), with who may run them.
var CCAgentOps = map[string]ccOp{
	"login":             {PermDesk, PermAgentsControl},
	"logout":            {PermDesk, PermAgentsControl},
	"state":             {PermDesk, PermAgentsControl},
	"wrap-up-done":      {PermDesk, PermAgentsControl},
	"dial":              {PermDeskOutbound, ""},
	"hold":              {PermDesk, PermAgentsControl},
	"resume":            {PermDesk, PermAgentsControl},
	"hangup":            {PermDesk, PermAgentsControl},
	"transfer":          {PermDesk, PermAgentsControl},
	"transfer-complete": {PermDesk, PermAgentsControl},
	"drop-third":        {PermDesk, PermAgentsControl},
	"invite":            {PermDesk, PermAgentsControl},
	"play":              {PermDesk, PermAgentsControl},
	"run-flow":          {PermDesk, PermAgentsControl},
	"release-ivr":       {PermDesk, PermAgentsControl},
	"dtmf":              {PermDesk, ""},
	"record":            {PermDesk, PermAgentsControl},
}

// CCCallOps are the supervisors' operations on a call by name (POST
// /api/v1/cc/calls/:call/:op), with the permission each needs.
var CCCallOps = map[string]Permission{
	"stop":         PermQueueControl, // a waiting request
	"assign":       PermQueueControl, // a waiting call to Agent
	"teardown":     PermQueueControl,
	"transfer":     PermQueueControl, // a service to Agent
	"monitor":      PermAgentsMonitor,
	"monitor-mode": PermAgentsMonitor, // State: listen, whisper, barge
	"play":         PermQueueControl,  // a prompt or Text to the caller
}

// agentOf is the work number a user acts as: its own (User.Agent), or for
// an agent account without one, its login.
func agentOf(u User) string {
	if u.Agent != "" {
		return u.Agent
	}
	if u.Role == RoleAgent {
		return u.Login
	}
	return ""
}

// ccLiveRoutes registers the live operations on the authenticated group.
func (s *Server) ccLiveRoutes(authed *gin.RouterGroup) {
	// The permission before the 503, as everywhere: who may not is told so.
	g := authed.Group("/cc")
	g.GET("/agents/:agent", s.needLive, s.apiCCAgentView)
	g.POST("/agents/:agent/:op", s.needLive, s.apiCCAgent)
	g.POST("/calls/:call/:op", s.needLive, s.apiCCCall)
	for _, v := range []string{"figures", "waiting", "services"} {
		g.GET("/"+v, s.need(PermQueueMonitor), s.needLive, s.apiCCView(v))
	}
	g.GET("/facts.csv", s.need(PermLogsAll), s.needLive, s.apiCCExport("facts"))
	g.GET("/status.csv", s.need(PermLogsAll), s.needLive, s.apiCCExport("status"))
}

// needLive answers 503 when the box runs no call centre.
func (s *Server) needLive(c *gin.Context) {
	if s.cfg.Live == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.cc.unavailable", ""))
		c.Abort()
	}
}

// ccRequest reads an operation's body (an empty body is no parameters).
func ccRequest(c *gin.Context) (CCRequest, *failure) {
	var req CCRequest
	if c.Request.ContentLength == 0 {
		return req, nil
	}
	return req, decodeJSON(c, &req)
}

func (s *Server) apiCCAgent(c *gin.Context) {
	u, _ := userOf(c)
	agent, opName := c.Param("agent"), c.Param("op")
	op, ok := CCAgentOps[opName]
	if !ok {
		s.failWith(c, fail(http.StatusNotFound, "err.not_found", ""))
		return
	}
	need := op.self
	if agent != agentOf(u) {
		need = op.other
	}
	if need == "" || !u.Can(need) {
		s.failWith(c, fail(http.StatusForbidden, "err.cc.not_yours", ""))
		return
	}
	req, f := ccRequest(c)
	if f != nil {
		s.failWith(c, f)
		return
	}
	out, err := s.cfg.Live.CCAgent(c.Request.Context(), u.Login, agent, opName, req)
	if err != nil {
		s.failWith(c, liveFailure(err))
		return
	}
	if out == nil {
		c.Status(http.StatusNoContent)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", out)
}

// apiCCAgentView shows an agent its own line (a supervisor anyone's).
func (s *Server) apiCCAgentView(c *gin.Context) {
	u, _ := userOf(c)
	agent := c.Param("agent")
	need := PermDesk
	if agent != agentOf(u) {
		need = PermQueueMonitor
	}
	if !u.Can(need) {
		s.failWith(c, fail(http.StatusForbidden, "err.cc.not_yours", ""))
		return
	}
	s.apiCCView("agent:" + agent)(c)
}

func (s *Server) apiCCCall(c *gin.Context) {
	u, _ := userOf(c)
	opName := c.Param("op")
	need, ok := CCCallOps[opName]
	if !ok {
		s.failWith(c, fail(http.StatusNotFound, "err.not_found", ""))
		return
	}
	if !u.Can(need) {
		s.failWith(c, fail(http.StatusForbidden, "err.forbidden", ""))
		return
	}
	req, f := ccRequest(c)
	if f != nil {
		s.failWith(c, f)
		return
	}
	if err := s.cfg.Live.CCCall(c.Request.Context(), u.Login, c.Param("call"), opName, req); err != nil {
		s.failWith(c, liveFailure(err))
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiCCView(view string) gin.HandlerFunc {
	return func(c *gin.Context) {
		out, err := s.cfg.Live.CCView(c.Request.Context(), view)
		if err != nil {
			s.failWith(c, liveFailure(err))
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", out)
	}
}

// apiCCExport streams a CSV export; from and to (RFC 3339) default to the
// last 24 hours.
func (s *Server) apiCCExport(what string) gin.HandlerFunc {
	return func(c *gin.Context) {
		to, from := time.Now(), time.Time{}
		for _, p := range []struct {
			name string
			t    *time.Time
		}{{"from", &from}, {"to", &to}} {
			if v := c.Query(p.name); v != "" {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					s.failWith(c, fail(http.StatusBadRequest, "err.invalid", p.name))
					return
				}
				*p.t = t
			}
		}
		if from.IsZero() {
			from = to.Add(-24 * time.Hour)
		}
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="cc-`+what+`.csv"`)
		c.Status(http.StatusOK)
		if err := s.cfg.Live.CCExport(c.Request.Context(), c.Writer, what, from, to); err != nil {
			// Headers are gone; the log says why the file is short.
			s.log.Error("webui: export failed", "what", what, "err", err)
		}
	}
}

// liveFailure maps a live operation's error onto the API's answer: the
// service's own reason is shown.
func liveFailure(err error) *failure {
	reason := err.Error()
	for _, sentinel := range []error{ErrNotFound, ErrInvalid, ErrConflict} {
		if errors.Is(err, sentinel) {
			if _, after, ok := strings.Cut(reason, sentinel.Error()+": "); ok {
				reason = after
			}
		}
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return fail(http.StatusNotFound, "err.cc.live.not_found", "", reason)
	case errors.Is(err, ErrInvalid):
		// "state: ready, break or busy": the field first.
		field, _, _ := strings.Cut(reason, ":")
		if strings.ContainsAny(field, " \t") {
			field = ""
		}
		return fail(http.StatusBadRequest, "err.cc.live.invalid", field, reason)
	case errors.Is(err, ErrConflict):
		return fail(http.StatusConflict, "err.cc.live.refused", "", reason)
	}
	return internal(err)
}

// deskLogin binds an agent logging in to the web desk to the extension of
// its PC, when the PC has a binding; a failure is logged and the web
// login goes on.
func (s *Server) deskLogin(ctx context.Context, u User, addr string) {
	agent := agentOf(u)
	if s.cfg.Live == nil || agent == "" {
		return
	}
	if ok, err := s.cfg.Live.CCDeskLogin(ctx, agent, addr); err != nil {
		s.log.Warn("webui: desk login: the agent was not bound to this PC's extension", "agent", agent, "addr", addr, "err", err)
	} else if ok {
		s.log.Info("webui: desk login bound the agent to this PC's extension", "agent", agent, "addr", addr)
	}
}

// deskLogout undoes deskLogin's binding.
func (s *Server) deskLogout(ctx context.Context, u User) {
	agent := agentOf(u)
	if s.cfg.Live == nil || agent == "" {
		return
	}
	if err := s.cfg.Live.CCDeskLogout(ctx, agent); err != nil {
		s.log.Warn("webui: desk logout", "agent", agent, "err", err)
	}
}
