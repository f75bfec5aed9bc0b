package webui

import (
	"encoding/json"

	"github.com/gin-gonic/gin"
)

// The PBX configuration's choices, as telephony/pbxconf has them (a test
// keeps them equal; webui does not import the configuration's package).
var (
	extensionKinds  = []string{"sip", "fxs"}
	trunkKinds      = []string{"sip", "fxo"}
	sipTransports   = []string{"udp", "tcp"}
	sipCodecs       = []string{"PCMU", "PCMA"}
	callerIDSchemes = []string{"none", "bellcore", "etsi-dtas", "etsi-reversal", "etsi-rpas", "dtmf"}
)

// pbxNameMax is the longest name or caller ID name the PBX configuration
// takes.
const pbxNameMax = 64

// pbxForms are the pages of the extensions, trunks and routes.
var pbxForms = []*formKind{
	{
		Kind: PBXExtensions, Key: "number", Object: "extension", Nav: "nav.extensions", Read: PermPBX, Write: PermPBX,
		Intro: "obj.intro.extensions",
		Columns: []column{{Field: "number"}, {Field: "name"}, {Field: "kind"}, {Field: "port"},
			{Field: "caller_id_number"}, {Field: "dnd"}, {Field: "voicemail"}, {Field: "forward.always"}},
		Fields: []formField{
			{Name: "number", Required: true, Max: 16, KeyField: true},
			{Name: "name", Max: pbxNameMax},
			{Name: "kind", Type: ftSelect, Options: opts(extensionKinds...), Required: true},
			{Name: "port", Type: ftNumber, When: "kind=fxs"},
			{Name: "secret", Type: ftSecret, When: "kind=sip", Generate: true, Max: 128},
			{Name: "nat", Type: ftCheck, When: "kind=sip"},
			{Name: "caller_id_name", Max: pbxNameMax},
			{Name: "caller_id_number", Max: 32},
			{Name: "voicemail", Type: ftCheck},
			{Name: "dnd", Type: ftCheck},
			{Name: "forward.always", Max: 32},
			{Name: "forward.busy", Max: 32},
			{Name: "forward.no_answer", Max: 32},
			{Name: "forward.no_answer_s", Type: ftNumber},
		},
	},
	{
		Kind: PBXTrunks, Key: "name", Object: "trunk", Nav: "nav.trunks", Read: PermPBX, Write: PermPBX,
		Intro:   "obj.intro.trunks",
		Columns: []column{{Field: "name"}, {Field: "kind"}, {Field: "host"}, {Field: "port"}, {Field: "register"}, {Field: "default"}},
		Fields: []formField{
			{Name: "name", Required: true, Max: 32, KeyField: true},
			{Name: "kind", Type: ftSelect, Options: opts(trunkKinds...), Required: true},
			{Name: "host", When: "kind=sip", Max: 253},
			{Name: "port", Type: ftNumber},
			{Name: "transport", Type: ftSelect, Options: opts(sipTransports...), When: "kind=sip"},
			{Name: "username", When: "kind=sip", Max: 64},
			{Name: "auth_user", When: "kind=sip", Max: 64},
			{Name: "secret", Type: ftSecret, When: "kind=sip", Max: 128},
			{Name: "register", Type: ftCheck, When: "kind=sip"},
			{Name: "codecs", Type: ftMulti, Options: opts(sipCodecs...), When: "kind=sip"},
			{Name: "nat", Type: ftCheck, When: "kind=sip"},
			{Name: "dids", Type: ftPairs, When: "kind=sip"},
			{Name: "caller_id", Type: ftSelect, Options: opts(callerIDSchemes...), When: "kind=fxo"},
			{Name: "rings", Type: ftNumber, When: "kind=fxo"},
			{Name: "default", Max: 16},
		},
	},
	{
		Kind: PBXRoutes, Key: "name", Object: "route", Nav: "nav.routes", Read: PermPBX, Write: PermPBX,
		Intro:   "obj.intro.routes",
		Columns: []column{{Field: "name"}, {Field: "patterns"}, {Field: "trunks"}, {Field: "strip"}, {Field: "prepend"}, {Field: "caller_id", Label: "label.route.caller_id"}},
		Fields: []formField{
			{Name: "name", Required: true, Max: 32, KeyField: true},
			{Name: "patterns", Type: ftLines, Required: true},
			// Lines rather than boxes: the order is the failover order.
			{Name: "trunks", Type: ftLines, Dynamic: pbxKeys(PBXTrunks), Required: true},
			{Name: "strip", Type: ftNumber},
			{Name: "prepend", Max: 16},
			{Name: "caller_id", Max: 32},
			{Name: "allowed", Type: ftLines},
			{Name: "blocked", Type: ftLines},
		},
	},
}

func init() {
	for _, fk := range pbxForms {
		fk.store = func(s *Server) objectStore { return pbxObjects{s, fk.Kind} }
		fk.available = func(s *Server) bool { return s.cfg.PBX != nil }
		fk.Unavailable = "err.pbx.unavailable"
	}
}

// pbxKeys gives the keys of the objects of kind, for a field that names
// them (a route's trunks, in the order they are configured).
func pbxKeys(kind string) func(c *gin.Context, s *Server) []option {
	return func(c *gin.Context, s *Server) []option {
		if s.cfg.PBX == nil {
			return nil
		}
		objs, f := (pbxObjects{s, kind}).list(c)
		if f != nil {
			return nil
		}
		var keys []option
		for _, o := range objs {
			if k, ok := jsonString(o[pbxKeyField[kind]]); ok {
				keys = append(keys, option{Value: k})
			}
		}
		return keys
	}
}

// pbxObjects is the PBX configuration as the object pages use it: the
// API's own functions, secrets masked.
type pbxObjects struct {
	s    *Server
	kind string
}

func (p pbxObjects) list(c *gin.Context) ([]pbxObject, *failure) {
	raws, err := p.s.cfg.PBX.PBXList(c.Request.Context(), p.kind)
	if err != nil {
		return nil, p.s.pbxFailure(p.kind, err)
	}
	out := make([]pbxObject, 0, len(raws))
	for _, raw := range raws {
		o, f := p.view(c, raw)
		if f != nil {
			return nil, f
		}
		out = append(out, o)
	}
	return out, nil
}

// view masks the secret and words a weak one's warning in the request's
// language.
func (p pbxObjects) view(c *gin.Context, raw json.RawMessage) (pbxObject, *failure) {
	o, err := p.s.view(c, p.kind, raw)
	if err != nil {
		return nil, internal(err)
	}
	return o, nil
}

func (p pbxObjects) get(c *gin.Context, key string) (pbxObject, *failure) {
	raw, err := p.s.cfg.PBX.PBXGet(c.Request.Context(), p.kind, key)
	if err != nil {
		return nil, p.s.pbxFailure(p.kind, err)
	}
	return p.view(c, raw)
}

func (p pbxObjects) create(c *gin.Context, o pbxObject) (pbxObject, string, *failure) {
	stored, gen, f := p.s.pbxCreate(c.Request.Context(), p.kind, o)
	if f != nil {
		return nil, "", f
	}
	v, f := p.view(c, stored)
	return v, gen, f
}

func (p pbxObjects) update(c *gin.Context, key string, o pbxObject) (pbxObject, string, *failure) {
	stored, gen, f := p.s.pbxUpdate(c.Request.Context(), p.kind, key, o)
	if f != nil {
		return nil, "", f
	}
	v, f := p.view(c, stored)
	return v, gen, f
}

func (p pbxObjects) delete(c *gin.Context, key string) *failure {
	if err := p.s.cfg.PBX.PBXDelete(c.Request.Context(), p.kind, key); err != nil {
		return p.s.pbxFailure(p.kind, err)
	}
	return nil
}
