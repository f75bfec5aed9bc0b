package pbxconf

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"callbox/telephony/switch/dialplan"
)

// sample is a configuration using every field.
func sample() Config {
	c := Default(4)
	c.Extensions = append(c.Extensions,
		Extension{Number: "301", Name: "Agent Li 李", Kind: KindSIP, Secret: "s3cret-pass", CallerIDName: "Li",
			CallerIDNumber: "02155550101", Voicemail: true, DND: true, NAT: true,
			Forward: Forward{Busy: "201", NoAnswer: "13800138000", NoAnswerS: 25}})
	c.Trunks = []Trunk{
		{Name: "provider", Kind: KindSIP, Host: "sip.example.net", Port: 5080, Transport: TransportTCP,
			Username: "02155550100", AuthUser: "acct77", Secret: "trunk-pass", Register: true,
			DIDs: map[string]string{"02155550100": "201", "02155550101": "301"}, Default: "202", Codecs: []string{"PCMA", "PCMU"}},
		{Name: "pstn1", Kind: KindFXO, Port: 1, CallerID: "bellcore", Rings: 3, Default: "201"},
	}
	c.Routes = []Route{
		{Name: "mobile", Patterns: []string{"91[3-9]XXXXXXXXX"}, Strip: 1, Trunks: []string{"provider", "pstn1"},
			CallerID: "02155550100", CallerIDOverride: true, Allowed: []string{"301"}, Blocked: []string{"9138001380000"}},
		{Name: "local", Patterns: []string{"9NXXXXXXX", "_9ZXX."}, Strip: 1, Prepend: "021", Trunks: []string{"pstn1"}},
	}
	return c
}

func TestDefaultSim(t *testing.T) {
	c := Default(4)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"201", "202", "203", "204"} {
		e := c.Extensions[i]
		if e.Number != want || e.Kind != KindFXS || e.Port != i+1 {
			t.Errorf("extension %d = %+v, want %s on fxs%d", i, e, want, i+1)
		}
	}
	if len(c.Extensions) != 4 {
		t.Errorf("%d extensions", len(c.Extensions))
	}
}

func TestRoundTrip(t *testing.T) {
	c := sample()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	doc, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(doc)
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip changed the configuration:\n%+v\n%+v", back, c)
	}
	again, _ := Marshal(back)
	if !bytes.Equal(doc, again) {
		t.Fatalf("second export differs:\n%s\n%s", doc, again)
	}
	for _, secret := range []string{"s3cret-pass", "trunk-pass"} {
		if !bytes.Contains(doc, []byte(secret)) {
			t.Errorf("the backup lost the secret %q", secret)
		}
	}
}

// fieldOf returns the first FieldError of err.
func fieldOf(t *testing.T, err error) *FieldError {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) has no FieldError", err, err)
	}
	return fe
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		path   string // JSON path of the first error
		object string
	}{
		{"version", func(c *Config) { c.Version = 2 }, "version", "configuration"},
		{"no emergency numbers", func(c *Config) { c.Emergency = nil }, "emergency", "configuration"},
		{"bad emergency number", func(c *Config) { c.Emergency[1] = "1 1 9" }, "emergency[1]", "configuration"},
		{"bad blocked pattern", func(c *Config) { c.Blocked = append(c.Blocked, "9.1") }, "blocked[8]", "configuration"},
		{"extension number letters", func(c *Config) { c.Extensions[0].Number = "2a1" }, "extensions[0].number", `extension "2a1"`},
		{"extension number leading 0", func(c *Config) { c.Extensions[0].Number = "0201" }, "extensions[0].number", `extension "0201"`},
		{"duplicate number", func(c *Config) { c.Extensions[1].Number = "201" }, "extensions[1].number", `extension "201"`},
		{"emergency extension", func(c *Config) { c.Extensions[4].Number = "110" }, "extensions[4].number", `extension "110"`},
		{"extension behind an emergency number", func(c *Config) { c.Extensions[4].Number = "1191" }, "extensions[4].number", `extension "1191"`},
		{"configured emergency number", func(c *Config) {
			c.Emergency = append(c.Emergency, "999")
			c.Extensions[4].Number = "9990"
		}, "extensions[4].number", `extension "9990"`},
		{"kind", func(c *Config) { c.Extensions[0].Kind = "iax" }, "extensions[0].kind", `extension "201"`},
		{"sip without secret", func(c *Config) { c.Extensions[4].Secret = "" }, "extensions[4].secret", `extension "301"`},
		{"sip short secret", func(c *Config) { c.Extensions[4].Secret = "1234567" }, "extensions[4].secret", `extension "301"`},
		{"sip secret with space", func(c *Config) { c.Extensions[4].Secret = "1234 5678" }, "extensions[4].secret", `extension "301"`},
		{"sip with port", func(c *Config) { c.Extensions[4].Port = 2 }, "extensions[4].port", `extension "301"`},
		{"fxs without port", func(c *Config) { c.Extensions[2].Port = 0 }, "extensions[2].port", `extension "203"`},
		{"fxs port twice", func(c *Config) { c.Extensions[2].Port = 1 }, "extensions[2].port", `extension "203"`},
		{"fxs with secret", func(c *Config) { c.Extensions[2].Secret = "abcdefgh" }, "extensions[2].secret", `extension "203"`},
		{"name control char", func(c *Config) { c.Extensions[0].Name = "a\x07" }, "extensions[0].name", `extension "201"`},
		{"caller id number", func(c *Config) { c.Extensions[4].CallerIDNumber = "021-555" }, "extensions[4].caller_id_number", `extension "301"`},
		{"forward letters", func(c *Config) { c.Extensions[4].Forward.Always = "bob" }, "extensions[4].forward.always", `extension "301"`},
		{"forward to itself", func(c *Config) { c.Extensions[4].Forward.Busy = "301" }, "extensions[4].forward.busy", `extension "301"`},
		{"no answer time", func(c *Config) { c.Extensions[4].Forward.NoAnswerS = 500 }, "extensions[4].forward.no_answer_s", `extension "301"`},
		{"trunk name", func(c *Config) { c.Trunks[0].Name = "My Provider" }, "trunks[0].name", `trunk "My Provider"`},
		{"trunk name twice", func(c *Config) { c.Trunks[1].Name = "provider" }, "trunks[1].name", `trunk "provider"`},
		{"trunk kind", func(c *Config) { c.Trunks[0].Kind = "h323" }, "trunks[0].kind", `trunk "provider"`},
		{"sip host", func(c *Config) { c.Trunks[0].Host = "sip example" }, "trunks[0].host", `trunk "provider"`},
		{"sip port", func(c *Config) { c.Trunks[0].Port = 70000 }, "trunks[0].port", `trunk "provider"`},
		{"transport", func(c *Config) { c.Trunks[0].Transport = "tls" }, "trunks[0].transport", `trunk "provider"`},
		{"register without secret", func(c *Config) { c.Trunks[0].Secret = "" }, "trunks[0].secret", `trunk "provider"`},
		{"register without user", func(c *Config) { c.Trunks[0].Username = "" }, "trunks[0].username", `trunk "provider"`},
		{"did destination", func(c *Config) { c.Trunks[0].DIDs["02155550102"] = "999" }, "trunks[0].dids", `trunk "provider"`},
		{"did number", func(c *Config) { c.Trunks[0].DIDs["abc"] = "201" }, "trunks[0].dids", `trunk "provider"`},
		{"codec", func(c *Config) { c.Trunks[0].Codecs = []string{"G729"} }, "trunks[0].codecs", `trunk "provider"`},
		{"codec twice", func(c *Config) { c.Trunks[0].Codecs = []string{"PCMU", "PCMU"} }, "trunks[0].codecs", `trunk "provider"`},
		{"sip rings", func(c *Config) { c.Trunks[0].Rings = 2 }, "trunks[0].rings", `trunk "provider"`},
		{"default destination", func(c *Config) { c.Trunks[0].Default = "299" }, "trunks[0].default", `trunk "provider"`},
		{"fxo port", func(c *Config) { c.Trunks[1].Port = 0 }, "trunks[1].port", `trunk "pstn1"`},
		{"fxo port twice", func(c *Config) {
			c.Trunks = append(c.Trunks, Trunk{Name: "pstn2", Kind: KindFXO, Port: 1})
		}, "trunks[2].port", `trunk "pstn2"`},
		{"fxo caller id", func(c *Config) { c.Trunks[1].CallerID = "v23" }, "trunks[1].caller_id", `trunk "pstn1"`},
		{"fxo rings", func(c *Config) { c.Trunks[1].Rings = 11 }, "trunks[1].rings", `trunk "pstn1"`},
		{"fxo with host", func(c *Config) { c.Trunks[1].Host = "x" }, "trunks[1].host", `trunk "pstn1"`},
		{"fxo with nat", func(c *Config) { c.Trunks[1].NAT = true }, "trunks[1].nat", `trunk "pstn1"`},
		{"nat to a host name", func(c *Config) { c.Trunks[0].NAT = true }, "trunks[0].nat", `trunk "provider"`},
		{"fxs with nat", func(c *Config) { c.Extensions[2].NAT = true }, "extensions[2].nat", `extension "203"`},
		{"route name", func(c *Config) { c.Routes[0].Name = "" }, "routes[0].name", `route ""`},
		{"route name twice", func(c *Config) { c.Routes[1].Name = "mobile" }, "routes[1].name", `route "mobile"`},
		{"no patterns", func(c *Config) { c.Routes[0].Patterns = nil }, "routes[0].patterns", `route "mobile"`},
		{"bad pattern", func(c *Config) { c.Routes[0].Patterns = []string{"9[3-1]X"} }, "routes[0].patterns", `route "mobile"`},
		{"bad route blocked", func(c *Config) { c.Routes[0].Blocked = []string{"9?"} }, "routes[0].blocked", `route "mobile"`},
		{"set with a comma", func(c *Config) { c.Routes[1].Patterns = []string{"9[1-5,7]X."} }, "routes[1].patterns", `route "local"`},
		{"strip", func(c *Config) { c.Routes[0].Strip = -1 }, "routes[0].strip", `route "mobile"`},
		{"prepend", func(c *Config) { c.Routes[0].Prepend = "+86" }, "routes[0].prepend", `route "mobile"`},
		{"no trunks", func(c *Config) { c.Routes[0].Trunks = nil }, "routes[0].trunks", `route "mobile"`},
		{"unknown trunk", func(c *Config) { c.Routes[0].Trunks = []string{"provider", "gone"} }, "routes[0].trunks", `route "mobile"`},
		{"trunk twice", func(c *Config) { c.Routes[0].Trunks = []string{"pstn1", "pstn1"} }, "routes[0].trunks", `route "mobile"`},
		{"route caller id", func(c *Config) { c.Routes[0].CallerID = "x" }, "routes[0].caller_id", `route "mobile"`},
		{"override without caller id", func(c *Config) { c.Routes[1].CallerIDOverride = true }, "routes[1].caller_id_override", `route "local"`},
		{"masked secret", func(c *Config) { c.Extensions[4].Secret = SecretMask }, "extensions[4].secret", `extension "301"`},
		{"allowed unknown", func(c *Config) { c.Routes[0].Allowed = []string{"205"} }, "routes[0].allowed", `route "mobile"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sample()
			tc.change(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			fe := fieldOf(t, err)
			if fe.Path != tc.path || fe.Object != tc.object {
				t.Fatalf("first error %q: path %q object %q, want %q %q", err, fe.Path, fe.Object, tc.path, tc.object)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "pbxconf: "+tc.object) {
				t.Fatalf("message %q does not name %s", msg, tc.object)
			}
			// The same document refused by Parse names the same path.
			doc, _ := Marshal(c)
			if _, err := Parse(doc); err == nil || fieldOf(t, err).Path != tc.path {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

func TestValidateReportsSeveral(t *testing.T) {
	c := sample()
	c.Extensions[0].Name = "\x00"
	c.Trunks[0].Host = ""
	c.Routes[1].Strip = 99
	err := c.Validate()
	var paths []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		paths = append(paths, e.(*FieldError).Path)
	}
	want := []string{"extensions[0].name", "trunks[0].host", "routes[1].strip"}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("paths %q, want %q", paths, want)
	}
}

func TestParseRefuses(t *testing.T) {
	good, _ := Marshal(sample())
	for _, tc := range []struct {
		name, doc, field, sub string
	}{
		{"unknown top-level field", `{"version":1,"emergency":["110"],"extra":1}`, "extra", "unknown field"},
		{"unknown nested field", `{"version":1,"emergency":["110"],"extensions":[{"number":"201","kind":"fxs","port":1,"colour":"red"}]}`, "colour", "unknown field"},
		{"wrong type", `{"version":1,"emergency":["110"],"extensions":[{"number":"201","kind":"fxs","port":"one"}]}`, "port", "whole number"},
		{"version missing", `{"emergency":["110"]}`, "version", "not supported"},
		{"version 2", `{"version":2,"emergency":["110"]}`, "version", "not supported"},
		{"trailing data", string(good) + "{}", "", "trailing data"},
		{"not JSON", `{"version":1,`, "", "truncated"},
		{"syntax", `{"version":1 "x"}`, "", "not valid JSON"},
		{"empty", ``, "", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			fe := fieldOf(t, err)
			if fe.Field != tc.field || !strings.Contains(err.Error(), tc.sub) {
				t.Fatalf("error %q field %q, want field %q containing %q", err, fe.Field, tc.field, tc.sub)
			}
		})
	}
	if _, err := Parse([]byte(`{"version":2,"emergency":["110"]}`)); !errors.Is(err, ErrVersion) {
		t.Errorf("version error %v is not ErrVersion", err)
	}
}

func TestDecodeObjects(t *testing.T) {
	e, err := DecodeExtension([]byte(`{"number":"301","kind":"sip","secret":"abcdefgh"}`))
	if err != nil || e.Number != "301" || e.ValidateObject() != nil {
		t.Fatalf("%+v %v %v", e, err, e.ValidateObject())
	}
	if _, err := DecodeTrunk([]byte(`{"name":"x","kind":"sip","hots":"h"}`)); err == nil || fieldOf(t, err).Field != "hots" {
		t.Fatalf("unknown field: %v", err)
	}
	if _, err := DecodeRoute([]byte(`{"name":"x","strip":"1"}`)); err == nil || fieldOf(t, err).Field != "strip" {
		t.Fatalf("wrong type: %v", err)
	}
	r := Route{Name: "r", Patterns: []string{"9."}, Trunks: []string{"t"}, Strip: 20}
	if err := r.ValidateObject(); err == nil || fieldOf(t, err).Field != "strip" {
		t.Fatalf("route: %v", err)
	}
	tr := Trunk{Name: "t", Kind: KindFXO}
	if err := tr.ValidateObject(); err == nil || fieldOf(t, err).JSONField() != "port" {
		t.Fatalf("trunk: %v", err)
	}
}

func TestCheckPorts(t *testing.T) {
	c := sample() // fxs1-4, fxo1
	if err := c.CheckPorts(4, 1); err != nil {
		t.Fatal(err)
	}
	if fe := fieldOf(t, c.CheckPorts(3, 1)); fe.Path != "extensions[3].port" || fe.Object != `extension "204"` {
		t.Errorf("3 fxs ports: %v", fe)
	}
	if fe := fieldOf(t, c.CheckPorts(4, 0)); fe.Path != "trunks[1].port" || fe.Object != `trunk "pstn1"` {
		t.Errorf("no fxo ports: %v", fe)
	}
}

func TestFieldNamesAreLowerCase(t *testing.T) {
	for _, tc := range []struct{ doc, field string }{
		{`{"version":1,"emergency":["110"],"Extensions":[]}`, "Extensions"},
		{`{"version":1,"emergency":["110"],"extensions":[{"number":"201","kind":"fxs","Port":1}]}`, "Port"},
		{`{"version":1,"emergency":["110"],"extensions":[{"number":"201","kind":"fxs","port":1,"forward":{"Busy":"202"}}]}`, "Busy"},
	} {
		_, err := Parse([]byte(tc.doc))
		if err == nil || fieldOf(t, err).Field != tc.field {
			t.Errorf("%s: %v, want %s refused", tc.doc, err, tc.field)
		}
	}
	// Values may have upper case letters, and DID keys are numbers.
	c := sample()
	c.Extensions[0].Name = "Front Desk ABC"
	doc, _ := Marshal(c)
	if _, err := Parse(doc); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeExtension([]byte(`{"number":"301","Secret":"x"}`)); err == nil || fieldOf(t, err).Field != "Secret" {
		t.Errorf("DecodeExtension accepted Secret: %v", err)
	}
}

// TestDocExample parses the example of the package documentation, so the
// documented format stays true.
func TestDocExample(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var doc strings.Builder
	in := false
	for line := range strings.SplitSeq(string(src), "\n") {
		switch {
		case strings.HasPrefix(line, "//\t"):
			in = true
			doc.WriteString(strings.TrimPrefix(line, "//\t") + "\n")
		case in:
			in = false
			if doc.Len() > 0 {
				goto parse
			}
		}
	}
parse:
	c, err := Parse([]byte(doc.String()))
	if err != nil {
		t.Fatalf("the documented example is refused: %v\n%s", err, doc.String())
	}
	if len(c.Extensions) != 2 || len(c.Trunks) != 2 || len(c.Routes) != 1 {
		t.Fatalf("example read as %+v", c)
	}
}

// Patterns are the switch's: what dialplan parses is valid here, what it
// refuses is refused naming the object, the path, the field and the
// pattern, with dialplan.ErrPattern for errors.Is.
func TestPatternsAreTheSwitchs(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		ok      bool
	}{
		{"9NXXXXXXX", true},
		{"_9ZXX.", true},
		{"+.", true}, // international over SIP, in the default blocked list
		{"9[1-35-9]X!", true},
		{"*7[67]", true},
		{"9A", true}, // DTMF A to D are dialable
		{"9[1-5,7]X", false},
		{"9.1", false},
		{"9[12", false},
		{"9[5-1]", false},
		{"9?", false},
		{"", false},
		{strings.Repeat("9", 65), false},
	} {
		_, perr := dialplan.ParsePattern(tc.pattern)
		if (perr == nil) != tc.ok {
			t.Fatalf("%q: dialplan says %v", tc.pattern, perr)
		}
		c := sample()
		c.Routes[1].Blocked = []string{"95551234", tc.pattern}
		err := c.Validate()
		if tc.ok {
			if err != nil {
				t.Errorf("%q refused: %v", tc.pattern, err)
			}
			continue
		}
		fe := fieldOf(t, err)
		if fe.Path != "routes[1].blocked" || fe.Field != "blocked" || fe.Object != `route "local"` || !errors.Is(err, dialplan.ErrPattern) {
			t.Errorf("%q: %v: path %q field %q object %q", tc.pattern, err, fe.Path, fe.Field, fe.Object)
		}
		if want := strings.TrimPrefix(perr.Error(), "dialplan: "); !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %q does not say %q", tc.pattern, err, want)
		}
	}
	c := sample()
	c.Blocked = append(c.Blocked, "0[")
	if fe := fieldOf(t, c.Validate()); fe.Path != "blocked[8]" || !errors.Is(fe, dialplan.ErrPattern) {
		t.Errorf("global blocked: %v", fe)
	}
}

// The defaults are the switch's, copied into each new configuration; with
// a route taking any number, the dial plan of a new box refuses the
// international and premium-rate numbers of China and North America and
// lets ordinary and emergency numbers out.
func TestDefaultDialling(t *testing.T) {
	if !slices.Equal(DefaultEmergency, dialplan.DefaultEmergency) || !slices.Equal(DefaultBlocked, dialplan.DefaultBlocked) {
		t.Fatalf("defaults %q %q differ from the switch's %q %q", DefaultEmergency, DefaultBlocked, dialplan.DefaultEmergency, dialplan.DefaultBlocked)
	}
	c := Default(4)
	c.Blocked[0] = "changed"
	c.Emergency[0] = "changed"
	if DefaultBlocked[0] == "changed" || DefaultEmergency[0] == "changed" {
		t.Fatal("Default shares the default lists")
	}
	c = Default(4)
	plan, err := dialplan.New(dialplan.Config{
		Extensions: []string{"201", "202", "203", "204"},
		Routes:     []dialplan.Route{{Name: "any", Patterns: []string{"X."}, Trunks: []string{"fxo1"}}},
		Emergency:  c.Emergency,
		Blocked:    c.Blocked,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		number string
		want   dialplan.Kind
	}{
		{"0085212345678", dialplan.Blocked},  // international from China
		{"01144207946000", dialplan.Blocked}, // international from North America
		{"+442079460000", dialplan.Blocked},  // international over SIP
		{"1601234", dialplan.Blocked},        // CN 160 information line
		{"16812345", dialplan.Blocked},       // CN 168 information line
		{"19005551234", dialplan.Blocked},    // NANP 1-900
		{"9005551234", dialplan.Blocked},     // NANP 900 without the 1
		{"19765551234", dialplan.Blocked},    // NANP 1-976
		{"13800138000", dialplan.Outbound},   // CN mobile
		{"16612345678", dialplan.Outbound},   // CN mobile, 166
		{"02155501234", dialplan.Outbound},   // CN trunk call
		{"55501234", dialplan.Outbound},      // CN local
		{"12125551234", dialplan.Outbound},   // NANP long distance
		{"18005551234", dialplan.Outbound},   // NANP toll-free
		{"202", dialplan.Extension},
		{"110", dialplan.Emergency},
		{"119", dialplan.Emergency},
		{"120", dialplan.Emergency},
		{"122", dialplan.Emergency},
		{"112", dialplan.Emergency},
		{"911", dialplan.Emergency},
	} {
		if d := plan.Resolve("201", tc.number); d.Kind != tc.want {
			t.Errorf("%s: %+v, want %v", tc.number, d, tc.want)
		}
	}
	// pbxconf once blocked "168." where the switch blocks "168X.": every
	// 168 information number (168 and 4 or 5 digits) is still refused.
	for _, r := range []struct{ lo, hi, step int }{{1680000, 1689999, 7}, {16800000, 16899999, 73}} {
		for n := r.lo; n <= r.hi; n += r.step {
			num := strconv.Itoa(n)
			if d := plan.Resolve("201", num); d.Kind != dialplan.Blocked {
				t.Fatalf("%s: %+v", num, d)
			}
		}
	}
}

// A document that leaves "blocked" or "emergency" out (or gives null)
// takes the defaults; only an explicit empty blocked list blocks nothing,
// and Warnings says so. An explicit empty emergency list stays refused.
func TestMissingListsTakeDefaults(t *testing.T) {
	const ext = `"extensions": [{"number": "201", "kind": "fxs", "port": 1}]`
	for _, tc := range []struct {
		name, doc          string
		emergency, blocked []string
		warnings           int
	}{
		{"neither", `{"version": 1, ` + ext + `}`, DefaultEmergency, DefaultBlocked, 0},
		{"null", `{"version": 1, "emergency": null, "blocked": null}`, DefaultEmergency, DefaultBlocked, 0},
		{"own", `{"version": 1, "emergency": ["999"], "blocked": ["00."]}`, []string{"999"}, []string{"00."}, 0},
		{"blocked none", `{"version": 1, "blocked": []}`, DefaultEmergency, []string{}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Emergency, tc.emergency) || !slices.Equal(c.Blocked, tc.blocked) {
				t.Errorf("emergency %q blocked %q, want %q %q", c.Emergency, c.Blocked, tc.emergency, tc.blocked)
			}
			if w := c.Warnings(); len(w) != tc.warnings {
				t.Errorf("warnings %q", w)
			}
			if len(c.Blocked) > 0 { // the defaults are copies
				c.Blocked[0] = "changed"
			}
			if DefaultBlocked[0] == "changed" {
				t.Fatal("Parse shares DefaultBlocked")
			}
		})
	}
	if _, err := Parse([]byte(`{"version": 1, "emergency": []}`)); err == nil || fieldOf(t, err).Field != "emergency" {
		t.Errorf("an empty emergency list: %v", err)
	}
}

// An export masks every secret; importing it over the stored
// configuration keeps the stored secrets; a mask nothing stands behind is
// refused, with ErrMaskedSecret for callers that cannot know yet.
func TestSecretMask(t *testing.T) {
	c := sample()
	m := c.MaskSecrets()
	if c.Extensions[4].Secret != "s3cret-pass" || c.Trunks[0].Secret != "trunk-pass" {
		t.Fatal("MaskSecrets changed its receiver")
	}
	if m.Extensions[4].Secret != SecretMask || m.Trunks[0].Secret != SecretMask || m.Extensions[0].Secret != "" || m.Trunks[1].Secret != "" {
		t.Fatalf("masked %+v %+v", m.Extensions, m.Trunks)
	}
	doc, _ := Marshal(m)
	if bytes.Contains(doc, []byte("s3cret-pass")) || bytes.Contains(doc, []byte("trunk-pass")) {
		t.Fatalf("masked export shows a secret:\n%s", doc)
	}
	back, err := Decode(doc)
	if err != nil {
		t.Fatal(err)
	}
	err = back.Validate()
	if fe := fieldOf(t, err); !errors.Is(err, ErrMaskedSecret) || fe.Path != "extensions[4].secret" {
		t.Fatalf("a mask validated: %v", err)
	}
	if !strings.Contains(err.Error(), `trunk "provider" (trunks[0].secret)`) {
		t.Errorf("the trunk's mask is not named: %v", err)
	}
	back.KeepSecrets(c)
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("KeepSecrets:\n%+v\nwant\n%+v", back, c)
	}
	// Only the same extension number or trunk name lends its secret.
	other := m.Clone()
	other.Extensions[4].Number = "302"
	other.Trunks[0].Name = "carrier"
	other.Routes[0].Trunks[0] = "carrier"
	other.Trunks[0].DIDs = map[string]string{"02155550100": "201", "02155550101": "302"}
	other.Routes[0].Allowed = []string{"302"}
	other.Extensions[4].Forward = Forward{}
	other.KeepSecrets(c)
	err = other.Validate()
	if !errors.Is(err, ErrMaskedSecret) || strings.Count(err.Error(), "--secrets") != 2 {
		t.Fatalf("masks without a stored secret: %v", err)
	}
}
