package webui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

// customerSMSRoutes: an SMS to a customer from the card, for holders of
// PermSMS who may see the customer (a private contact is its owner's):
//
//	POST /api/v1/customers/:id/sms {"text", "number"?} -> the queued message
//	POST /customers/:id/sms (the card's form)           -> back to the card
//
// number must be one of the customer's (as stored, normalised); without
// it the first labelled "mobile" (or 手机), else the first, is used.
func (s *Server) customerSMSRoutes(e *gin.Engine, authed *gin.RouterGroup) {
	authed.POST("/customers/:id/sms", s.need(PermSMS), s.needRecords, s.apiCustomerSMS)
	e.POST("/customers/:id/sms", s.requireUser(false), s.need(PermSMS), s.needRecords, s.postCustomerSMS)
}

// canSMS says whether the card offers its SMS form to the viewer.
func (s *Server) canSMS(c *gin.Context) bool {
	u, ok := userOf(c)
	return ok && u.Can(PermSMS) && s.cfg.Outside != nil
}

func (s *Server) apiCustomerSMS(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	var req struct {
		Text   string `json:"text"`
		Number string `json:"number"`
	}
	if f := decodeJSON(c, &req); f != nil {
		s.failWith(c, f)
		return
	}
	v, f := s.smsToCustomer(c, id, req.Text, req.Number)
	if f != nil {
		s.failWith(c, f)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (s *Server) postCustomerSMS(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	if _, f := s.smsToCustomer(c, id, c.PostForm("text"), c.PostForm("number")); f != nil {
		if f.status >= 500 {
			s.failWith(c, f)
			return
		}
		s.renderCard(c, id, f, nil)
		return
	}
	redirectMsg(c, fmt.Sprintf("/customers/%d", id), "sms_queued")
}

// smsToCustomer queues text to one of customer id's numbers.
func (s *Server) smsToCustomer(c *gin.Context, id uint64, text, number string) (any, *failure) {
	cu, err := s.rec().Customers.Get(actorOf(c), id)
	if err != nil {
		return nil, recordsFailure(err)
	}
	numbers := cu.Numbers()
	switch {
	case number != "" && !slices.Contains(numbers, number):
		return nil, outsideFailure(invalidf("number " + number + " is not the customer's"))
	case number == "" && len(numbers) == 0:
		return nil, outsideFailure(invalidf("the customer has no number"))
	case number == "":
		number = numbers[0]
		for _, p := range cu.Phones {
			if p.Label == "mobile" || p.Label == "手机" {
				number = p.Number
				break
			}
		}
	}
	o := s.cfg.Outside
	if o == nil {
		return nil, fail(http.StatusServiceUnavailable, "err.outside.unavailable", "")
	}
	body, err := json.Marshal(gin.H{"to": []string{number}, "text": text})
	if err != nil {
		return nil, internal(err)
	}
	u, _ := userOf(c)
	v, err := o.SendSMS(c.Request.Context(), body, u.Login)
	if err != nil {
		return nil, outsideFailure(err)
	}
	return v, nil
}
