package webui

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"callbox/telephony/crm"
)

// The customer-service records' API (customers, communication types and
// records; the knowledge base in kb_api.go, work orders in
// workorders_api.go). Every user may read; what each role may change is
// the record packages' rule (crm's package doc), answered 403 here:
//
//	GET    /api/v1/customers?q=&limit=            search (number, name, pinyin, company, address)
//	GET    /api/v1/customers?offset=&limit=       list, by id
//	GET    /api/v1/customers/lookup?number=       screen-pop: every customer with the number
//	POST   /api/v1/customers                      create
//	GET    /api/v1/customers/:id                  one
//	PUT    /api/v1/customers/:id                  replace (send "version" to refuse a stale edit)
//	DELETE /api/v1/customers/:id
//	GET    /api/v1/customers/:id/card             customer, calls, communications, work orders, recordings
//	GET    /api/v1/customers/:id/comms            communication records, newest first
//	POST   /api/v1/customers/:id/comms            add one
//	GET|POST /api/v1/customer-categories, PUT|DELETE /api/v1/customer-categories/:id
//	GET    /api/v1/customer-fields, PUT|DELETE /api/v1/customer-fields/:key
//	GET|POST /api/v1/comm-types, PUT|DELETE /api/v1/comm-types/:id
//	GET|PUT  /api/v1/customer-settings         the local area code
//	imports and exports: records_import.go
func (s *Server) recordsRoutes(authed *gin.RouterGroup) {
	g := authed.Group("", s.needRecords)
	g.GET("/customers", s.apiCustomers)
	g.GET("/customers/lookup", s.apiCustomerLookup)
	g.POST("/customers", s.apiCustomerCreate)
	g.GET("/customers/:id", s.apiCustomer)
	g.PUT("/customers/:id", s.apiCustomerUpdate)
	g.DELETE("/customers/:id", s.apiCustomerDelete)
	g.GET("/customers/:id/card", s.apiCustomerCard)
	g.GET("/customers/:id/comms", s.apiComms)
	g.POST("/customers/:id/comms", s.apiCommAdd)
	g.GET("/customer-categories", s.apiCustomerCategories)
	g.POST("/customer-categories", s.apiCustomerCategorySave)
	g.PUT("/customer-categories/:id", s.apiCustomerCategorySave)
	g.DELETE("/customer-categories/:id", s.apiCustomerCategoryDelete)
	g.GET("/customer-fields", s.apiCustomerFields)
	g.PUT("/customer-fields/:key", s.apiCustomerFieldSave)
	g.DELETE("/customer-fields/:key", s.apiCustomerFieldDelete)
	g.GET("/comm-types", s.apiCommTypes)
	g.POST("/comm-types", s.apiCommTypeSave)
	g.PUT("/comm-types/:id", s.apiCommTypeSave)
	g.DELETE("/comm-types/:id", s.apiCommTypeDelete)
	g.GET("/customer-settings", s.apiCustomerSettings)
	g.PUT("/customer-settings", s.apiCustomerSettingsSave)
	s.importRoutes(authed)
	s.kbRoutes(g)
	s.workOrderRoutes(g)
}

// needRecords answers 503 when the firmware gives no records.
func (s *Server) needRecords(c *gin.Context) {
	if s.cfg.Records == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.records.unavailable", ""))
		c.Abort()
	}
}

func (s *Server) rec() *Records { return s.cfg.Records }

// actorOf is the request's user as the record packages see it.
func actorOf(c *gin.Context) crm.Actor {
	u, _ := userOf(c)
	return crm.Actor{Login: u.Login, Role: u.Role}
}

// recordsFailure words a record package's error for the client.
func recordsFailure(err error) *failure {
	var fe *crm.FieldError
	switch {
	case errors.As(err, &fe):
		f := fail(http.StatusBadRequest, "err.records.invalid", fe.Field, fe.Field, fe.Reason)
		f.err = err
		return f
	case errors.Is(err, crm.ErrNotFound):
		return fail(http.StatusNotFound, "err.records.not_found", "")
	case errors.Is(err, crm.ErrForbidden):
		return fail(http.StatusForbidden, "err.forbidden", "")
	case errors.Is(err, crm.ErrConflict):
		f := fail(http.StatusConflict, "err.records.conflict", "", errText(err, crm.ErrConflict))
		f.err = err
		return f
	case errors.Is(err, ErrNoSpace):
		return noSpaceFailure(err)
	}
	return internal(err)
}

// errText is err's text after the sentinel's.
func errText(err, sentinel error) string {
	msg, pre := err.Error(), sentinel.Error()+": "
	for i := 0; i+len(pre) <= len(msg); i++ {
		if msg[i:i+len(pre)] == pre {
			return msg[i+len(pre):]
		}
	}
	return msg
}

// idParam reads a numeric path parameter.
func (s *Server) idParam(c *gin.Context, name string) (uint64, bool) {
	id, err := strconv.ParseUint(c.Param(name), 10, 64)
	if err != nil || id == 0 {
		s.failWith(c, fail(http.StatusNotFound, "err.records.not_found", ""))
		return 0, false
	}
	return id, true
}

// intQuery reads a non-negative integer query parameter.
func (s *Server) intQuery(c *gin.Context, name string, def, max int) (int, bool) {
	v := c.Query(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		s.failWith(c, fail(http.StatusBadRequest, "err.records.query", name, name, max))
		return 0, false
	}
	return n, true
}

// answer sends v, or the error's failure.
func (s *Server) answer(c *gin.Context, status int, v any, err error) {
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	if status == http.StatusNoContent {
		c.Status(status)
		return
	}
	c.JSON(status, v)
}

func (s *Server) apiCustomers(c *gin.Context) {
	limit, ok := s.intQuery(c, "limit", 50, 200)
	if !ok {
		return
	}
	if q := c.Query("q"); q != "" {
		res, err := s.rec().Customers.Search(actorOf(c), q, limit)
		s.answer(c, http.StatusOK, res, err)
		return
	}
	offset, ok := s.intQuery(c, "offset", 0, 1<<30)
	if !ok {
		return
	}
	list, total, err := s.rec().Customers.List(actorOf(c), offset, limit)
	s.answer(c, http.StatusOK, gin.H{"customers": list, "total": total, "offset": offset}, err)
}

func (s *Server) apiCustomerLookup(c *gin.Context) {
	list, err := s.rec().Customers.Lookup(actorOf(c), c.Query("number"))
	s.answer(c, http.StatusOK, gin.H{"customers": list}, err)
}

func (s *Server) apiCustomerCreate(c *gin.Context) {
	var in crm.Customer
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	out, err := s.rec().Customers.Create(actorOf(c), in)
	if err == nil {
		c.Header("Location", "/api/v1/customers/"+strconv.FormatUint(out.ID, 10))
	}
	s.answer(c, http.StatusCreated, out, err)
}

func (s *Server) apiCustomer(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		out, err := s.rec().Customers.Get(actorOf(c), id)
		s.answer(c, http.StatusOK, out, err)
	}
}

func (s *Server) apiCustomerUpdate(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	var in crm.Customer
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	in.ID = id
	out, err := s.rec().Customers.Update(actorOf(c), in)
	s.answer(c, http.StatusOK, out, err)
}

func (s *Server) apiCustomerDelete(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		s.answer(c, http.StatusNoContent, nil, s.rec().Customers.Delete(actorOf(c), id))
	}
}

func (s *Server) apiCustomerCard(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		out, err := s.rec().Customers.Card(actorOf(c), id)
		s.answer(c, http.StatusOK, out, err)
	}
}

func (s *Server) apiComms(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	limit, ok := s.intQuery(c, "limit", 50, 500)
	if !ok {
		return
	}
	out, err := s.rec().Customers.Comms(actorOf(c), id, limit)
	s.answer(c, http.StatusOK, gin.H{"comms": out}, err)
}

func (s *Server) apiCommAdd(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	var in crm.Comm
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	in.Customer = id
	out, err := s.rec().Customers.AddComm(actorOf(c), in)
	s.answer(c, http.StatusCreated, out, err)
}

func (s *Server) apiCustomerCategories(c *gin.Context) {
	out, err := s.rec().Customers.Categories()
	s.answer(c, http.StatusOK, gin.H{"categories": out}, err)
}

// optID is the :id of a PUT, or 0 for a POST.
func (s *Server) optID(c *gin.Context) (uint64, bool) {
	if c.Param("id") == "" {
		return 0, true
	}
	return s.idParam(c, "id")
}

func (s *Server) apiCustomerCategorySave(c *gin.Context) {
	id, ok := s.optID(c)
	if !ok {
		return
	}
	var in crm.Category
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	in.ID = id
	out, err := s.rec().Customers.SaveCategory(actorOf(c), in)
	s.answer(c, createdOr(id), out, err)
}

func createdOr(id uint64) int {
	if id == 0 {
		return http.StatusCreated
	}
	return http.StatusOK
}

func (s *Server) apiCustomerCategoryDelete(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		s.answer(c, http.StatusNoContent, nil, s.rec().Customers.DeleteCategory(actorOf(c), id))
	}
}

func (s *Server) apiCustomerFields(c *gin.Context) {
	out, err := s.rec().Customers.Fields()
	s.answer(c, http.StatusOK, gin.H{"fields": out}, err)
}

func (s *Server) apiCustomerFieldSave(c *gin.Context) {
	var in crm.FieldDef
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	in.Key = c.Param("key")
	out, err := s.rec().Customers.SaveField(actorOf(c), in)
	s.answer(c, http.StatusOK, out, err)
}

func (s *Server) apiCustomerFieldDelete(c *gin.Context) {
	s.answer(c, http.StatusNoContent, nil, s.rec().Customers.DeleteField(actorOf(c), c.Param("key")))
}

func (s *Server) apiCommTypes(c *gin.Context) {
	out, err := s.rec().Customers.CommTypes()
	s.answer(c, http.StatusOK, gin.H{"comm_types": out}, err)
}

func (s *Server) apiCommTypeSave(c *gin.Context) {
	id, ok := s.optID(c)
	if !ok {
		return
	}
	var in crm.CommType
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	in.ID = id
	out, err := s.rec().Customers.SaveCommType(actorOf(c), in)
	s.answer(c, createdOr(id), out, err)
}

func (s *Server) apiCommTypeDelete(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		s.answer(c, http.StatusNoContent, nil, s.rec().Customers.DeleteCommType(actorOf(c), id))
	}
}

func (s *Server) apiCustomerSettings(c *gin.Context) {
	c.JSON(http.StatusOK, s.rec().Customers.Settings())
}

func (s *Server) apiCustomerSettingsSave(c *gin.Context) {
	var in crm.Settings
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	out, err := s.rec().Customers.SaveSettings(actorOf(c), in)
	s.answer(c, http.StatusOK, out, err)
}
