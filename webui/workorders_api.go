package webui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"callbox/telephony/crm/workorder"
)

// The work orders' API. Who may take each step is the lifecycle's data;
// the rest is workorder's rule (its package doc).
//
//	GET    /api/v1/workorders?mine=1&open=1&state=&customer=&category=&before=&limit=
//	POST   /api/v1/workorders                      open one (assignee, group, due optional)
//	GET    /api/v1/workorders/:id                  order, lifecycle, steps the caller may take, trail
//	PATCH  /api/v1/workorders/:id                  edit texts and fields ({"version", "edit": {...}})
//	POST   /api/v1/workorders/:id/steps/:step      {"version": n, "values": {...}}
//	POST   /api/v1/workorders/:id/assign           {"assignee", "group", "due"}
//	POST   /api/v1/workorders/:id/ack              the assignee's receipt; tells the creator
//	POST   /api/v1/workorders/:id/calls            link a call made from the order
//	GET    /api/v1/workorder-categories, POST, PUT /api/v1/workorder-categories/:id
//	GET    /api/v1/workorder-lifecycles, PUT /api/v1/workorder-lifecycles/:id
//	GET    /api/v1/workorder-groups, POST, PUT /api/v1/workorder-groups/:id
//	GET    /api/v1/pending                         {"orders", "notices", "total"} for the caller
//	GET    /api/v1/notices, POST /api/v1/notices/read
func (s *Server) workOrderRoutes(g *gin.RouterGroup) {
	g.GET("/workorders", s.apiOrders)
	g.POST("/workorders", s.apiOrderCreate)
	g.GET("/workorders/:id", s.apiOrder)
	g.PATCH("/workorders/:id", s.apiOrderEdit)
	g.POST("/workorders/:id/steps/:step", s.apiOrderStep)
	g.POST("/workorders/:id/assign", s.apiOrderAssign)
	g.POST("/workorders/:id/ack", s.apiOrderAck)
	g.POST("/workorders/:id/calls", s.apiOrderCall)
	g.GET("/workorder-categories", s.apiOrderCategories)
	g.POST("/workorder-categories", s.apiOrderCategorySave)
	g.PUT("/workorder-categories/:id", s.apiOrderCategorySave)
	g.GET("/workorder-lifecycles", s.apiLifecycles)
	g.PUT("/workorder-lifecycles/:id", s.apiLifecycleSave)
	g.GET("/workorder-groups", s.apiOrderGroups)
	g.POST("/workorder-groups", s.apiOrderGroupSave)
	g.PUT("/workorder-groups/:id", s.apiOrderGroupSave)
	g.GET("/pending", s.apiPending)
	g.GET("/notices", s.apiNotices)
	g.POST("/notices/read", s.apiNoticesRead)
}

func (s *Server) apiOrders(c *gin.Context) {
	f := workorder.Filter{Mine: c.Query("mine") == "1", Open: c.Query("open") == "1", State: c.Query("state")}
	for _, p := range []struct {
		name string
		dst  *uint64
	}{{"customer", &f.Customer}, {"category", &f.Category}, {"before", &f.Before}} {
		if v := c.Query(p.name); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				s.failWith(c, fail(http.StatusBadRequest, "err.records.query", p.name, p.name, uint64(1<<63)))
				return
			}
			*p.dst = n
		}
	}
	limit, ok := s.intQuery(c, "limit", 100, 500)
	if !ok {
		return
	}
	f.Limit = limit
	out, err := s.rec().Orders.List(actorOf(c), f)
	s.answer(c, http.StatusOK, gin.H{"orders": out}, err)
}

func (s *Server) apiOrderCreate(c *gin.Context) {
	var in workorder.NewOrder
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	out, err := s.rec().Orders.Create(actorOf(c), in)
	if err == nil {
		c.Header("Location", "/api/v1/workorders/"+strconv.FormatUint(out.ID, 10))
	}
	s.answer(c, http.StatusCreated, out, err)
}

// orderView is an order with what the caller needs to act on it.
type orderView struct {
	Order     workorder.Order     `json:"order"`
	Lifecycle workorder.Lifecycle `json:"lifecycle"`
	Steps     []workorder.Step    `json:"steps"` // the steps the caller may take now
	Trail     []workorder.Audit   `json:"trail"`
	// Contacts are the numbers the order offers to call (the customer's,
	// the crew's).
	Contacts []workorder.Contact `json:"contacts"`
}

func (s *Server) orderView(c *gin.Context, id uint64) (orderView, error) {
	o := s.rec().Orders
	var v orderView
	var err error
	if v.Order, err = o.Get(id); err != nil {
		return v, err
	}
	s.callRecordings(v.Order.Calls)
	ls, err := o.Lifecycles()
	if err != nil {
		return v, err
	}
	for _, l := range ls {
		if l.ID == v.Order.Lifecycle {
			v.Lifecycle = l
		}
	}
	if v.Steps, err = o.Steps(actorOf(c), id); err != nil {
		return v, err
	}
	if v.Steps == nil {
		v.Steps = []workorder.Step{}
	}
	if v.Trail, err = o.Trail(id); err != nil {
		return v, err
	}
	v.Contacts, err = o.Contacts(id)
	return v, err
}

// callRecordings fills in the recordings of calls linked without one. A
// source that fails leaves them blank: the order still shows.
func (s *Server) callRecordings(calls []workorder.CallLink) {
	src := s.rec().Recordings
	var ids []string
	for _, cl := range calls {
		if cl.Recording == "" && cl.Call != "" {
			ids = append(ids, cl.Call)
		}
	}
	if src == nil || len(ids) == 0 {
		return
	}
	recs, err := src.CallRecordings(ids)
	if err != nil {
		s.log.Warn("webui: work order recordings", "err", err)
		return
	}
	for i := range calls {
		for _, r := range recs {
			if calls[i].Recording == "" && r.Call == calls[i].Call {
				calls[i].Recording = r.ID
			}
		}
	}
}

func (s *Server) apiOrder(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		v, err := s.orderView(c, id)
		s.answer(c, http.StatusOK, v, err)
	}
}

func (s *Server) apiOrderEdit(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	var in struct {
		Version uint64         `json:"version"`
		Edit    workorder.Edit `json:"edit"`
	}
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	out, err := s.rec().Orders.Update(actorOf(c), id, in.Version, in.Edit)
	s.answer(c, http.StatusOK, out, err)
}

// stepInput is the body of a step.
type stepInput struct {
	Version uint64            `json:"version"`
	Values  map[string]string `json:"values"`
}

func (s *Server) apiOrderStep(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	var in stepInput
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	out, opened, err := s.rec().Orders.Take(actorOf(c), id, c.Param("step"), in.Version, in.Values)
	body := gin.H{"order": out}
	if opened != 0 {
		body["opened"] = opened
	}
	s.answer(c, http.StatusOK, body, err)
}

// assignInput is the body of an assignment.
type assignInput struct {
	Assignee string    `json:"assignee"`
	Group    uint64    `json:"group"`
	Due      time.Time `json:"due"`
}

func (s *Server) apiOrderAssign(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	var in assignInput
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	out, err := s.rec().Orders.Assign(actorOf(c), id, in.Assignee, in.Group, in.Due)
	s.answer(c, http.StatusOK, out, err)
}

func (s *Server) apiOrderAck(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		out, err := s.rec().Orders.Ack(actorOf(c), id)
		s.answer(c, http.StatusOK, out, err)
	}
}

func (s *Server) apiOrderCall(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	var in workorder.CallLink
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	out, err := s.rec().Orders.LinkCall(actorOf(c), id, in)
	s.answer(c, http.StatusOK, out, err)
}

func (s *Server) apiOrderCategories(c *gin.Context) {
	out, err := s.rec().Orders.Categories()
	s.answer(c, http.StatusOK, gin.H{"categories": out}, err)
}

func (s *Server) apiOrderCategorySave(c *gin.Context) {
	id, ok := s.optID(c)
	if !ok {
		return
	}
	var in workorder.Category
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	in.ID = id
	out, err := s.rec().Orders.SaveCategory(actorOf(c), in)
	s.answer(c, createdOr(id), out, err)
}

func (s *Server) apiLifecycles(c *gin.Context) {
	out, err := s.rec().Orders.Lifecycles()
	s.answer(c, http.StatusOK, gin.H{"lifecycles": out}, err)
}

func (s *Server) apiLifecycleSave(c *gin.Context) {
	var in workorder.Lifecycle
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	in.ID = c.Param("id")
	out, err := s.rec().Orders.SaveLifecycle(actorOf(c), in)
	s.answer(c, http.StatusOK, out, err)
}

func (s *Server) apiOrderGroups(c *gin.Context) {
	out, err := s.rec().Orders.Groups()
	s.answer(c, http.StatusOK, gin.H{"groups": out}, err)
}

func (s *Server) apiOrderGroupSave(c *gin.Context) {
	id, ok := s.optID(c)
	if !ok {
		return
	}
	var in workorder.Group
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	in.ID = id
	out, err := s.rec().Orders.SaveGroup(actorOf(c), in)
	s.answer(c, createdOr(id), out, err)
}

func (s *Server) apiPending(c *gin.Context) {
	p, err := s.rec().Orders.PendingFor(actorOf(c).Login)
	s.answer(c, http.StatusOK, gin.H{"orders": p.Orders, "notices": p.Notices, "total": p.Total()}, err)
}

func (s *Server) apiNotices(c *gin.Context) {
	out, err := s.rec().Orders.Notices(actorOf(c).Login)
	s.answer(c, http.StatusOK, gin.H{"notices": out}, err)
}

func (s *Server) apiNoticesRead(c *gin.Context) {
	s.answer(c, http.StatusNoContent, nil, s.rec().Orders.MarkRead(actorOf(c).Login))
}
