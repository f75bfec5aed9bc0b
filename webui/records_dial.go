package webui

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"callbox/telephony/crm/workorder"
)

// records_dial.go: calls made from a work order (a callback to the
// customer, a call to the crew). The box dials them as the desk's dial
// pad does, through Records.Dial: the agent's phone rings first, then the
// number; the call centre records agents' outbound calls, the recording
// carries the order as its work-order reference, and the order lists the
// call, its recording played in the page.
//
//	POST /api/v1/workorders/:id/dial {"number": "..."} or {"contact": "steps.dispatch.crew_phone"}
//	                                 -> 201 the order, the call linked
//	POST /workorders/:id/dial        form: number or contact -> the order's page
//
// A contact is one of the numbers the order offers (workorder.Contacts:
// the customer's, the crew's), looked up here so a caller need not know it.

// orderCallView is a call of an order as its page shows it.
type orderCallView struct {
	workorder.CallLink
	// URL plays the recording, when the media recorder keeps it.
	URL string
}

func (s *Server) orderDialRoutes(authed *gin.RouterGroup, e *gin.Engine) {
	authed.POST("/workorders/:id/dial", s.need(PermDeskOutbound), s.needRecords, s.apiOrderDial)
	e.POST("/workorders/:id/dial", s.requireUser(false), s.need(PermDeskOutbound), s.needRecords, s.postOrderDial)
}

// dialOrder places the call, to number or to the order's contact, and
// links it to order id; a *failure says why not.
func (s *Server) dialOrder(c *gin.Context, id uint64, number, contact string) (workorder.Order, *failure) {
	if _, err := s.orderView(c, id); err != nil {
		return workorder.Order{}, recordsFailure(err)
	}
	if contact != "" {
		ct, err := s.rec().Orders.Contact(id, contact)
		if err != nil {
			return workorder.Order{}, recordsFailure(err)
		}
		number = ct.Number
	}
	num, f := deskNumber(dialable(strings.TrimSpace(number)), "number")
	if f != nil {
		return workorder.Order{}, f
	}
	u, _ := userOf(c)
	agent := agentOf(u)
	rec := s.rec()
	if rec.Dial == nil || agent == "" {
		return workorder.Order{}, fail(http.StatusConflict, "err.order.no_desk", "")
	}
	call, err := rec.Dial(c.Request.Context(), agent, num, id)
	if err != nil {
		var rf *failure
		if !errors.As(refusedWhy(err), &rf) {
			rf = deskFailure(err)
		}
		if rf.status >= 500 {
			s.log.Error("webui: a call from a work order", "order", id, "agent", agent, "err", err)
		}
		return workorder.Order{}, rf
	}
	o, err := rec.Orders.LinkCall(actorOf(c), id, workorder.CallLink{Call: call, Number: num})
	if err != nil {
		// The call goes on; its recording still names the order.
		s.log.Error("webui: a call from a work order not linked", "order", id, "call", call, "err", err)
		return workorder.Order{}, recordsFailure(err)
	}
	return o, nil
}

func (s *Server) apiOrderDial(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	var in struct {
		Number  string `json:"number"`
		Contact string `json:"contact"`
	}
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	o, f := s.dialOrder(c, id, in.Number, in.Contact)
	if f != nil {
		s.failWith(c, f)
		return
	}
	c.JSON(http.StatusCreated, o)
}

func (s *Server) postOrderDial(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	if _, f := s.dialOrder(c, id, c.PostForm("number"), c.PostForm("contact")); f != nil {
		s.renderOrder(c, id, f, "")
		return
	}
	redirectMsg(c, fmt.Sprintf("/workorders/%d", id), "dialled")
}

// dialable is a stored number as the box dials it: a leading + becomes the
// international prefix 00.
func dialable(n string) string {
	if rest, ok := strings.CutPrefix(n, "+"); ok {
		return "00" + rest
	}
	return n
}

// orderCalls are the order's calls with their recordings, a source that
// fails leaving them without (the order still shows).
func (s *Server) orderCalls(calls []workorder.CallLink) []orderCallView {
	out := make([]orderCallView, len(calls))
	var ids []string
	for i, cl := range calls {
		out[i].CallLink = cl
		if cl.Call != "" {
			ids = append(ids, cl.Call)
		}
	}
	src := s.rec().Recordings
	if src == nil || len(ids) == 0 {
		return out
	}
	recs, err := src.CallRecordings(ids)
	if err != nil {
		s.log.Warn("webui: work order recordings", "err", err)
		return out
	}
	for i := range out {
		for _, r := range recs {
			if r.Call == out[i].Call {
				if out[i].Recording == "" {
					out[i].Recording = r.ID
				}
				out[i].URL = r.URL
			}
		}
	}
	return out
}
