package webui

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"callbox/telephony/crm"
)

// deskCustomer is the customer part of the screen-pop: the caller's card
// when the directory knows the number, else the form that adds them.
type deskCustomer struct {
	// Card is the first customer with the caller's number; Others the
	// rest (a shared office number), shown as links.
	Card   *crm.Card
	Others []crm.Customer
	// Category names the card's category.
	Category   string
	Categories []crm.Category
	CommTypes  []crm.CommType
	// Form is a refused new customer shown again; FormNumbers its numbers.
	Form        crm.Customer
	FormNumbers string
	// Field is the refused field, beside which the error shows.
	Field string
	// Broken: the directory could not be read; the desk works without it.
	Broken bool
}

// deskCardRoutes registers what the screen-pop's card posts: a new
// customer from the caller's number, a communication note for the call.
func (s *Server) deskCardRoutes(g *gin.RouterGroup) {
	g.POST("/customer", s.deskRecords(func(c *gin.Context, dir *crm.Directory) (crm.Customer, error) {
		in := customerForm(c)
		if in.Category == 0 {
			return in, crm.Invalid("customer", "category", "required")
		}
		_, err := dir.Create(actorOf(c), in)
		return in, err
	}))
	g.POST("/comm", s.deskRecords(func(c *gin.Context, dir *crm.Directory) (crm.Customer, error) {
		in := crm.Comm{Customer: atoiDefault(c.PostForm("customer"), 0), Type: atoiDefault(c.PostForm("type"), 0),
			Text: c.PostForm("text"), Call: strings.TrimSpace(c.PostForm("call"))}
		_, err := dir.AddComm(actorOf(c), in)
		return crm.Customer{}, err
	}))
}

// deskRecords runs a records action from the desk and shows the desk
// again, with the refusal beside its field and the refused form kept.
func (s *Server) deskRecords(act func(c *gin.Context, dir *crm.Directory) (crm.Customer, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.cfg.Records == nil {
			s.renderDesk(c, http.StatusServiceUnavailable, fail(http.StatusServiceUnavailable, "err.records.unavailable", ""))
			return
		}
		form, err := act(c, s.cfg.Records.Customers)
		if err != nil {
			f := recordsFailure(err)
			if f.status >= 500 {
				s.log.Error("webui: desk records", "path", c.Request.URL.Path, "err", err)
			}
			c.Set(deskFormKey, form)
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

// deskFormKey carries a refused new customer to renderDesk.
const deskFormKey = "deskCustomerForm"

// deskCustomerOf looks the caller's number up for the screen-pop. A
// directory that fails is logged and leaves the rest of the desk working.
func (s *Server) deskCustomerOf(c *gin.Context, number string, f *failure) *deskCustomer {
	if s.cfg.Records == nil || number == "" {
		return nil
	}
	dir := s.cfg.Records.Customers
	a := actorOf(c)
	out := &deskCustomer{}
	if f != nil {
		out.Field = f.field
	}
	broken := func(err error) *deskCustomer {
		s.log.Error("webui: desk screen-pop", "number", number, "err", err)
		return &deskCustomer{Broken: true}
	}
	var err error
	if out.Categories, err = dir.Categories(); err != nil {
		return broken(err)
	}
	if out.CommTypes, err = dir.CommTypes(); err != nil {
		return broken(err)
	}
	found, err := dir.Lookup(a, number)
	if err != nil {
		// A number the directory cannot parse (an anonymous caller): the
		// form, without the number.
		found = nil
	}
	if len(found) == 0 {
		out.Form = crm.Customer{Phones: []crm.Phone{{Number: number}}}
		if v, ok := c.Get(deskFormKey); ok {
			if form, ok := v.(crm.Customer); ok && c.Request.URL.Path == "/desk/customer" {
				out.Form = form
			}
		}
		out.FormNumbers = numbersText(out.Form)
		return out
	}
	card, err := dir.Card(a, found[0].ID)
	if err != nil {
		return broken(err)
	}
	if len(card.Calls) > 5 {
		card.Calls = card.Calls[:5]
	}
	if len(card.Comms) > 5 {
		card.Comms = card.Comms[:5]
	}
	if len(card.Orders) > 5 {
		card.Orders = card.Orders[:5]
	}
	out.Card, out.Others = &card, found[1:]
	for _, cat := range out.Categories {
		if cat.ID == card.Customer.Category {
			out.Category = cat.Name
		}
	}
	return out
}

// CommTypeName names a communication type on the desk's card.
func (d *deskCustomer) CommTypeName(id uint64) string {
	for _, t := range d.CommTypes {
		if t.ID == id {
			return t.Name
		}
	}
	return ""
}
