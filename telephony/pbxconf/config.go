package pbxconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"callbox/telephony/switch/dialplan"
)

// Version is the format version this firmware writes and reads.
const Version = 1

// Kinds of extensions and trunks.
const (
	KindSIP = "sip"
	KindFXS = "fxs"
	KindFXO = "fxo"
)

// Transports of SIP trunks.
const (
	TransportUDP = "udp"
	TransportTCP = "tcp"
)

// Config is the whole PBX configuration: the document of the package
// documentation.
type Config struct {
	Version    int         `json:"version"`
	Extensions []Extension `json:"extensions"`
	Trunks     []Trunk     `json:"trunks"`
	Routes     []Route     `json:"routes"`
	// Emergency numbers are always allowed. A document without the key
	// takes DefaultEmergency.
	Emergency []string `json:"emergency"`
	// Blocked patterns are refused on every route. A document without the
	// key takes DefaultBlocked; none are blocked only when a document says
	// so ("blocked": []), which Warnings reports.
	Blocked []string `json:"blocked"`
}

// Extension is one internal number: a SIP phone or an analog FXS port.
type Extension struct {
	Number string `json:"number"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	// Port is the FXS port (fxs1 = 1) of an fxs extension.
	Port int `json:"port,omitempty"`
	// Secret is the SIP digest password of a sip extension.
	Secret         string  `json:"secret,omitempty"`
	CallerIDName   string  `json:"caller_id_name,omitempty"`
	CallerIDNumber string  `json:"caller_id_number,omitempty"`
	Voicemail      bool    `json:"voicemail"`
	DND            bool    `json:"dnd"`
	Forward        Forward `json:"forward,omitzero"`
	// NAT is for a SIP phone behind NAT (a remote worker): its media may
	// come from another address than its SDP names, so the box takes it
	// from the phone's signalling IP, any port, latched once per call.
	// Off, media come only from the SDP's address.
	NAT bool `json:"nat,omitempty"`
}

// Forward holds an extension's call forwarding defaults; empty numbers
// mean no forwarding.
type Forward struct {
	Always   string `json:"always,omitempty"`
	Busy     string `json:"busy,omitempty"`
	NoAnswer string `json:"no_answer,omitempty"`
	// NoAnswerS is how long the extension rings before the no-answer
	// forward; 0 means DefaultNoAnswerS.
	NoAnswerS int `json:"no_answer_s,omitempty"`
}

// DefaultNoAnswerS is the ring time before a no-answer forward.
const DefaultNoAnswerS = 20

// Trunk is a line to the outside: a SIP provider account or an FXO port.
type Trunk struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// SIP trunks.
	Host      string            `json:"host,omitempty"`
	Transport string            `json:"transport,omitempty"`
	Username  string            `json:"username,omitempty"`
	AuthUser  string            `json:"auth_user,omitempty"`
	Secret    string            `json:"secret,omitempty"`
	Register  bool              `json:"register,omitempty"`
	DIDs      map[string]string `json:"dids,omitempty"`
	Codecs    []string          `json:"codecs,omitempty"`
	// Port is the SIP port (default 5060) or the FXO port (fxo1 = 1).
	Port int `json:"port,omitempty"`
	// FXO trunks.
	CallerID string `json:"caller_id,omitempty"`
	Rings    int    `json:"rings,omitempty"`
	// Default is the extension inbound calls ring when no DID matches.
	Default string `json:"default,omitempty"`
	// NAT, for a SIP trunk, is the extensions' NAT: media from the
	// provider's signalling IP, any port, latched once per call (the
	// trunk's host must then be an IP address).
	NAT bool `json:"nat,omitempty"`
}

// Route is an outbound route: dialled numbers matching Patterns go out
// through Trunks in failover order.
type Route struct {
	Name     string   `json:"name"`
	Patterns []string `json:"patterns"`
	Strip    int      `json:"strip,omitempty"`
	Prepend  string   `json:"prepend,omitempty"`
	Trunks   []string `json:"trunks"`
	// CallerID is presented for extensions without a caller_id_number of
	// their own, and for every caller when CallerIDOverride is set.
	CallerID         string   `json:"caller_id,omitempty"`
	CallerIDOverride bool     `json:"caller_id_override,omitempty"`
	Allowed          []string `json:"allowed,omitempty"`
	Blocked          []string `json:"blocked,omitempty"`
}

// Defaults of the dialling rules are the switch's own (CN, EU and NANP
// emergency numbers; international and premium-rate patterns), so a new
// box's stored configuration and a plan built with none say the same.
// Default copies them; do not change them in place.
var (
	DefaultEmergency = dialplan.DefaultEmergency
	DefaultBlocked   = dialplan.DefaultBlocked
)

// Codecs a SIP trunk may name.
var Codecs = []string{"PCMU", "PCMA"}

// CallerIDSchemes an FXO trunk may name: "none" or a dsp/callerid preset.
var CallerIDSchemes = []string{"none", "bellcore", "etsi-dtas", "etsi-reversal", "etsi-rpas", "dtmf"}

// FirstFXSExtension is the number of FXS port 1 in the default
// configuration; port n is FirstFXSExtension+n-1.
const FirstFXSExtension = 201

// Default returns the configuration of a new box with fxsPorts analog
// ports: FXS port n is extension 200+n, no trunks or routes, and the
// default emergency and blocked lists. The simulated board has four FXS
// ports, so extensions 201-204.
func Default(fxsPorts int) Config {
	c := Config{Version: Version, Extensions: []Extension{}, Trunks: []Trunk{}, Routes: []Route{},
		Emergency: slices.Clone(DefaultEmergency), Blocked: slices.Clone(DefaultBlocked)}
	for n := 1; n <= fxsPorts; n++ {
		num := strconv.Itoa(FirstFXSExtension + n - 1)
		c.Extensions = append(c.Extensions, Extension{Number: num, Name: "FXS " + strconv.Itoa(n), Kind: KindFXS, Port: n})
	}
	return c
}

// Normalize gives every configuration one representation: the top-level
// lists are never nil (an export always shows them) and the optional lists
// inside objects are nil when empty (an export omits them). It sorts
// nothing: order is meaningful for routes and trunks. Parse and Marshal
// call it.
func (c *Config) Normalize() {
	for i := range c.Trunks {
		t := &c.Trunks[i]
		if len(t.DIDs) == 0 {
			t.DIDs = nil
		}
		t.Codecs = nilIfEmpty(t.Codecs)
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		r.Patterns, r.Trunks = nilIfEmpty(r.Patterns), nilIfEmpty(r.Trunks)
		r.Allowed, r.Blocked = nilIfEmpty(r.Allowed), nilIfEmpty(r.Blocked)
	}
	if c.Extensions == nil {
		c.Extensions = []Extension{}
	}
	if c.Trunks == nil {
		c.Trunks = []Trunk{}
	}
	if c.Routes == nil {
		c.Routes = []Route{}
	}
	if c.Emergency == nil {
		c.Emergency = []string{}
	}
	if c.Blocked == nil {
		c.Blocked = []string{}
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// Clone returns a deep copy of c.
func (c Config) Clone() Config {
	out := c
	out.Extensions = slices.Clone(c.Extensions)
	out.Trunks = slices.Clone(c.Trunks)
	for i := range out.Trunks {
		out.Trunks[i] = out.Trunks[i].Clone()
	}
	out.Routes = slices.Clone(c.Routes)
	for i := range out.Routes {
		out.Routes[i] = out.Routes[i].Clone()
	}
	out.Emergency = slices.Clone(c.Emergency)
	out.Blocked = slices.Clone(c.Blocked)
	return out
}

// Clone returns a deep copy of t.
func (t Trunk) Clone() Trunk {
	t.DIDs = maps.Clone(t.DIDs)
	t.Codecs = slices.Clone(t.Codecs)
	return t
}

// Clone returns a deep copy of r.
func (r Route) Clone() Route {
	r.Patterns = slices.Clone(r.Patterns)
	r.Trunks = slices.Clone(r.Trunks)
	r.Allowed = slices.Clone(r.Allowed)
	r.Blocked = slices.Clone(r.Blocked)
	return r
}

// Extension returns the extension with the number.
func (c *Config) Extension(number string) (Extension, bool) {
	for _, e := range c.Extensions {
		if e.Number == number {
			return e, true
		}
	}
	return Extension{}, false
}

// MaxDocument bounds a configuration document: far above 30 seats and a
// few trunks, low enough that a hostile file cannot exhaust memory.
const MaxDocument = 4 << 20

// ErrVersion means the document's version is not one this firmware reads.
var ErrVersion = errors.New("pbxconf: unsupported version")

// Parse decodes a configuration document strictly (Decode) and validates
// it.
func Parse(data []byte) (Config, error) {
	c, err := Decode(data)
	if err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Decode decodes a configuration document strictly (unknown fields and
// trailing data are refused, with the JSON path named) without validating
// it, for a caller that completes it first (KeepSecrets). A missing (or
// null) "emergency" or "blocked" takes the defaults: leaving a key out of
// a provisioning file must not lift the toll-fraud rules.
func Decode(data []byte) (Config, error) {
	if len(data) > MaxDocument {
		return Config{}, fmt.Errorf("pbxconf: document larger than %d bytes", MaxDocument)
	}
	var c Config
	if err := decodeStrict(data, &c, ""); err != nil {
		return Config{}, err
	}
	if err := checkKeys(data, "configuration"); err != nil {
		return Config{}, err
	}
	if c.Version != Version {
		fe := newFieldError("version", objRef{kind: ObjConfiguration}, "version", ReasonVersionUnsupported, c.Version, Version)
		fe.err = ErrVersion
		return Config{}, fe
	}
	if c.Emergency == nil {
		c.Emergency = slices.Clone(DefaultEmergency)
	}
	if c.Blocked == nil {
		c.Blocked = slices.Clone(DefaultBlocked)
	}
	c.Normalize()
	return c, nil
}

// Warnings lists what is valid in c but dangerous, in words for the
// import's output and the log: an empty blocked list lets every
// international and premium-rate number out on any route.
func (c Config) Warnings() []string {
	var w []string
	if len(c.Blocked) == 0 {
		w = append(w, `"blocked" is empty: international and premium-rate numbers can be dialled on every route (toll fraud); leave the key out for the defaults`)
	}
	return w
}

// Marshal encodes c as an indented document ending in a newline, the
// format of Parse. It does not validate.
func Marshal(c Config) ([]byte, error) {
	c = c.Clone()
	c.Normalize()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("pbxconf: %w", err)
	}
	return append(b, '\n'), nil
}

// DecodeExtension, DecodeTrunk and DecodeRoute decode one object of the
// document strictly, for the web API; errors are *FieldError.
func DecodeExtension(data []byte) (Extension, error) {
	var e Extension
	return e, decodeObject(data, &e, "extension")
}

// DecodeTrunk decodes one trunk object strictly.
func DecodeTrunk(data []byte) (Trunk, error) {
	var t Trunk
	return t, decodeObject(data, &t, "trunk")
}

// DecodeRoute decodes one route object strictly.
func DecodeRoute(data []byte) (Route, error) {
	var r Route
	return r, decodeObject(data, &r, "route")
}

// DecodeStrict decodes data into v as Parse decodes a document: unknown
// fields, field names not in lower case, wrong types and trailing data are
// refused with a *FieldError naming the field, object being its kind.
// telephony/ccconf decodes its document with it, so both speak the same
// JSON reason codes.
func DecodeStrict(data []byte, v any, object string) error { return decodeObject(data, v, object) }

func decodeObject(data []byte, v any, object string) error {
	if err := decodeStrict(data, v, object); err != nil {
		return err
	}
	return checkKeys(data, object)
}

// checkKeys refuses field names that differ from the format's only in
// case: encoding/json matches them case-insensitively, so "Secret" would
// otherwise be taken for "secret", and a document with both would keep
// whichever came last. Every name of the format is lower-case, and the
// only free keys (DID numbers) have no letters. data is valid JSON here.
func checkKeys(data []byte, object string) error {
	type frame struct{ object, wantKey bool }
	var stack []frame
	// valueDone records that a value ended inside the innermost container.
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF; decodeStrict has reported any other problem
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, frame{object: t == '{', wantKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].wantKey {
				if strings.ToLower(t) != t {
					return newFieldError(t, objRef{kind: object}, t, ReasonJSONFieldCase)
				}
				stack[n-1].wantKey = false
				continue
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

// decodeStrict decodes one JSON value into v, refusing unknown fields,
// wrong types and trailing data, naming the field in a *FieldError.
func decodeStrict(data []byte, v any, object string) error {
	if object == "" {
		object = "configuration"
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return newFieldError("", objRef{kind: object}, "", ReasonJSONTrailing)
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		path := te.Field
		return newFieldError(path, objRef{kind: object}, lastField(path), wantType(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return newFieldError("", objRef{kind: object}, "", ReasonJSONSyntax, se.Offset, se.Error())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return newFieldError(name, objRef{kind: object}, name, ReasonJSONUnknownField)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return newFieldError("", objRef{kind: object}, "", ReasonJSONTruncated)
	}
	return newFieldError("", objRef{kind: object}, "", ReasonJSONInvalid, err.Error())
}

func lastField(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// wantType is the reason for a JSON value of the wrong type, by the Go kind
// the field wanted.
func wantType(kind string) ReasonCode {
	switch kind {
	case "int", "int64", "uint", "uint64":
		return ReasonJSONWantNumber
	case "slice":
		return ReasonJSONWantList
	case "map", "struct":
		return ReasonJSONWantObject
	case "bool":
		return ReasonJSONWantBool
	}
	return ReasonJSONWantString
}
