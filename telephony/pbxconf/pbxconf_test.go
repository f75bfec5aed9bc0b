package pbxconf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// sample is a configuration using every field.
func sample() Config {
	c := Default(4)
	c.Extensions = append(c.Extensions,
		Extension{Number: "301", Name: "Agent Li 李", Kind: KindSIP, Secret: "s3cret-pass", CallerIDName: "Li",
			CallerIDNumber: "02155550101", Voicemail: true, DND: true,
			Forward: Forward{Busy: "201", NoAnswer: "13800138000", NoAnswerS: 25}})
	c.Trunks = []Trunk{
		{Name: "provider", Kind: KindSIP, Host: "sip.example.net", Port: 5080, Transport: TransportTCP,
			Username: "02155550100", AuthUser: "acct77", Secret: "trunk-pass", Register: true,
			DIDs: map[string]string{"02155550100": "201", "02155550101": "301"}, Default: "202", Codecs: []string{"PCMA", "PCMU"}},
		{Name: "pstn1", Kind: KindFXO, Port: 1, CallerID: "bellcore", Rings: 3, Default: "201"},
	}
	c.Routes = []Route{
		{Name: "mobile", Patterns: []string{"91[3-9]XXXXXXXXX"}, Strip: 1, Trunks: []string{"provider", "pstn1"},
			CallerID: "02155550100", Allowed: []string{"301"}, Blocked: []string{"9138001380000"}},
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
		{"bad blocked pattern", func(c *Config) { c.Blocked = append(c.Blocked, "9.1") }, "blocked[5]", "configuration"},
		{"extension number letters", func(c *Config) { c.Extensions[0].Number = "2a1" }, "extensions[0].number", `extension "2a1"`},
		{"extension number leading 0", func(c *Config) { c.Extensions[0].Number = "0201" }, "extensions[0].number", `extension "0201"`},
		{"duplicate number", func(c *Config) { c.Extensions[1].Number = "201" }, "extensions[1].number", `extension "201"`},
		{"emergency extension", func(c *Config) { c.Extensions[4].Number = "110" }, "extensions[4].number", `extension "110"`},
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
		{"route name", func(c *Config) { c.Routes[0].Name = "" }, "routes[0].name", `route ""`},
		{"route name twice", func(c *Config) { c.Routes[1].Name = "mobile" }, "routes[1].name", `route "mobile"`},
		{"no patterns", func(c *Config) { c.Routes[0].Patterns = nil }, "routes[0].patterns", `route "mobile"`},
		{"bad pattern", func(c *Config) { c.Routes[0].Patterns = []string{"9[3-1]X"} }, "routes[0].patterns", `route "mobile"`},
		{"bad route blocked", func(c *Config) { c.Routes[0].Blocked = []string{"9a"} }, "routes[0].blocked", `route "mobile"`},
		{"strip", func(c *Config) { c.Routes[0].Strip = -1 }, "routes[0].strip", `route "mobile"`},
		{"prepend", func(c *Config) { c.Routes[0].Prepend = "+86" }, "routes[0].prepend", `route "mobile"`},
		{"no trunks", func(c *Config) { c.Routes[0].Trunks = nil }, "routes[0].trunks", `route "mobile"`},
		{"unknown trunk", func(c *Config) { c.Routes[0].Trunks = []string{"provider", "gone"} }, "routes[0].trunks", `route "mobile"`},
		{"trunk twice", func(c *Config) { c.Routes[0].Trunks = []string{"pstn1", "pstn1"} }, "routes[0].trunks", `route "mobile"`},
		{"route caller id", func(c *Config) { c.Routes[0].CallerID = "x" }, "routes[0].caller_id", `route "mobile"`},
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

func TestRouteOutbound(t *testing.T) {
	c := sample()
	for _, tc := range []struct {
		from, dial string
		route, num string
		blocked    bool
		emergency  bool
	}{
		{"301", "913800138001", "mobile", "13800138001", false, false},
		{"201", "913800138001", "", "", true, false},                       // not allowed on mobile
		{"301", "9138001380000", "local", "021138001380000", false, false}, // too long for mobile
		{"201", "955501234", "local", "02155501234", false, false},
		{"201", "9555012345", "local", "021555012345", false, false},
		{"201", "0044123456", "", "", true, false}, // international blocked
		{"201", "19005551234", "", "", true, false},
		{"201", "110", "mobile", "110", false, true}, // emergency: first route
		{"201", "1234", "", "", false, false},        // unrouted
	} {
		got := c.RouteOutbound(tc.from, tc.dial)
		name := ""
		if got.Route != nil {
			name = got.Route.Name
		}
		if name != tc.route || got.Number != tc.num || got.Blocked != tc.blocked || got.Emergency != tc.emergency {
			t.Errorf("%s dials %s: %+v (route %q), want route %q number %q blocked %v emergency %v",
				tc.from, tc.dial, got, name, tc.route, tc.num, tc.blocked, tc.emergency)
		}
	}
	// The route's own blocked list.
	c.Routes[0].Blocked = []string{"9138XXXXXXXX"}
	if got := c.RouteOutbound("301", "913800138001"); !got.Blocked {
		t.Errorf("route blocked list ignored: %+v", got)
	}
	// Emergency wins over blocked patterns and allowed lists.
	c.Blocked = append(c.Blocked, "1XX")
	if got := c.RouteOutbound("201", "119"); got.Blocked || !got.Emergency || got.Route == nil {
		t.Errorf("emergency call refused: %+v", got)
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

// TestPlanAgreesWithMatchAny: the compiled plan and the pattern strings
// decide alike for every number of a small exhaustive space.
func TestPlanAgreesWithMatchAny(t *testing.T) {
	c := sample()
	plan := c.Plan()
	for n := 0; n < 100000; n++ {
		num := fmt.Sprintf("9%d", n)
		if contains(c.Emergency, num) {
			continue // TestRouteOutbound covers them
		}
		got := plan.Route("301", num)
		want := ""
		if !MatchAny(c.Blocked, num) {
			for _, r := range c.Routes {
				if MatchAny(r.Patterns, num) {
					want = r.Name
					break
				}
			}
		}
		name := ""
		if got.Route != nil {
			name = got.Route.Name
		}
		if name != want {
			t.Fatalf("%s: plan chose %q, patterns %q", num, name, want)
		}
	}
}
