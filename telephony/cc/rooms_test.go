package cc_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"callbox/telephony/cc"
	"callbox/telephony/ccconf"
	"callbox/telephony/conference"
	"callbox/telephony/media"
)

// memRooms has one room, 7005, and keeps who joined it (each party leaves
// at once).
type memRooms struct {
	mu     sync.Mutex
	joined []string
}

func (m *memRooms) IsRoom(n string) bool { return n == "7005" }

func (m *memRooms) Join(_ conference.Call, room string, from conference.Caller, ch *media.Channel) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ch != nil {
		m.joined = append(m.joined, room+" "+from.Number)
	}
	return nil
}

func (m *memRooms) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.joined)
}

// Conference rooms as targets: a line whose inbound route names room 7005
// joins its caller to the room with its media channel, and so does an IVR
// flow's transfer to the room's number (reached from extension 201 by the
// internal number 8100); a route to a room that is not there plays the
// unavailable prompt. Before, a route had no room target and a flow's
// transfer to 7005 dialled it as a number.
func TestRoomTargets(t *testing.T) {
	cfg := testConfig()
	cfg.InboundRoutes[1].Target = ccconf.Target{Kind: ccconf.TargetRoom, Room: "7005"}
	cfg.InboundRoutes = append(cfg.InboundRoutes,
		ccconf.InboundRoute{Name: "toroom", Source: ccconf.SourceInternal, Number: "8100", Target: ccconf.Target{Kind: ccconf.TargetFlow, Flow: "toroom"}},
		ccconf.InboundRoute{Name: "gone", Source: ccconf.SourceInternal, Number: "8200", Target: ccconf.Target{Kind: ccconf.TargetRoom, Room: "7999"}})
	rooms := &memRooms{}
	r := newRigWith(t, cfg, nil, cc.Options{Rooms: rooms}, mainFlow,
		`{"id": "toroom", "entry": "t", "nodes": [{"id": "t", "type": "transfer", "to": "7005"}]}`)
	co := r.ring("fxo2", "13800138000")
	r.untilAnswered(co)
	r.run(time.Second)
	if got := rooms.list(); !slices.Equal(got, []string{"7005 13800138000"}) {
		t.Fatalf("after the line's call, the room had %q", got)
	}
	r.dial("201", "8100")
	r.run(2 * time.Second)
	if got := rooms.list(); !slices.Equal(got, []string{"7005 13800138000", "7005 201"}) {
		t.Fatalf("after the flow's transfer, the room had %q", got)
	}
	r.phone("201").OnHook()
	r.run(time.Second)
	r.prompts.take()
	r.dial("201", "8200")
	r.run(2 * time.Second)
	if played := r.prompts.take(); !slices.Contains(played, "sorry-youre-having-problems") {
		t.Fatalf("a route to a missing room played %q", played)
	}
}
