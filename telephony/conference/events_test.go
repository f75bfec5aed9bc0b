package conference

import (
	"strings"
	"sync"
	"testing"
)

// TestConferenceEvents: joining, muting, locking, leaving and ending a live
// conference each tell OnEvent, in order, with the room and the count.
func TestConferenceEvents(t *testing.T) {
	var mu sync.Mutex
	var got []string
	s := newService(t, Config{OnEvent: func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, string(e.Type)+":"+e.Room+":"+e.Number+":"+string(rune('0'+e.Parties)))
	}})
	if _, err := s.PutRoom(RoomInput{Room: Room{Number: "600"}}); err != nil {
		t.Fatal(err)
	}
	r := &roomRig{t: t, s: s, audio: &opsAudio{}, errs: make(chan error, 64)}
	r.join("201")
	eventually(t, "one party", func() bool { return r.parties() == 1 })
	r.join("202")
	eventually(t, "two parties", func() bool { return r.parties() == 2 })
	st := s.Status()[0]
	if err := s.Mute("600", st.Parties[1].ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock("600", true); err != nil {
		t.Fatal(err)
	}
	if err := s.Kick("600", st.Parties[0].ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "one left", func() bool { return r.parties() == 1 })
	if err := s.End("600", "test"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "none left", func() bool { return r.parties() == 0 })
	mu.Lock()
	defer mu.Unlock()
	want := "joined:600:201:1 joined:600:202:2 muted:600:202:2 locked:600::2 left:600:201:1 ended:600::1 left:600:202:0"
	if g := strings.Join(got, " "); g != want {
		t.Fatalf("events:\n got %s\nwant %s", g, want)
	}
}
