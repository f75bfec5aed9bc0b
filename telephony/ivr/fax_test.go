package ivr_test

import (
	"errors"
	"testing"

	"callbox/telephony/ivr"
)

// A fax node is validated like the other nodes: one of send and receive,
// and the document must exist when the box says which do.
func TestIVRFaxNodeValidation(t *testing.T) {
	docs := docSet{"prices": true}
	for _, tc := range []struct{ node, want string }{
		{`{"id": "f", "type": "fax", "send": "prices"}`, ""},
		{`{"id": "f", "type": "fax", "receive": true}`, ""},
		{`{"id": "f", "type": "fax", "send": "menu"}`, `node "f": send: no fax document "menu"`},
		{`{"id": "f", "type": "fax"}`, `node "f": send: one of send (a document) and receive is needed`},
		{`{"id": "f", "type": "fax", "send": "prices", "receive": true}`, `node "f": send: send and receive exclude each other`},
		{`{"id": "f", "type": "fax", "send": "a/b"}`, `node "f": send: bad document name "a/b"`},
	} {
		f, err := ivr.ParseFlow([]byte(`{"id": "x", "entry": "f", "nodes": [` + tc.node + `]}`))
		if err != nil {
			t.Fatal(err)
		}
		err = ivr.Validate(f, ivr.ValidateOptions{Documents: docs})
		var es ivr.ValidationErrors
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.node, err)
		case tc.want != "" && (!errors.As(err, &es) || len(es) != 1 || es[0].Error() != tc.want):
			t.Errorf("%s: %v, want %s", tc.node, err, tc.want)
		}
	}
}

type docSet map[string]bool

func (d docSet) HasDocument(name string) bool { return d[name] }
