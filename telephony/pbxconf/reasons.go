package pbxconf

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"callbox/telephony/sip/secret"
)

// ReasonCode names why a value was refused, stably: a FieldError carries it
// with the values its text needs (Args), so a caller that speaks another
// language (the web admin's catalogues, "reason.CODE") renders the reason
// itself instead of showing the English text. Every code has an English
// text in reasonTexts; Reasons lists them all.
type ReasonCode string

// Reason codes of the validation, the strict decoding and the port check.
const (
	ReasonVersion            ReasonCode = "version.must"                    // Version
	ReasonVersionUnsupported ReasonCode = "version.unsupported"             // found, Version
	ReasonEmergencyEmpty     ReasonCode = "emergency.empty"                 //
	ReasonNotNumber          ReasonCode = "number.not_number"               // value
	ReasonPattern            ReasonCode = "pattern.invalid"                 // pattern, detail (English)
	ReasonTooMany            ReasonCode = "list.too_many"                   // max
	ReasonExtNumberTaken     ReasonCode = "number.taken"                    //
	ReasonExtNumberEmergency ReasonCode = "number.emergency"                //
	ReasonExtNumberEmergPfx  ReasonCode = "number.emergency_prefix"         // emergency number
	ReasonFXSPortTaken       ReasonCode = "port.fxs_taken"                  // port, extension
	ReasonTrunkNameTaken     ReasonCode = "name.trunk_taken"                //
	ReasonFXOPortTaken       ReasonCode = "port.fxo_taken"                  // port, trunk
	ReasonNotExtension       ReasonCode = "ref.not_extension"               // value
	ReasonDIDNotExtension    ReasonCode = "dids.not_extension"              // DID, value
	ReasonRouteNameTaken     ReasonCode = "name.route_taken"                //
	ReasonNotTrunk           ReasonCode = "ref.not_trunk"                   // value
	ReasonExtNumberFormat    ReasonCode = "number.format"                   //
	ReasonTextFormat         ReasonCode = "text.format"                     // max
	ReasonSecretFormat       ReasonCode = "secret.format"                   //
	ReasonPortSIPExtension   ReasonCode = "port.only_fxs"                   //
	ReasonFXSPortRange       ReasonCode = "port.fxs_range"                  // max
	ReasonSecretFXS          ReasonCode = "secret.fxs"                      //
	ReasonExtKind            ReasonCode = "kind.extension"                  // value
	ReasonDialNumber         ReasonCode = "number.dial_format"              //
	ReasonForwardFormat      ReasonCode = "forward.format"                  //
	ReasonForwardSelf        ReasonCode = "forward.self"                    //
	ReasonNoAnswerS          ReasonCode = "forward.no_answer_s"             // default
	ReasonName               ReasonCode = "name.format"                     //
	ReasonTrunkKind          ReasonCode = "kind.trunk"                      // value
	ReasonExtRef             ReasonCode = "ref.extension_format"            //
	ReasonHost               ReasonCode = "host.format"                     //
	ReasonSIPPort            ReasonCode = "port.sip_range"                  //
	ReasonTransport          ReasonCode = "transport.unknown"               // value
	ReasonSIPUser            ReasonCode = "user.format"                     //
	ReasonTrunkSecret        ReasonCode = "secret.trunk_format"             //
	ReasonRegisterNeeds      ReasonCode = "register.needs_credentials"      //
	ReasonCodec              ReasonCode = "list.not_one_of"                 // value, the choices
	ReasonTwice              ReasonCode = "list.twice"                      // value
	ReasonCallerIDFXOOnly    ReasonCode = "caller_id.fxo_only"              //
	ReasonRingsFXOOnly       ReasonCode = "rings.fxo_only"                  //
	ReasonNATSIPOnly         ReasonCode = "nat.sip_only"                    //
	ReasonNATHostIP          ReasonCode = "nat.host_ip"                     //
	ReasonFXOPortRange       ReasonCode = "port.fxo_range"                  // max
	ReasonRings              ReasonCode = "rings.range"                     //
	ReasonSIPOnly            ReasonCode = "sip_only"                        //
	ReasonPatternsEmpty      ReasonCode = "patterns.empty"                  //
	ReasonStrip              ReasonCode = "strip.range"                     //
	ReasonPrepend            ReasonCode = "prepend.format"                  //
	ReasonTrunksEmpty        ReasonCode = "trunks.empty"                    //
	ReasonAllowedFormat      ReasonCode = "ref.not_extension_number"        // value
	ReasonFXSMissing         ReasonCode = "port.fxs_missing"                // port, ports on the board
	ReasonFXOMissing         ReasonCode = "port.fxo_missing"                // port, ports on the board
	ReasonJSONTrailing       ReasonCode = "json.trailing"                   //
	ReasonJSONSyntax         ReasonCode = "json.syntax"                     // byte offset, detail (English)
	ReasonJSONUnknownField   ReasonCode = "json.unknown_field"              //
	ReasonJSONFieldCase      ReasonCode = "json.field_case"                 //
	ReasonJSONTruncated      ReasonCode = "json.truncated"                  //
	ReasonJSONInvalid        ReasonCode = "json.invalid"                    // detail (English)
	ReasonJSONWantNumber     ReasonCode = "json.want_number"                // the JSON type found
	ReasonJSONWantList       ReasonCode = "json.want_list"                  // the JSON type found
	ReasonJSONWantObject     ReasonCode = "json.want_object"                // the JSON type found
	ReasonJSONWantBool       ReasonCode = "json.want_bool"                  // the JSON type found
	ReasonJSONWantString     ReasonCode = "json.want_string"                // the JSON type found
	ReasonKeyTaken           ReasonCode = "key.taken"                       // value
	ReasonKeyImmutable       ReasonCode = "key.immutable"                   //
	ReasonSecretMasked       ReasonCode = "secret.masked"                   //
	ReasonCallerIDOverride   ReasonCode = "caller_id_override.no_caller_id" //
)

// reasonTexts are the English texts, fmt formats over a FieldError's Args.
var reasonTexts = map[ReasonCode]string{
	ReasonVersion:            "must be %d",
	ReasonVersionUnsupported: "%d is not supported (this firmware reads version %d)",
	ReasonEmergencyEmpty:     "list at least one emergency number: they are always allowed",
	ReasonNotNumber:          "%q is not a number",
	ReasonPattern:            "%[2]s",
	ReasonTooMany:            "at most %d",
	ReasonExtNumberTaken:     "used by another extension",
	ReasonExtNumberEmergency: "is an emergency number",
	ReasonExtNumberEmergPfx:  "starts with emergency number %[1]s: a phone dialling it reaches %[1]s first",
	ReasonFXSPortTaken:       "fxs%d is already extension %s",
	ReasonTrunkNameTaken:     "used by another trunk",
	ReasonFXOPortTaken:       "fxo%d is already trunk %q",
	ReasonNotExtension:       "%q is not an extension",
	ReasonDIDNotExtension:    "%s: %q is not an extension",
	ReasonRouteNameTaken:     "used by another route",
	ReasonNotTrunk:           "%q is not a trunk",
	ReasonExtNumberFormat:    "use 2 to 8 digits, not starting with 0",
	ReasonTextFormat:         "at most %d characters, no control characters",
	ReasonSecretFormat:       "a SIP extension needs a secret of 8 to 64 printable ASCII characters, no spaces",
	ReasonPortSIPExtension:   "only fxs extensions have a port",
	ReasonFXSPortRange:       "an fxs extension needs its port, 1 to %d (fxs1 = 1)",
	ReasonSecretFXS:          "fxs extensions do not register; leave it empty",
	ReasonExtKind:            "%q is not sip or fxs",
	ReasonDialNumber:         "digits, '*' or '#', optionally after '+', at most 32",
	ReasonForwardFormat:      "forward to a number: digits, '*' or '#', optionally after '+'",
	ReasonForwardSelf:        "an extension cannot forward to itself",
	ReasonNoAnswerS:          "5 to 120 seconds (0 for the default %d)",
	ReasonName:               "1 to 32 of a-z, 0-9, '-' and '_', starting with a letter or digit",
	ReasonTrunkKind:          "%q is not sip or fxo",
	ReasonExtRef:             "an extension number",
	ReasonHost:               "the provider's host name or address",
	ReasonSIPPort:            "1 to 65535 (0 for 5060)",
	ReasonTransport:          "%q is not udp or tcp",
	ReasonSIPUser:            "1 to 64 characters allowed in a SIP user part",
	ReasonTrunkSecret:        "at most 128 printable ASCII characters, no spaces",
	ReasonRegisterNeeds:      "registering at the provider needs a username and a secret",
	ReasonCodec:              "%q is not one of %s",
	ReasonTwice:              "%s listed twice",
	ReasonCallerIDFXOOnly:    "only fxo trunks have a caller ID scheme",
	ReasonRingsFXOOnly:       "only fxo trunks count rings",
	ReasonNATSIPOnly:         "only sip extensions have media through NAT",
	ReasonNATHostIP:          "media through NAT are taken from the provider's IP: give host as an IP address",
	ReasonFXOPortRange:       "an fxo trunk needs its port, 1 to %d (fxo1 = 1)",
	ReasonRings:              "1 to 10 rings before answering (0 for 2)",
	ReasonSIPOnly:            "only sip trunks have it",
	ReasonPatternsEmpty:      "at least one dial pattern",
	ReasonStrip:              "0 to 16 leading digits",
	ReasonPrepend:            "at most 16 digits, '*' or '#'",
	ReasonTrunksEmpty:        "at least one trunk, in failover order",
	ReasonAllowedFormat:      "%q is not an extension number",
	ReasonFXSMissing:         "fxs%d does not exist: this board has %d fxs ports",
	ReasonFXOMissing:         "fxo%d does not exist: this board has %d fxo ports",
	ReasonJSONTrailing:       "trailing data after the JSON value",
	ReasonJSONSyntax:         "not valid JSON at byte %d: %s",
	ReasonJSONUnknownField:   "unknown field",
	ReasonJSONFieldCase:      "unknown field (field names are lower-case)",
	ReasonJSONTruncated:      "empty or truncated JSON",
	ReasonJSONInvalid:        "%s",
	ReasonJSONWantNumber:     "want a whole number, not a JSON %s",
	ReasonJSONWantList:       "want a list, not a JSON %s",
	ReasonJSONWantObject:     "want an object, not a JSON %s",
	ReasonJSONWantBool:       "want true or false, not a JSON %s",
	ReasonJSONWantString:     "want a string, not a JSON %s",
	ReasonKeyTaken:           "%q is taken",
	ReasonKeyImmutable:       "cannot be changed",
	ReasonSecretMasked:       "is " + SecretMask + ", the mask an export without the secrets writes, and no secret is stored for it to keep: give the secret, or import an export made with --secrets",
	ReasonCallerIDOverride:   "overrides with the route's caller_id, which is empty",
}

// SecretReason is the reason code of a secret.Weakness code, e.g.
// "secret.common".
func SecretReason(code string) ReasonCode { return ReasonCode("secret." + code) }

// Reasons lists every reason code a FieldError of this package can carry,
// sorted: the validation's, and the secret strength checks'.
func Reasons() []ReasonCode {
	out := make([]ReasonCode, 0, len(reasonTexts)+len(secret.Codes()))
	for c := range reasonTexts {
		out = append(out, c)
	}
	for _, c := range secret.Codes() {
		out = append(out, SecretReason(c))
	}
	slices.Sort(out)
	return out
}

// ReasonText returns the English text of code with args.
func ReasonText(code ReasonCode, args ...any) string {
	if f, ok := reasonTexts[code]; ok {
		return fmt.Sprintf(f, args...)
	}
	if w, ok := strings.CutPrefix(string(code), "secret."); ok {
		return (&secret.Weakness{Code: w, Args: args}).Reason()
	}
	return string(code)
}

// objRef names the object a problem is in: its kind and, for one object of
// a configuration, its key (even an empty one).
type objRef struct {
	kind, key string
	keyed     bool
}

// ref names one object of a configuration.
func ref(kind, key string) objRef { return objRef{kind: kind, key: key, keyed: true} }

// Object kinds of a FieldError.
const (
	ObjConfiguration = "configuration"
	ObjExtension     = "extension"
	ObjTrunk         = "trunk"
	ObjRoute         = "route"
)

func (o objRef) String() string {
	if !o.keyed {
		return o.kind
	}
	return o.kind + " " + strconv.Quote(o.key)
}
