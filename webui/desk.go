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
	// DeskConsult rings arg while the caller holds (consultative
	// transfer), DeskSwap alternates between them and the caller (the
	// other holds), DeskComplete leaves the caller with them, DeskDropThird
	// ends a consultation (the caller comes back) or drops a conference's
	// third party; DeskInvite rings arg into a three-way call; DeskPlay
	// plays the prompt arg to the caller, then the caller is back with the
	// agent.
	CallOp(ctx context.Context, agent, op, arg string) error
	// Dial calls number from the agent's phone (click to dial): the phone
	// rings first, then the number, presenting callerID (one of
	// AgentLine.CallerIDs; "" the route's own).
	Dial(ctx context.Context, agent, number, callerID string) error
	// Colleagues lists the call centre's agents with their live state and
	// groups: the transfer targets the desk searches.
	Colleagues(ctx context.Context) ([]Colleague, error)
}

// Colleague is an agent as a colleague's desk sees it.
type Colleague struct {
	Agent string
	Name  string
	// State is one of the Desk* states, Reason a break's.
	State  string
	Reason string
	Groups []string
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
	// Consultation and conference (DeskCall.Third says which is on).
	DeskConsult   = "consult"
	DeskComplete  = "complete"
	DeskDropThird = "drop-third"
	DeskInvite    = "invite"
	DeskSwap      = "swap"
	DeskPlay      = "play"
)

// maxDeskPrompt bounds a prompt's name on the desk (the prompts' own
// limit is checked by the call centre).
const maxDeskPrompt = 128

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
	// CallerIDs are the numbers the agent may present on an outbound
	// call (the call centre's caller IDs).
	CallerIDs []DeskCallerID
}

// DeskCallerID is an outbound caller ID an agent may present.
type DeskCallerID struct {
	Number      string
	Description string
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
	// Third is "consult" while the agent consults a third party (the
	// caller on hold), "conference" in a three-way call, "" otherwise.
	Third string
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
		case DeskHold, DeskResume, DeskHangup, DeskComplete, DeskDropThird, DeskSwap:
		case DeskTransfer, DeskDTMF, DeskConsult, DeskInvite:
			v, f := deskNumber(c.PostForm("number"), "number")
			if f != nil {
				return f
			}
			arg = v
		case DeskRecord:
			if arg = c.PostForm("on"); arg != "on" && arg != "off" {
				return fail(http.StatusBadRequest, "err.desk.invalid", "on")
			}
		case DeskPlay:
			arg = strings.TrimSpace(c.PostForm("prompt"))
			if arg == "" || len(arg) > maxDeskPrompt {
				return fail(http.StatusBadRequest, "err.desk.prompt", "prompt")
			}
		default:
			return fail(http.StatusNotFound, "err.not_found", "")
		}
		err := d.CallOp(c.Request.Context(), agent, op, arg)
		switch {
		case op == DeskPlay && errors.Is(err, ErrInvalid):
			return fail(http.StatusBadRequest, "err.desk.prompt", "prompt")
		}
		return refusedWhy(err)
	}))
	g.POST("/dial", s.need(PermDeskOutbound), s.deskAction(func(c *gin.Context, d Desk, agent string) error {
		v, f := deskNumber(c.PostForm("number"), "number")
		if f != nil {
			return f
		}
		cid := strings.TrimSpace(c.PostForm("caller_id"))
		if cid != "" {
			if cid, f = deskNumber(cid, "caller_id"); f != nil {
				return f
			}
		}
		return refusedWhy(d.Dial(c.Request.Context(), agent, v, cid))
	}))
	s.deskCardRoutes(g)
	g.GET("/colleagues", s.deskColleagues)
	g.POST("/op/:op", s.postDeskOp)
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

// refusedWhy words a call operation's refusal with the call centre's own
// reason (which party is busy, what is already in the call, a caller ID
// not allowed); other errors are deskFailure's.
func refusedWhy(err error) error {
	if !errors.Is(err, ErrDeskRefused) {
		return err
	}
	f := fail(http.StatusConflict, "err.desk.refused_call", "", errText(err, ErrDeskRefused))
	f.err = err
	return f
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
	// Customer is the caller's card or the new-customer form (nil
	// without a call or without the records).
	Customer *deskCustomer
	// Prompts are the prompts the agent may play to the caller, Flows the
	// IVR flows it may hand the caller to and FaxDocs the fax documents it
	// may send (deskops.go; empty without the live API).
	Prompts []string
	Flows   []FlowSummary
	FaxDocs []string
	// Live: the live API runs (the desk's play, flow and fax forms);
	// PlaySlots numbers the play form's prompt choices.
	Live      bool
	PlaySlots []int
	// Notice is what the last operation came to (a fax's record).
	Notice string
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
			if line.Call != nil {
				v.Customer = s.deskCustomerOf(c, line.Call.Number, f)
				if !line.Call.Ringing {
					v.Prompts = s.deskPrompts(c)
					s.deskOpChoices(c, &v)
				}
			}
		}
	}
	if f != nil {
		v.Error = s.failText(c, f)
	}
	v.Notice = c.GetString(keyDeskNotice)
	d := gin.H{"Desk": v}
	if c.GetHeader(deskPartHeader) != "" {
		s.renderPart(c, status, "desk", "desk-part", d)
		return
	}
	s.render(c, status, "desk", d)
}

// deskPrompts names the prompts the agent may play to the caller: those
// of the box's first prompt language whose audio is there.
func (s *Server) deskPrompts(c *gin.Context) []string {
	if s.cfg.Prompts == nil {
		return nil
	}
	langs := s.cfg.Prompts.PromptLanguages()
	if len(langs) == 0 {
		return nil
	}
	list, err := s.cfg.Prompts.PromptList(c.Request.Context(), langs[0])
	if err != nil {
		s.log.Warn("webui: desk prompts", "err", err)
		return nil
	}
	var out []string
	for _, p := range list {
		if !p.Missing {
			out = append(out, p.Name)
		}
	}
	return out
}
