package webui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"callbox/telephony/sip/secret"
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
// ErrConflict (the key is taken; the object is still used by another),
// ErrInvalid or ErrNoSpace, and name the offending JSON field through a
// JSONField() string method somewhere in their chain; the same error may
// give ReasonCode() (string, []any) and ObjectRef() (kind, key string), so
// the answer is worded in the user's language (see pbxFailure).
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
		g := authed.Group("/"+kind, s.need(PermPBX), s.needPBX)
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

// Extension secrets in the API. The stored secret never leaves the box;
// a weak one (a stored secret from before the strength rule, which keeps
// working) is flagged in "secret_warning", {"reason": code, "message":
// text}, judged by telephony/sip/secret with the rule the configuration
// applies to new secrets. A client that sends "generate_secret": true
// (and no secret) gets a strong secret made on the box, shown once in the
// answer and never again.
const (
	fieldSecretWarning  = "secret_warning"  // read-only, in answers
	fieldGenerateSecret = "generate_secret" // write-only, in requests
)

// view is raw as the API shows it: the secret masked and, for an
// extension with a weak secret, the warning in the request's language.
func (s *Server) view(c *gin.Context, kind string, raw json.RawMessage) (pbxObject, error) {
	o, err := masked(raw)
	if err != nil || kind != PBXExtensions {
		return o, err
	}
	sec, _ := parseObject(raw)
	plain, _ := jsonString(sec["secret"])
	ekind, _ := jsonString(o["kind"])
	number, _ := jsonString(o["number"])
	var w *secret.Weakness
	if ekind == "sip" && errors.As(secret.Check(plain, secret.SIP, number), &w) {
		code := "secret." + w.Code
		o[fieldSecretWarning], _ = json.Marshal(map[string]string{"reason": code,
			"message": s.tr(langOf(c), "warn.secret_weak", []any{reasonMsg(code, w.Args)})})
	}
	return o, nil
}

// generateSecret handles "generate_secret" in an extension request: it
// puts a new strong secret in o and returns it, or "" when none was asked
// for.
func generateSecret(o pbxObject, number string) (string, *failure) {
	raw, ok := o[fieldGenerateSecret]
	if !ok {
		return "", nil
	}
	delete(o, fieldGenerateSecret)
	var want bool
	if json.Unmarshal(raw, &want) != nil {
		return "", fail(http.StatusBadRequest, "err.field.type", fieldGenerateSecret)
	}
	if !want {
		return "", nil
	}
	if v, has := o["secret"]; has {
		if sv, _ := jsonString(v); sv != "" && sv != SecretMask {
			return "", fail(http.StatusBadRequest, "err.pbx.secret_and_generate", fieldGenerateSecret)
		}
	}
	gen, err := secret.Generate(number)
	if err != nil {
		return "", internal(err)
	}
	o["secret"], _ = json.Marshal(gen)
	return gen, nil
}

func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err == nil
}

// The optional methods a PBX error may have, besides JSONField, so webui
// can say in the user's language what is wrong without importing the
// configuration's package: a stable reason code with its values
// ("reason.CODE" in the catalogues), and the kind and key of the object at
// fault ("object.KIND"). telephony/pbxconf's FieldError has all three.
type (
	reasonCoded interface{ ReasonCode() (string, []any) }
	objectNamed interface{ ObjectRef() (kind, key string) }
)

// pbxFailure maps an implementation's error onto the API's answer.
func (s *Server) pbxFailure(kind string, err error) *failure {
	return s.configFailure("pbx", pbxKeyField[kind], err)
}

// configFailure maps a configuration's error onto the API's answer, with
// the messages "err.AREA.*" (area "pbx" or "cc"); keyField names the key
// of the kind of object concerned.
func (s *Server) configFailure(area, keyField string, err error) *failure {
	switch {
	case errors.Is(err, ErrNotFound):
		return fail(http.StatusNotFound, "err."+area+".not_found", keyField)
	case errors.Is(err, ErrNoSpace):
		return noSpaceFailure(err)
	case !errors.Is(err, ErrConflict) && !errors.Is(err, ErrInvalid):
		return internal(err)
	}
	status, prefix := http.StatusBadRequest, "err."+area+".invalid"
	if errors.Is(err, ErrConflict) {
		status, prefix = http.StatusConflict, "err."+area+".conflict"
	}
	field, reason := "", err.Error()
	var fe interface{ JSONField() string }
	if errors.As(err, &fe) {
		field = fe.JSONField()
		if e, ok := fe.(error); ok {
			reason = e.Error() // the validator's own words, without the wrapping
		}
	}
	if field == "" && status == http.StatusConflict {
		field = keyField
	}
	rc, coded := fe.(reasonCoded)
	on, named := fe.(objectNamed)
	code, args := "", []any(nil)
	if coded {
		code, args = rc.ReasonCode()
	}
	if !coded || !named || !s.cat.Has("reason."+code) {
		// Words the catalogues cannot render: the implementation's own.
		return fail(status, prefix, field, field, reason)
	}
	okind, okey := on.ObjectRef()
	object := msg{key: "object." + okind, args: []any{okey}}
	if okey == "" {
		object = msg{key: "object." + okind + ".bare"}
	}
	var f *failure
	if field == "" {
		f = fail(status, prefix+"_object", "", object, reasonMsg(code, args))
	} else {
		// A field may mean something else on one kind of object
		// ("default" of a customer type): "field.KIND.NAME" first.
		fieldName := any(field)
		if s.cat.Has("field." + okind + "." + field) {
			fieldName = msg{key: "field." + okind + "." + field}
		} else if s.cat.Has("field." + field) {
			fieldName = msg{key: "field." + field}
		}
		f = fail(status, prefix+"_field", field, object, fieldName, reasonMsg(code, args))
	}
	f.reason = code
	return f
}

func (s *Server) apiPBXList(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, _ := s.pbx()
		list, err := p.PBXList(c.Request.Context(), kind)
		if err != nil {
			s.failWith(c, s.pbxFailure(kind, err))
			return
		}
		out := make([]pbxObject, 0, len(list))
		for _, raw := range list {
			o, err := s.view(c, kind, raw)
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
			s.failWith(c, s.pbxFailure(kind, err))
			return
		}
		s.answerObject(c, http.StatusOK, kind, raw, "")
	}
}

// answerObject answers with the object as the API shows it; a secret
// generated for this request is shown in it, this once.
func (s *Server) answerObject(c *gin.Context, status int, kind string, raw json.RawMessage, generated string) {
	o, err := s.view(c, kind, raw)
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	if generated != "" {
		o["secret"], _ = json.Marshal(generated)
	}
	c.JSON(status, o)
}

// readObject decodes the request body as a JSON object, dropping the
// read-only secret_warning a client may send back from a GET.
func (s *Server) readObject(c *gin.Context) (pbxObject, *failure) {
	var o pbxObject
	if f := decodeJSON(c, &o); f != nil {
		return nil, f
	}
	if o == nil {
		return nil, fail(http.StatusBadRequest, "err.body.invalid", "")
	}
	delete(o, fieldSecretWarning)
	return o, nil
}

func (s *Server) apiPBXCreate(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		o, f := s.readObject(c)
		if f != nil {
			s.failWith(c, f)
			return
		}
		stored, generated, f := s.pbxCreate(c.Request.Context(), kind, o)
		if f != nil {
			s.failWith(c, f)
			return
		}
		if so, err := parseObject(stored); err == nil {
			if key, ok := jsonString(so[pbxKeyField[kind]]); ok {
				c.Header("Location", "/api/v1/"+kind+"/"+url.PathEscape(key))
			}
		}
		s.answerObject(c, http.StatusCreated, kind, stored, generated)
	}
}

// pbxCreate adds the object o of kind, as POST /api/v1/KIND and the
// pages do: a secret may be generated (returned to show once), the mask
// is refused.
func (s *Server) pbxCreate(ctx context.Context, kind string, o pbxObject) (stored json.RawMessage, generated string, f *failure) {
	if sec, ok := o["secret"]; ok {
		if v, _ := jsonString(sec); v == SecretMask {
			return nil, "", fail(http.StatusBadRequest, "err.pbx.secret_mask", "secret")
		}
	}
	if kind == PBXExtensions {
		number, _ := jsonString(o["number"])
		if generated, f = generateSecret(o, number); f != nil {
			return nil, "", f
		}
	}
	raw, _ := json.Marshal(o)
	p, _ := s.pbx()
	stored, err := p.PBXCreate(ctx, kind, raw)
	if err != nil {
		return nil, "", s.pbxFailure(kind, err)
	}
	return stored, generated, nil
}

func (s *Server) apiPBXUpdate(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		o, f := s.readObject(c)
		if f != nil {
			s.failWith(c, f)
			return
		}
		stored, generated, f := s.pbxUpdate(c.Request.Context(), kind, c.Param("key"), o)
		if f != nil {
			s.failWith(c, f)
			return
		}
		s.answerObject(c, http.StatusOK, kind, stored, generated)
	}
}

// pbxUpdate replaces the object key of kind with o, as PUT
// /api/v1/KIND/:key and the pages do: the key cannot change, the stored
// secret stays unless o brings a new one (or asks for one to be
// generated).
func (s *Server) pbxUpdate(ctx context.Context, kind, key string, o pbxObject) (stored json.RawMessage, generated string, f *failure) {
	keyField := pbxKeyField[kind]
	if raw, ok := o[keyField]; ok {
		if v, _ := jsonString(raw); v != key {
			return nil, "", fail(http.StatusBadRequest, "err.pbx.key_immutable", keyField)
		}
	} else {
		o[keyField], _ = json.Marshal(key)
	}
	if kind == PBXExtensions {
		if generated, f = generateSecret(o, key); f != nil {
			return nil, "", f
		}
	}
	p, _ := s.pbx()
	// Keep the stored secret unless the client sends a new one.
	sec, has := o["secret"]
	if v, _ := jsonString(sec); !has || v == SecretMask {
		old, err := p.PBXGet(ctx, kind, key)
		if err != nil {
			return nil, "", s.pbxFailure(kind, err)
		}
		oo, err := parseObject(old)
		if err != nil {
			return nil, "", internal(err)
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
		return nil, "", s.pbxFailure(kind, err)
	}
	return stored, generated, nil
}

func (s *Server) apiPBXDelete(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, _ := s.pbx()
		if err := p.PBXDelete(c.Request.Context(), kind, c.Param("key")); err != nil {
			s.failWith(c, s.pbxFailure(kind, err))
			return
		}
		c.Status(http.StatusNoContent)
	}
}
