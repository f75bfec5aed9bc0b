package webui

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// The desk's operations that hand the caller to the box for a while: up to
// three prompts and a text (the speech engine), and an IVR flow, each with
// the caller back to the agent after it or released; and a fax to or from
// the caller's machine. They run the live API's agent operations
// (CCLive.CCAgent: play, run-flow or release-ivr, fax-send, fax-receive)
// on the agent's own call, so the desk and the REST API share one path to
// the engine.
//
//	POST /desk/op/play         prompt (up to three), text, back=1 (back to the agent)
//	POST /desk/op/run-flow     flow, back=1 (run it and back to the agent; else the agent is free)
//	POST /desk/op/fax-send     document (a fax document's name)
//	POST /desk/op/fax-receive

// deskPlayMax is how many prompts a desk plays in one go (the issue's
// "up to three"); maxDeskText bounds a spoken text.
const (
	deskPlayMax = 3
	maxDeskText = 500
)

// deskOps are the operations /desk/op serves.
var deskOps = []string{"play", "run-flow", "fax-send", "fax-receive"}

// deskOpRequest reads the form of one of deskOps.
func deskOpRequest(c *gin.Context, op string) (CCRequest, *failure) {
	var req CCRequest
	switch op {
	case "play":
		for _, p := range c.PostFormArray("prompt") {
			if p = strings.TrimSpace(p); p != "" {
				if len(p) > maxDeskPrompt {
					return req, fail(http.StatusBadRequest, "err.desk.prompt", "prompt")
				}
				req.Prompts = append(req.Prompts, p)
			}
		}
		req.Text = strings.TrimSpace(c.PostForm("text"))
		if len([]rune(req.Text)) > maxDeskText {
			return req, fail(http.StatusBadRequest, "err.desk.text", "text", maxDeskText)
		}
		n := len(req.Prompts)
		if req.Text != "" {
			n++
		}
		if n == 0 || n > deskPlayMax {
			return req, fail(http.StatusBadRequest, "err.desk.play_count", "prompt", deskPlayMax)
		}
		req.Release = c.PostForm("back") == ""
	case "run-flow", "release-ivr":
		req.Flow = strings.TrimSpace(c.PostForm("flow"))
		if req.Flow == "" || len(req.Flow) > maxDeskPrompt {
			return req, fail(http.StatusBadRequest, "err.desk.flow", "flow")
		}
	case "fax-send":
		req.Document = strings.TrimSpace(c.PostForm("document"))
		if req.Document == "" || len(req.Document) > maxDeskPrompt {
			return req, fail(http.StatusBadRequest, "err.desk.fax_document", "document")
		}
	}
	return req, nil
}

// postDeskOp runs one of deskOps on the agent's own call and shows the
// desk with what came of it (a fax's record: its id and state).
func (s *Server) postDeskOp(c *gin.Context) {
	u, _ := userOf(c)
	op := c.Param("op")
	var f *failure
	switch {
	case !slices.Contains(deskOps, op):
		f = fail(http.StatusNotFound, "err.not_found", "")
	case s.cfg.Live == nil || u.Agent == "":
		s.renderDesk(c, http.StatusConflict, nil)
		return
	}
	if op == "run-flow" && c.PostForm("back") == "" {
		// Not back to the agent: the caller is handed to the flow and the
		// agent is free (转IVR), rather than run through it (执行流程).
		op = "release-ivr"
	}
	var notice string
	if f == nil {
		var req CCRequest
		req, f = deskOpRequest(c, op)
		if f == nil {
			out, err := s.cfg.Live.CCAgent(c.Request.Context(), u.Login, u.Agent, op, req)
			if err != nil {
				f = liveFailure(err)
				if f.status >= 500 {
					s.log.Error("webui: desk operation", "op", op, "agent", u.Agent, "err", err)
				}
			} else {
				notice = s.deskOpNotice(c, op, out)
			}
		}
	}
	if f != nil {
		s.renderDesk(c, f.status, f)
		return
	}
	// The desk again with the notice (the whole page for a plain form).
	c.Set(keyDeskNotice, notice)
	s.renderDesk(c, http.StatusOK, nil)
}

// keyDeskNotice carries an operation's outcome to renderDesk.
const keyDeskNotice = "callbox.desk_notice"

// deskOpNotice words an operation's success; a fax names its record (the
// fax goes on after the answer: desk.js follows it to its result from the
// engine's fax.progress events).
func (s *Server) deskOpNotice(c *gin.Context, op string, out json.RawMessage) string {
	lang := langOf(c)
	if op == "release-ivr" {
		op = "run-flow"
	}
	if op != "fax-send" && op != "fax-receive" {
		return s.cat.T(lang, "desk.done."+op)
	}
	var rec struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	_ = json.Unmarshal(out, &rec)
	status := rec.Status
	if k := "fax.status." + status; s.cat.Has(k) {
		status = s.cat.T(lang, k)
	}
	return s.cat.T(lang, "desk.done."+op, rec.ID, status)
}

// deskOpChoices fills the desk's play, flow and fax choices: the flows of
// the configuration and the box's fax documents (none when the box has no
// fax service; a failure is logged and leaves the list empty).
func (s *Server) deskOpChoices(c *gin.Context, v *deskView) {
	if s.cfg.Live == nil {
		return
	}
	v.Live = true
	for i := range deskPlayMax {
		v.PlaySlots = append(v.PlaySlots, i+1)
	}
	ctx := c.Request.Context()
	if s.cfg.CallCentre != nil {
		flows, err := s.cfg.CallCentre.FlowList(ctx)
		if err != nil {
			s.log.Warn("webui: desk flows", "err", err)
		}
		v.Flows = flows
	}
	if s.cfg.Fax != nil {
		docs, err := s.cfg.Fax.FaxDocuments(ctx)
		if err != nil {
			s.log.Warn("webui: desk fax documents", "err", err)
		}
		v.FaxDocs = docs
	}
}
