package webui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// PBX is the telephone configuration the API edits under /api/v1/extensions,
// /api/v1/trunks and /api/v1/routes (administrators only). Objects travel
// as JSON in the configuration file's format (telephony/pbxconf documents
// it), so the API, the import file and the backup share one format; webui
// hides secrets and leaves decoding and validation to the implementation.
//
// Config.PBX provides it; without one the routes answer 503.
//
// Kinds are PBXExtensions, PBXTrunks and PBXRoutes; an object's key is its
// "number" (extensions) or "name" (trunks, routes). Errors wrap ErrNotFound,
// ErrConflict (the key is taken; the object is still used by another) or
// ErrInvalid, and name the offending JSON field through a JSONField()
// string method somewhere in their chain.
type PBX interface {
	PBXList(ctx context.Context, kind string) ([]json.RawMessage, error)
	PBXGet(ctx context.Context, kind, key string) (json.RawMessage, error)
	// PBXCreate adds obj and returns it as stored.
	PBXCreate(ctx context.Context, kind string, obj json.RawMessage) (json.RawMessage, error)
	// PBXUpdate replaces the object key with obj (whose key is key) and
	// returns it as stored.
	PBXUpdate(ctx context.Context, kind, key string, obj json.RawMessage) (json.RawMessage, error)
	PBXDelete(ctx context.Context, kind, key string) error
}

// The PBX object kinds, which are also their API paths.
const (
	PBXExtensions = "extensions"
	PBXTrunks     = "trunks"
	PBXRoutes     = "routes"
)

// SecretMask stands for a secret in what the API returns. A client sending
// it back (or no secret at all) on update keeps the stored secret.
const SecretMask = "********"

// pbxKeyField names each kind's key field.
var pbxKeyField = map[string]string{PBXExtensions: "number", PBXTrunks: "name", PBXRoutes: "name"}

// pbxRoutes registers the PBX configuration API on the authenticated group.
func (s *Server) pbxRoutes(authed *gin.RouterGroup) {
	for _, kind := range []string{PBXExtensions, PBXTrunks, PBXRoutes} {
		g := authed.Group("/"+kind, s.requireAdmin(true), s.needPBX)
		g.GET("", s.apiPBXList(kind))
		g.POST("", s.apiPBXCreate(kind))
		g.GET("/:key", s.apiPBXGet(kind))
		g.PUT("/:key", s.apiPBXUpdate(kind))
		g.DELETE("/:key", s.apiPBXDelete(kind))
	}
}

func (s *Server) pbx() (PBX, bool) {
	return s.cfg.PBX, s.cfg.PBX != nil
}

// needPBX answers 503 when the firmware provides no PBX configuration.
func (s *Server) needPBX(c *gin.Context) {
	if _, ok := s.pbx(); !ok {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.pbx.unavailable", ""))
		c.Abort()
	}
}

// pbxObject is a JSON object as webui handles it: fields kept raw.
type pbxObject map[string]json.RawMessage

func parseObject(raw json.RawMessage) (pbxObject, error) {
	var o pbxObject
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, err
	}
	if o == nil {
		return nil, errors.New("webui: not a JSON object")
	}
	return o, nil
}

// masked returns raw with a non-empty "secret" replaced by SecretMask.
func masked(raw json.RawMessage) (pbxObject, error) {
	o, err := parseObject(raw)
	if err != nil {
		return nil, err
	}
	if sec, ok := o["secret"]; ok {
		var s string
		if json.Unmarshal(sec, &s) != nil || s != "" {
			o["secret"] = json.RawMessage(`"` + SecretMask + `"`)
		}
	}
	return o, nil
}

func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err == nil
}

// pbxFailure maps an implementation's error onto the API's answer.
func pbxFailure(kind string, err error) *failure {
	field, reason := "", err.Error()
	var fe interface{ JSONField() string }
	if errors.As(err, &fe) {
		field = fe.JSONField()
		if e, ok := fe.(error); ok {
			reason = e.Error() // the validator's own words, without the wrapping
		}
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return fail(http.StatusNotFound, "err.pbx.not_found", pbxKeyField[kind])
	case errors.Is(err, ErrConflict):
		if field == "" {
			field = pbxKeyField[kind]
		}
		return fail(http.StatusConflict, "err.pbx.conflict", field, field, reason)
	case errors.Is(err, ErrInvalid):
		return fail(http.StatusBadRequest, "err.pbx.invalid", field, field, reason)
	}
	return internal(err)
}

func (s *Server) apiPBXList(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, _ := s.pbx()
		list, err := p.PBXList(c.Request.Context(), kind)
		if err != nil {
			s.failWith(c, pbxFailure(kind, err))
			return
		}
		out := make([]pbxObject, 0, len(list))
		for _, raw := range list {
			o, err := masked(raw)
			if err != nil {
				s.failWith(c, internal(err))
				return
			}
			out = append(out, o)
		}
		c.JSON(http.StatusOK, gin.H{kind: out})
	}
}

func (s *Server) apiPBXGet(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, _ := s.pbx()
		raw, err := p.PBXGet(c.Request.Context(), kind, c.Param("key"))
		if err != nil {
			s.failWith(c, pbxFailure(kind, err))
			return
		}
		s.answerObject(c, http.StatusOK, raw)
	}
}

func (s *Server) answerObject(c *gin.Context, status int, raw json.RawMessage) {
	o, err := masked(raw)
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	c.JSON(status, o)
}

// readObject decodes the request body as a JSON object. A secret equal to
// SecretMask is refused on create: it is what GET shows, not a secret.
func (s *Server) readObject(c *gin.Context) (pbxObject, *failure) {
	var o pbxObject
	if f := decodeJSON(c, &o); f != nil {
		return nil, f
	}
	if o == nil {
		return nil, fail(http.StatusBadRequest, "err.body.invalid", "")
	}
	return o, nil
}

func (s *Server) apiPBXCreate(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		o, f := s.readObject(c)
		if f != nil {
			s.failWith(c, f)
			return
		}
		if sec, ok := o["secret"]; ok {
			if v, _ := jsonString(sec); v == SecretMask {
				s.failWith(c, fail(http.StatusBadRequest, "err.pbx.secret_mask", "secret"))
				return
			}
		}
		raw, _ := json.Marshal(o)
		p, _ := s.pbx()
		stored, err := p.PBXCreate(c.Request.Context(), kind, raw)
		if err != nil {
			s.failWith(c, pbxFailure(kind, err))
			return
		}
		if so, err := parseObject(stored); err == nil {
			if key, ok := jsonString(so[pbxKeyField[kind]]); ok {
				c.Header("Location", "/api/v1/"+kind+"/"+url.PathEscape(key))
			}
		}
		s.answerObject(c, http.StatusCreated, stored)
	}
}

func (s *Server) apiPBXUpdate(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		o, f := s.readObject(c)
		if f != nil {
			s.failWith(c, f)
			return
		}
		key, keyField := c.Param("key"), pbxKeyField[kind]
		if raw, ok := o[keyField]; ok {
			if v, _ := jsonString(raw); v != key {
				s.failWith(c, fail(http.StatusBadRequest, "err.pbx.key_immutable", keyField))
				return
			}
		} else {
			o[keyField], _ = json.Marshal(key)
		}
		ctx := c.Request.Context()
		p, _ := s.pbx()
		// Keep the stored secret unless the client sends a new one.
		sec, has := o["secret"]
		if v, _ := jsonString(sec); !has || v == SecretMask {
			old, err := p.PBXGet(ctx, kind, key)
			if err != nil {
				s.failWith(c, pbxFailure(kind, err))
				return
			}
			oo, err := parseObject(old)
			if err != nil {
				s.failWith(c, internal(err))
				return
			}
			if prev, ok := oo["secret"]; ok {
				o["secret"] = prev
			} else {
				delete(o, "secret")
			}
		}
		raw, _ := json.Marshal(o)
		stored, err := p.PBXUpdate(ctx, kind, key, raw)
		if err != nil {
			s.failWith(c, pbxFailure(kind, err))
			return
		}
		s.answerObject(c, http.StatusOK, stored)
	}
}

func (s *Server) apiPBXDelete(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, _ := s.pbx()
		if err := p.PBXDelete(c.Request.Context(), kind, c.Param("key")); err != nil {
			s.failWith(c, pbxFailure(kind, err))
			return
		}
		c.Status(http.StatusNoContent)
	}
}
