package webui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Desk is the live call centre as the agent workbench (座席工作台) uses it:
// one agent's live line and what an agent does to itself. The firmware
// adapts the call-centre service (telephony/cc) to it. Agents are named by
// their work number (User.Agent).
//
// Errors wrap ErrNotFound (no such agent), ErrDeskRefused (not allowed
// in the agent's state: ringing, talking, not in wrap-up, not in a call),
// ErrInvalid (a device or state the call centre does not know) or
// ErrDeskUnavailable; the text after the sentinel says why.
type Desk interface {
	// AgentLine returns the agent's state, device and current call.
	AgentLine(ctx context.Context, agent string) (AgentLine, error)
	// Login signs the agent in on a device (an extension; "" keeps the
	// bound or configured one).
	Login(ctx context.Context, agent, device string) error
	// Logout signs the agent out and unbinds the device.
	Logout(ctx context.Context, agent string) error
	// SetState sets the agent's own state: DeskReady, DeskBreak (with a
	// reason) or DeskBusy.
	SetState(ctx context.Context, agent, state, reason string) error
	// WrapUpDone ends the agent's after-call work.
	WrapUpDone(ctx context.Context, agent string) error
	// CallOp acts on the agent's call: DeskHold, DeskResume, DeskHangup;
	// DeskTransfer to arg (a work number, else a number the dial plan
	// takes: an extension or an outside number); DeskDTMF sends the digits
	// arg to the caller; DeskRecord starts (arg "on") or stops recording.
	CallOp(ctx context.Context, agent, op, arg string) error
	// Dial calls number from the agent's phone (click to dial): the phone
	// rings first, then the number.
	Dial(ctx context.Context, agent, number string) error
}

// Sentinels a Desk wraps.
var (
	// ErrDeskRefused: the agent's state does not allow the action now;
	// the page says so beside the controls.
	ErrDeskRefused = errors.New("webui: not allowed now")
	// ErrDeskUnavailable: the call centre is not running now.
	ErrDeskUnavailable = errors.New("webui: call centre not running")
)

// Agent states as the call centre names them (AgentLine.State).
const (
	DeskOffline = "offline"
	DeskReady   = "idle"
	DeskBreak   = "break"
	DeskBusy    = "busy"
	DeskRinging = "ringing"
	DeskTalking = "talking"
	DeskWrapUp  = "wrap_up"
)

// In-call operations (Desk.CallOp).
const (
	DeskHold     = "hold"
	DeskResume   = "resume"
	DeskHangup   = "hangup"
	DeskTransfer = "transfer"
	DeskDTMF     = "dtmf"
	DeskRecord   = "record"
)

// maxDeskNumber bounds a number typed on the desk (a transfer's target,
// digits, a number to dial).
const maxDeskNumber = 32

// deskNumber checks a number typed on the desk: 1-32 of the telephone
// keys.
func deskNumber(v, field string) (string, *failure) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > maxDeskNumber || strings.Trim(v, "0123456789*#") != "" {
		return "", fail(http.StatusBadRequest, "err.desk.number", field, maxDeskNumber)
	}
	return v, nil
}

// BreakReasons are the reasons an agent gives for a break, as stored with
// the state; the page words them from the catalogue ("desk.reason.meal").
var BreakReasons = []string{"rest", "meal", "meeting", "training", "other"}

// AgentLine is an agent's live line on the workbench.
type AgentLine struct {
	Agent string
	Name  string
	// State is one of the Desk* states; Reason is a break's.
	State  string
	Reason string
	Since  time.Time
	// Device is the bound phone ("" when signed out); Registered is
	// false when it is unavailable (unregistered, port failed).
	Device     string
	Registered bool
	// Answered and TalkTime count today's calls.
	Answered int
	TalkTime time.Duration
	// Call is the call ringing or in service, nil for none.
	Call *DeskCall
}

// DeskCall is the screen-pop: the call ringing the agent or in service.
type DeskCall struct {
	ID     string
	Number string
	// Region and RegionEN name where a landline is from ("南京",
	// "Nanjing"), "" when unknown; Mobile marks a mobile number.
	Region       string
	RegionEN     string
	Mobile       bool
	Group        string
	CustomerType string
	Ringing      bool
	Since        time.Time
	Held         bool
	Recorded     bool
	Outbound     bool
}

// maxDeskDevice bounds the extension a desk logs in on.
const maxDeskDevice = 16

// deskPartHeader asks a desk route for the live part of the page only (the
// script swaps it in).
const deskPartHeader = "X-Desk-Part"

// deskRoutes registers the workbench: GET /desk, and the forms it posts
// (each checks PermDesk and acts only on the user's own agent).
func (s *Server) deskRoutes(e *gin.Engine) {
	g := e.Group("/desk", s.requireUser(false), s.need(PermDesk))
	g.GET("", s.pageDesk)
	g.POST("/login", s.deskAction(func(c *gin.Context, d Desk, agent string) error {
		dev := strings.TrimSpace(c.PostForm("device"))
		if len(dev) > maxDeskDevice || strings.Trim(dev, "0123456789") != "" {
			return fail(http.StatusBadRequest, "err.desk.device", "device", maxDeskDevice)
		}
		return d.Login(c.Request.Context(), agent, dev)
	}))
	g.POST("/logout", s.deskAction(func(c *gin.Context, d Desk, agent string) error {
		return d.Logout(c.Request.Context(), agent)
	}))
	g.POST("/state", s.deskAction(func(c *gin.Context, d Desk, agent string) error {
		state, reason := c.PostForm("state"), ""
		switch state {
		case DeskReady, DeskBusy:
		case DeskBreak:
			reason = c.PostForm("reason")
			if !slices.Contains(BreakReasons, reason) {
				return fail(http.StatusBadRequest, "err.desk.reason", "reason")
			}
		default:
			return fail(http.StatusBadRequest, "err.desk.state", "state")
		}
		return d.SetState(c.Request.Context(), agent, state, reason)
	}))
	g.POST("/wrap-up", s.deskAction(func(c *gin.Context, d Desk, agent string) error {
		return d.WrapUpDone(c.Request.Context(), agent)
	}))
	g.POST("/call/:op", s.deskAction(func(c *gin.Context, d Desk, agent string) error {
		op, arg := c.Param("op"), ""
		switch op {
		case DeskHold, DeskResume, DeskHangup:
		case DeskTransfer, DeskDTMF:
			v, f := deskNumber(c.PostForm("number"), "number")
			if f != nil {
				return f
			}
			arg = v
		case DeskRecord:
			if arg = c.PostForm("on"); arg != "on" && arg != "off" {
				return fail(http.StatusBadRequest, "err.desk.invalid", "on")
			}
		default:
			return fail(http.StatusNotFound, "err.not_found", "")
		}
		return d.CallOp(c.Request.Context(), agent, op, arg)
	}))
	g.POST("/dial", s.need(PermDeskOutbound), s.deskAction(func(c *gin.Context, d Desk, agent string) error {
		v, f := deskNumber(c.PostForm("number"), "number")
		if f != nil {
			return f
		}
		return d.Dial(c.Request.Context(), agent, v)
	}))
}

// pageDesk shows the workbench; with the X-Desk-Part header only its live
// part, which the script fetches when an event concerns the agent.
func (s *Server) pageDesk(c *gin.Context) {
	s.renderDesk(c, http.StatusOK, nil)
}

// deskAction runs one of the agent's actions on itself and shows the desk
// again (a redirect for a plain form, the live part for the script), with
// the refusal beside the controls.
func (s *Server) deskAction(act func(c *gin.Context, d Desk, agent string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, _ := userOf(c)
		if s.cfg.Desk == nil || u.Agent == "" {
			s.renderDesk(c, http.StatusConflict, nil)
			return
		}
		if err := act(c, s.cfg.Desk, u.Agent); err != nil {
			var f *failure
			if !errors.As(err, &f) {
				f = deskFailure(err)
			}
			if f.status >= 500 {
				s.log.Error("webui: desk action", "path", c.Request.URL.Path, "agent", u.Agent, "err", err)
			}
			s.renderDesk(c, f.status, f)
			return
		}
		if c.GetHeader(deskPartHeader) != "" {
			s.renderDesk(c, http.StatusOK, nil)
			return
		}
		c.Redirect(http.StatusSeeOther, "/desk")
	}
}

// deskFailure maps a Desk error to a status and a message.
func deskFailure(err error) *failure {
	var f *failure
	switch {
	case errors.Is(err, ErrDeskRefused):
		f = fail(http.StatusConflict, "err.desk.refused", "")
	case errors.Is(err, ErrNotFound):
		f = fail(http.StatusNotFound, "err.desk.no_agent", "")
	case errors.Is(err, ErrInvalid):
		f = fail(http.StatusBadRequest, "err.desk.invalid", "device")
	case errors.Is(err, ErrDeskUnavailable):
		f = fail(http.StatusServiceUnavailable, "desk.unavailable", "")
	default:
		f = internal(err)
		return f
	}
	f.err = err
	return f
}

// deskView is what desk.html shows.
type deskView struct {
	// Problem says why the desk cannot work ("" when it can): a catalogue
	// key.
	Problem string
	Line    AgentLine
	Error   string
	Reasons []string
	Now     time.Time
	// CanDial: the user may call out (PermDeskOutbound).
	CanDial bool
}

// renderDesk renders the workbench, or only its live part when the script
// asked, with f's message if an action was refused.
func (s *Server) renderDesk(c *gin.Context, status int, f *failure) {
	u, _ := userOf(c)
	v := deskView{Reasons: BreakReasons, Now: s.now(), CanDial: u.Can(PermDeskOutbound)}
	switch {
	case u.Agent == "":
		v.Problem = "desk.no_agent"
	case s.cfg.Desk == nil:
		v.Problem = "desk.unavailable"
	default:
		line, err := s.cfg.Desk.AgentLine(c.Request.Context(), u.Agent)
		switch {
		case errors.Is(err, ErrNotFound):
			v.Problem = "desk.unknown_agent"
		case err != nil:
			if !errors.Is(err, ErrDeskUnavailable) {
				s.log.Error("webui: desk", "agent", u.Agent, "err", err)
			}
			v.Problem = "desk.unavailable"
		default:
			v.Line = line
		}
	}
	if f != nil {
		v.Error = s.failText(c, f)
	}
	d := gin.H{"Desk": v}
	if c.GetHeader(deskPartHeader) != "" {
		s.renderPart(c, status, "desk", "desk-part", d)
		return
	}
	s.render(c, status, "desk", d)
}
