package pbxconf

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzParse: Parse never panics; a document it accepts validates, and
// exporting it then parsing the export gives the same configuration and
// the same bytes again.
func FuzzParse(f *testing.F) {
	good, _ := Marshal(sample())
	def, _ := Marshal(Default(4))
	for _, s := range [][]byte{good, def, []byte(`{"version":1,"emergency":["110"]}`), []byte(`{"version":1}`),
		[]byte(`{"version":1,"emergency":["110"],"extensions":[{"number":"201","kind":"fxs","port":1}]}`),
		[]byte(`{"version":1,"emergency":["110"],"trunks":[{"name":"a","kind":"fxo","port":1,"rings":2}],"routes":[{"name":"r","patterns":["9."],"trunks":["a"]}]}`),
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
	})
}
