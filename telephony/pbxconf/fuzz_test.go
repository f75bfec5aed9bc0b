package pbxconf

import (
	"bytes"
	"reflect"
	"testing"

	"callbox/telephony/switch/dialplan"
)

// FuzzParse: Parse never panics; a document it accepts validates, the
// switch's dial plan compiles its numbers and patterns, exporting it then
// parsing the export gives the same configuration and the same bytes
// again, and a masked export imported over it keeps its secrets.
func FuzzParse(f *testing.F) {
	good, _ := Marshal(sample())
	def, _ := Marshal(Default(4))
	for _, s := range [][]byte{good, def, []byte(`{"version":1,"emergency":["110"]}`), []byte(`{"version":1}`),
		[]byte(`{"version":1,"emergency":["110"],"extensions":[{"number":"201","kind":"fxs","port":1}]}`),
		[]byte(`{"version":1,"emergency":["110"],"trunks":[{"name":"a","kind":"fxo","port":1,"rings":2}],"routes":[{"name":"r","patterns":["9."],"trunks":["a"]}]}`),
		[]byte(`{"version":1,"emergency":["110"],"trunks":[{"name":"a","kind":"fxo","port":1}],"routes":[{"name":"r","patterns":["_9[1-5,7]X.","+."],"blocked":["9a","."],"trunks":["a"]}]}`),
		[]byte(`{"version":1,"emergency":["110"],"extensions":[{"number":"1100","kind":"fxs","port":1}]}`),
		[]byte(`[]`), []byte(`null`), []byte(`{"version":1.5}`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted an invalid configuration: %v", err)
		}
		dc := dialplan.Config{Emergency: c.Emergency, Blocked: c.Blocked}
		for _, e := range c.Extensions {
			dc.Extensions = append(dc.Extensions, e.Number)
		}
		for _, r := range c.Routes {
			dc.Routes = append(dc.Routes, dialplan.Route{Name: r.Name, Patterns: r.Patterns, Strip: r.Strip,
				Prepend: r.Prepend, Trunks: r.Trunks, Callers: r.Allowed, Blocked: r.Blocked})
		}
		if _, err := dialplan.New(dc); err != nil {
			t.Fatalf("accepted a configuration the switch refuses: %v", err)
		}
		out, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("re-export refused: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("re-export differs:\n%+v\n%+v", back, c)
		}
		if again, _ := Marshal(back); !bytes.Equal(again, out) {
			t.Fatalf("export not stable:\n%s\n%s", out, again)
		}
		// A masked export imported over c keeps c's secrets.
		masked, _ := Marshal(c.MaskSecrets())
		m, err := Decode(masked)
		if err != nil {
			t.Fatalf("masked export refused: %v\n%s", err, masked)
		}
		m.KeepSecrets(c)
		if !reflect.DeepEqual(m, c) {
			t.Fatalf("masked export kept\n%+v\nnot\n%+v", m, c)
		}
	})
}
