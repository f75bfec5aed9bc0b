package jsonkv_test

import (
	"errors"
	"slices"
	"testing"

	"callbox/telephony/internal/jsonkv"
	"callbox/telephony/internal/memkv"
)

type thing struct {
	N int `json:"n"`
}

var errMissing = errors.New("test: missing")

func TestTable(t *testing.T) {
	st := memkv.New()
	tab := jsonkv.Table[thing]{St: st, Prefix: []byte{'t'}, Name: "test: thing", NotFound: errMissing}
	// Neighbours on both sides of the prefix must stay out of List.
	_ = st.Put([]byte("s9"), []byte(`{"n":-1}`))
	_ = st.Put([]byte("u0"), []byte(`{"n":-2}`))
	for _, id := range []string{"c", "a", "b"} {
		if err := tab.Put(id, thing{N: int(id[0])}); err != nil {
			t.Fatal(err)
		}
	}
	_ = st.Put(tab.Key("bb"), []byte("not json"))

	if v, err := tab.Get("b"); err != nil || v.N != 'b' {
		t.Fatalf("Get b: %v %v", v, err)
	}
	if _, err := tab.Get("zz"); !errors.Is(err, errMissing) {
		t.Fatalf("Get of a missing id: %v, want errMissing", err)
	}
	if _, err := tab.Get("bb"); err == nil || errors.Is(err, errMissing) {
		t.Fatalf("Get of a bad value: %v", err)
	}
	all, err := tab.List()
	if want := []thing{{'a'}, {'b'}, {'c'}}; err != nil || !slices.Equal(all, want) {
		t.Fatalf("List: %v %v, want %v", all, err, want)
	}
	var ids []string
	bad, err := tab.Each("b", "c", func(id string, _ thing) bool { ids = append(ids, id); return true })
	if err != nil || bad != 1 || !slices.Equal(ids, []string{"b"}) {
		t.Fatalf("Each [b, c): %v bad %d %v", ids, bad, err)
	}
	ids = nil
	if _, err := tab.Each("", "", func(id string, _ thing) bool { ids = append(ids, id); return false }); err != nil || len(ids) != 1 {
		t.Fatalf("Each stopped after one: %v %v", ids, err)
	}
	if err := tab.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := tab.Get("a"); !errors.Is(err, errMissing) {
		t.Fatalf("Get after Delete: %v", err)
	}
}

// A prefix ending in 0xff still bounds its range.
func TestTablePrefixEnd(t *testing.T) {
	st := memkv.New()
	tab := jsonkv.Table[thing]{St: st, Prefix: []byte{'m', 0xff}, Name: "test"}
	_ = tab.Put("x", thing{1})
	_ = st.Put([]byte{'n'}, []byte(`{"n":2}`))
	all, err := tab.List()
	if err != nil || !slices.Equal(all, []thing{{1}}) {
		t.Fatalf("List: %v %v", all, err)
	}
}
