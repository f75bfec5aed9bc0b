package acd

import (
	"errors"
	"testing"
	"time"
)

// An IVR queue node names a group (or a customer type): the call waits
// in that group, ahead of calls of a lower priority type, whatever the
// caller's number would have chosen.
func TestOfferToGroupAndType(t *testing.T) {
	v := newEnv(t, Config{
		Groups: []Group{{ID: 1, Name: "sales", Enabled: true}, {ID: 2, Name: "support", Enabled: true}},
		Agents: []Agent{{ID: "a", Groups: []Membership{{1, 1}}}, {ID: "s", Groups: []Membership{{2, 1}}}},
		CustomerTypes: []CustomerType{
			{ID: 5, Name: "vip", Priority: 9, Groups: []int{1}},
		},
		Default: CustomerType{ID: 1, Name: "default", Groups: []int{1}},
	})
	v.login("s")
	out, _, err := v.e.Offer(CallInfo{ID: "c1", Number: "13800138000", Group: 2})
	v.ok(err)
	if out != Queued {
		t.Fatalf("outcome %d", out)
	}
	v.expect("ring s c1")
	v.ok(v.e.Hangup("c1"))
	v.take()
	v.offer("plain", "13900000000")
	out, _, err = v.e.Offer(CallInfo{ID: "vip", Number: "13900000001", Type: 5})
	v.ok(err)
	if w := v.e.Waiting(); out != Queued || len(w) != 2 || w[0].Call != "vip" || w[0].Type != 5 {
		t.Fatalf("waiting %+v", w)
	}
	for _, ci := range []CallInfo{{ID: "x", Group: 9}, {ID: "y", Type: 9}} {
		if _, _, err := v.e.Offer(ci); err == nil || errors.Is(err, ErrUnknownCall) {
			t.Errorf("offer %+v: err %v", ci, err)
		}
	}
}

// A caller who calls again and asks for a callback a second time keeps
// the first (and its earlier place): the number is called once.
func TestCallbackDuplicatesMerged(t *testing.T) {
	v := newEnv(t, oneGroup(LongestIdle))
	v.offer("first", "13800138000")
	v.ok(v.e.RequestCallback("first", ""))
	v.clk.Advance(time.Minute)
	v.offer("again", "13800138000")
	v.ok(v.e.RequestCallback("again", ""))
	w := v.e.Waiting()
	if len(w) != 1 || w[0].Call != "first" || !w[0].Callback {
		t.Fatalf("waiting %+v", w)
	}
	if cbs, _ := v.store.Callbacks(); len(cbs) != 1 || cbs[0].Call != "first" {
		t.Fatalf("stored callbacks %+v", cbs)
	}
	v.login("a")
	v.expect("callback first 13800138000 a")
}
