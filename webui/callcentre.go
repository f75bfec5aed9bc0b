package webui

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// CallCentre is the call-centre configuration the API edits: the whole
// document at /api/v1/call-centre (GET, PUT), one object at a time under
// /api/v1/groups, /agents, /customer-types, /blacklist, /inbound-routes,
// /calendars, /bindings and /caller-ids (GET list, POST, GET, PUT and
// DELETE /:key), and the IVR flows with their versions under
// /api/v1/flows. Objects travel in the document's format
// (telephony/ccconf documents it); webui hides agents' PIN hashes and
// leaves decoding and validation to the implementation. Supervisors read,
// administrators write.
//
// Config.CallCentre provides it; without one the routes answer 503.
//
// Keys are as in the URL: a group's or customer type's id, an agent's work
// number, a blacklist entry's or caller ID's number, a route's or
// calendar's name, a binding's PC address; an object sent without its key
// field takes the URL's. Errors wrap ErrNotFound, ErrConflict (the key is
// taken; another object still uses this one), ErrInvalid or ErrNoSpace,
// and name the field and reason as the PBX's do (see PBX).
type CallCentre interface {
	CCList(ctx context.Context, kind string) ([]json.RawMessage, error)
	CCGet(ctx context.Context, kind, key string) (json.RawMessage, error)
	// CCCreate adds obj and returns it as stored.
	CCCreate(ctx context.Context, kind string, obj json.RawMessage) (json.RawMessage, error)
	// CCUpdate replaces the object key with obj and returns it as stored.
	CCUpdate(ctx context.Context, kind, key string, obj json.RawMessage) (json.RawMessage, error)
	CCDelete(ctx context.Context, kind, key string) error
	// CCDocument returns the whole document with the latest version of
	// every flow.
	CCDocument(ctx context.Context) (json.RawMessage, error)
	// CCReplace replaces the whole document (flows whose content changed
	// become new versions) and returns it as stored.
	CCReplace(ctx context.Context, doc json.RawMessage) (json.RawMessage, error)
	// FlowList summarises every flow.
	FlowList(ctx context.Context) ([]FlowSummary, error)
	// FlowGet returns a version of a flow (0: the latest).
	FlowGet(ctx context.Context, id string, version int) (json.RawMessage, error)
	// FlowVersions lists a flow's versions, oldest first.
	FlowVersions(ctx context.Context, id string) ([]int, error)
	// FlowSave saves flow (whose id is id) as the flow's next version when
	// its content differs from the latest (created is then true) and
	// returns the version in force. Calls keep the version they started
	// with.
	FlowSave(ctx context.Context, id string, flow json.RawMessage) (stored json.RawMessage, created bool, err error)
}

// FlowSummary is one line of the flow list.
type FlowSummary struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Version int    `json:"version"` // the latest
}

// The call centre's object kinds, which are also their API paths.
const (
	CCGroups        = "groups"
	CCAgents        = "agents"
	CCCustomerTypes = "customer-types"
	CCBlacklist     = "blacklist"
	CCInboundRoutes = "inbound-routes"
	CCCalendars     = "calendars"
	CCBindings      = "bindings"
	CCCallerIDs     = "caller-ids"
)

// ccKeyField names each kind's key field.
var ccKeyField = map[string]string{CCGroups: "id", CCAgents: "id", CCCustomerTypes: "id", CCBlacklist: "number",
	CCInboundRoutes: "name", CCCalendars: "name", CCBindings: "pc", CCCallerIDs: "number"}

// Paths of the whole document and the flows; their bodies may be larger
// than other requests' (documentLimit).
const (
	ccDocumentPath = "/api/v1/call-centre"
	ccFlowsPath    = "/api/v1/flows"
	// maxDocumentBytes bounds a whole call-centre document or a flow: far
	// above a 30-seat centre's, low enough to keep a request cheap.
	maxDocumentBytes = 4 << 20
)

// documentLimit is the largest request body a path takes, apart from
// uploads (bodyLimit): the call-centre document and flows may be larger
// than other objects.
func documentLimit(path string) int64 {
	if path == ccDocumentPath || strings.HasPrefix(path, ccFlowsPath+"/") || path == ccFlowsPath {
		return maxDocumentBytes
	}
	return maxBodyBytes
}

// Agents' PINs in the API: the hash never leaves the box (a 4 to 8 digit
// PIN is found from its hash in minutes); "pin_set" (read-only) says
// whether the agent has one. A client sets one with "pin" and keeps it by
// sending neither pin nor pin_hash.
const (
	fieldPINHash = "pin_hash"
	fieldPINSet  = "pin_set"
)

// ccRoutes registers the call-centre configuration API on the
// authenticated group.
func (s *Server) ccRoutes(authed *gin.RouterGroup) {
	// Each route checks its permission before the configuration's
	// presence, so a refusal does not tell what the box has.
	read := []gin.HandlerFunc{s.need(PermCCRead), s.needCC}
	write := []gin.HandlerFunc{s.need(PermCCWrite), s.needCC}
	with := func(pre []gin.HandlerFunc, h gin.HandlerFunc) []gin.HandlerFunc { return append(slices.Clone(pre), h) }
	authed.GET("/call-centre", with(read, s.apiCCDocument)...)
	authed.PUT("/call-centre", with(write, s.apiCCReplace)...)
	for _, kind := range []string{CCGroups, CCAgents, CCCustomerTypes, CCBlacklist, CCInboundRoutes, CCCalendars, CCBindings, CCCallerIDs} {
		g := authed.Group("/" + kind)
		g.GET("", with(read, s.apiCCList(kind))...)
		g.POST("", with(write, s.apiCCPut(kind, true))...)
		g.GET("/:key", with(read, s.apiCCGet(kind))...)
		g.PUT("/:key", with(write, s.apiCCPut(kind, false))...)
		g.DELETE("/:key", with(write, s.apiCCDelete(kind))...)
	}
	f := authed.Group("/flows")
	f.GET("", with(read, s.apiFlowList)...)
	f.POST("", with(write, s.apiFlowSave(true))...)
	f.GET("/:id", with(read, s.apiFlowGet)...)
	f.PUT("/:id", with(write, s.apiFlowSave(false))...)
	f.GET("/:id/versions", with(read, s.apiFlowVersions)...)
	f.GET("/:id/versions/:version", with(read, s.apiFlowGet)...)
}

// needCC answers 503 when the firmware provides no call-centre
// configuration.
func (s *Server) needCC(c *gin.Context) {
	if s.cfg.CallCentre == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.cc.unavailable", ""))
		c.Abort()
	}
}

func (s *Server) ccFailure(kind string, err error) *failure {
	return s.configFailure("cc", ccKeyField[kind], err)
}

// agentView hides an agent's PIN hash.
func agentView(o pbxObject) {
	_, has := o[fieldPINHash]
	delete(o, fieldPINHash)
	o[fieldPINSet], _ = json.Marshal(has)
}

// ccView is an object as the API shows it.
func ccView(kind string, raw json.RawMessage) (pbxObject, error) {
	o, err := parseObject(raw)
	if err == nil && kind == CCAgents {
		agentView(o)
	}
	return o, err
}

// documentView is the whole document as the API shows it.
func documentView(raw json.RawMessage) (pbxObject, error) {
	o, err := parseObject(raw)
	if err != nil {
		return nil, err
	}
	var agents []pbxObject
	if json.Unmarshal(o["agents"], &agents) == nil && agents != nil {
		for _, a := range agents {
			agentView(a)
		}
		o["agents"], _ = json.Marshal(agents)
	}
	return o, nil
}

// readCCObject reads a request's object, dropping what the API adds.
func (s *Server) readCCObject(c *gin.Context) (pbxObject, *failure) {
	o, f := s.readObject(c)
	if f == nil {
		delete(o, fieldPINSet)
	}
	return o, f
}

func (s *Server) apiCCDocument(c *gin.Context) {
	raw, err := s.cfg.CallCentre.CCDocument(c.Request.Context())
	if err != nil {
		s.failWith(c, s.ccFailure("", err))
		return
	}
	s.answerDocument(c, raw)
}

func (s *Server) answerDocument(c *gin.Context, raw json.RawMessage) {
	o, err := documentView(raw)
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	c.JSON(http.StatusOK, o)
}

func (s *Server) apiCCReplace(c *gin.Context) {
	o, f := s.readObject(c)
	if f != nil {
		s.failWith(c, f)
		return
	}
	var agents []pbxObject
	if json.Unmarshal(o["agents"], &agents) == nil && agents != nil {
		for _, a := range agents {
			delete(a, fieldPINSet)
		}
		o["agents"], _ = json.Marshal(agents)
	}
	raw, _ := json.Marshal(o)
	stored, err := s.cfg.CallCentre.CCReplace(c.Request.Context(), raw)
	if err != nil {
		s.failWith(c, s.ccFailure("", err))
		return
	}
	s.answerDocument(c, stored)
}

func (s *Server) apiCCList(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		list, err := s.cfg.CallCentre.CCList(c.Request.Context(), kind)
		if err != nil {
			s.failWith(c, s.ccFailure(kind, err))
			return
		}
		out := make([]pbxObject, 0, len(list))
		for _, raw := range list {
			o, err := ccView(kind, raw)
			if err != nil {
				s.failWith(c, internal(err))
				return
			}
			out = append(out, o)
		}
		c.JSON(http.StatusOK, gin.H{kind: out})
	}
}

func (s *Server) answerCC(c *gin.Context, status int, kind string, raw json.RawMessage) {
	o, err := ccView(kind, raw)
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	if status == http.StatusCreated {
		var key any
		if json.Unmarshal(o[ccKeyField[kind]], &key) == nil && key != nil {
			c.Header("Location", "/api/v1/"+kind+"/"+url.PathEscape(toText(key)))
		}
	}
	c.JSON(status, o)
}

// toText writes a JSON key (a string or a number) as a URL's key.
func toText(v any) string {
	switch k := v.(type) {
	case string:
		return k
	case float64:
		return strconv.FormatFloat(k, 'f', -1, 64)
	}
	return ""
}

func (s *Server) apiCCGet(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		raw, err := s.cfg.CallCentre.CCGet(c.Request.Context(), kind, c.Param("key"))
		if err != nil {
			s.failWith(c, s.ccFailure(kind, err))
			return
		}
		s.answerCC(c, http.StatusOK, kind, raw)
	}
}

// apiCCPut creates an object (create) or replaces the one the URL names.
func (s *Server) apiCCPut(kind string, create bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		o, f := s.readCCObject(c)
		if f == nil {
			f = s.checkMOH(c, kind, o)
		}
		if f != nil {
			s.failWith(c, f)
			return
		}
		raw, _ := json.Marshal(o)
		ctx := c.Request.Context()
		var stored json.RawMessage
		var err error
		status := http.StatusOK
		if create {
			stored, err = s.cfg.CallCentre.CCCreate(ctx, kind, raw)
			status = http.StatusCreated
		} else {
			stored, err = s.cfg.CallCentre.CCUpdate(ctx, kind, c.Param("key"), raw)
		}
		if err != nil {
			s.failWith(c, s.ccFailure(kind, err))
			return
		}
		s.answerCC(c, status, kind, stored)
	}
}

func (s *Server) apiCCDelete(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := s.cfg.CallCentre.CCDelete(c.Request.Context(), kind, c.Param("key")); err != nil {
			s.failWith(c, s.ccFailure(kind, err))
			return
		}
		c.Status(http.StatusNoContent)
	}
}

func (s *Server) apiFlowList(c *gin.Context) {
	list, err := s.cfg.CallCentre.FlowList(c.Request.Context())
	if err != nil {
		s.failWith(c, s.ccFailure("", err))
		return
	}
	if list == nil {
		list = []FlowSummary{}
	}
	c.JSON(http.StatusOK, gin.H{"flows": list})
}

// flowVersion reads the URL's version (the latest when absent).
func flowVersion(c *gin.Context) (int, *failure) {
	v := c.Param("version")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fail(http.StatusNotFound, "err.cc.not_found", "version")
	}
	return n, nil
}

func (s *Server) apiFlowGet(c *gin.Context) {
	v, f := flowVersion(c)
	if f != nil {
		s.failWith(c, f)
		return
	}
	raw, err := s.cfg.CallCentre.FlowGet(c.Request.Context(), c.Param("id"), v)
	if err != nil {
		s.failWith(c, s.configFailure("cc", "id", err))
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", raw)
}

func (s *Server) apiFlowVersions(c *gin.Context) {
	vs, err := s.cfg.CallCentre.FlowVersions(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.failWith(c, s.configFailure("cc", "id", err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": c.Param("id"), "versions": vs})
}

// apiFlowSave saves a flow: POST /flows creates one (its id taken from the
// body, refused if it exists), PUT /flows/:id saves a version.
func (s *Server) apiFlowSave(create bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		o, f := s.readObject(c)
		if f != nil {
			s.failWith(c, f)
			return
		}
		id := c.Param("id")
		if raw, ok := o["id"]; ok {
			v, _ := jsonString(raw)
			if !create && v != id {
				s.failWith(c, fail(http.StatusBadRequest, "err.pbx.key_immutable", "id"))
				return
			}
			id = v
		} else {
			o["id"], _ = json.Marshal(id)
		}
		ctx := c.Request.Context()
		if create {
			if _, err := s.cfg.CallCentre.FlowVersions(ctx, id); err == nil {
				s.failWith(c, fail(http.StatusConflict, "err.cc.flow_exists", "id"))
				return
			}
		}
		raw, _ := json.Marshal(o)
		stored, created, err := s.cfg.CallCentre.FlowSave(ctx, id, raw)
		if err != nil {
			s.failWith(c, s.configFailure("cc", "id", err))
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
			var v struct {
				Version int `json:"version"`
			}
			_ = json.Unmarshal(stored, &v)
			c.Header("Location", ccFlowsPath+"/"+url.PathEscape(id)+"/versions/"+strconv.Itoa(v.Version))
		}
		c.Data(status, "application/json; charset=utf-8", stored)
	}
}
