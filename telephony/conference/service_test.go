package conference

import (
	"errors"
	"strings"
	"testing"
)

// room runs parties in one room of s, each Join on its own goroutine.
type roomRig struct {
	t     *testing.T
	s     *Service
	audio *opsAudio
	errs  chan error
}

func newRoomRig(t *testing.T, in RoomInput) *roomRig {
	s := newService(t, Config{})
	if _, err := s.PutRoom(in); err != nil {
		t.Fatal(err)
	}
	return &roomRig{t: t, s: s, audio: &opsAudio{}, errs: make(chan error, 64)}
}

func (r *roomRig) join(number string, keys ...string) *fakeCall {
	c := newFakeCall()
	for _, k := range keys {
		c.keys <- k
	}
	go func() {
		r.errs <- r.s.Join(c, "600", Caller{Number: number}, func() Audio { return r.audio },
			func(Audio, PartyID) error { return nil })
	}()
	return c
}

func (r *roomRig) parties() int {
	st := r.s.Status()
	if len(st) == 0 {
		return 0
	}
	return len(st[0].Parties)
}

// TestConference walks a room: the PIN, music while alone, entry and exit
// tones, the count, a moderator muting all, locking, removing the last
// who joined and ending the conference.
func TestConference(t *testing.T) {
	r := newRoomRig(t, RoomInput{Room: Room{Number: "600"}, PIN: "1111", ModeratorPIN: "9999"})
	a := r.join("201", "2222#", "1111#") // a wrong PIN first
	eventually(t, "the first party", func() bool { return r.parties() == 1 })
	eventually(t, "music", func() bool { return strings.Contains(r.audio.take(), "play 1 music") })
	b := r.join("202", "9999#") // the moderator
	eventually(t, "two parties", func() bool { return r.parties() == 2 })
	ops := r.audio.take()
	if !strings.Contains(ops, "add 2 talk=true; stop 1; play 1 conf/enter") {
		t.Fatalf("the second join: %s", ops)
	}
	c := r.join("203", "1111#")
	eventually(t, "three parties", func() bool { return r.parties() == 3 })
	eventually(t, "the count", func() bool { return strings.Contains(c.heard(), "conf/others+conf/others-end(2)") })
	if h := a.heard(); !strings.HasPrefix(h, "conf/enter-pin conf/wrong-pin conf/enter-pin conf/alone") {
		t.Fatalf("the first party heard %q", h)
	}
	eventually(t, "the moderator's menu", func() bool { return strings.Contains(b.heard(), "conf/moderator") })
	r.audio.take()

	// The moderator mutes everyone else, then a party unmutes itself
	// (its own mute toggles; the moderator's holds).
	b.keys <- "2"
	eventually(t, "all muted", func() bool {
		ops := r.audio.take()
		return strings.Contains(ops, "talk 1 false") && strings.Contains(ops, "talk 3 false")
	})
	st := r.s.Status()[0]
	if !st.Parties[0].Muted || st.Parties[1].Muted || !st.Parties[2].Muted {
		t.Fatalf("after mute all: %+v", st.Parties)
	}
	b.keys <- "2"
	eventually(t, "all heard", func() bool { return strings.Contains(r.audio.take(), "talk 3 true") })

	// Lock: a newcomer is refused, the moderator still gets in.
	b.keys <- "3"
	eventually(t, "locked", func() bool { return r.s.Status()[0].Locked })
	d := r.join("204", "1111#")
	if err := <-r.errs; !errors.Is(err, ErrLocked) || !strings.Contains(d.heard(), "conf/locked hangup") {
		t.Fatalf("joining a locked room: %v, heard %q", err, d.heard())
	}
	// Remove the last who joined (203): it is told and leaves; the others
	// hear the exit tone.
	b.keys <- "4"
	if err := <-r.errs; err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(c.heard(), "conf/kicked hangup") || r.parties() != 2 {
		t.Fatalf("the removed party heard %q; %d left", c.heard(), r.parties())
	}
	if ops := r.audio.take(); !strings.Contains(ops, "remove 3") || !strings.Contains(ops, "play 1 conf/leave") {
		t.Fatalf("after the removal: %s", ops)
	}
	// End: everyone is told, the room closes.
	b.keys <- "9"
	for range 2 {
		if err := <-r.errs; err != nil {
			t.Fatal(err)
		}
	}
	if !strings.HasSuffix(a.heard(), "conf/ended hangup") || len(r.s.Status()) != 0 {
		t.Fatalf("after the end: %q, %v", a.heard(), r.s.Status())
	}
	if ops := r.audio.take(); !strings.HasSuffix(ops, "close") {
		t.Fatalf("the room's media: %s", ops)
	}
}

// TestConferenceRefusals: three wrong PINs end the call; a full room
// refuses; an unknown room says so.
func TestConferenceRefusals(t *testing.T) {
	r := newRoomRig(t, RoomInput{Room: Room{Number: "600", MaxParties: 2}, PIN: "1111"})
	c := r.join("201", "1#", "2#", "3#")
	if err := <-r.errs; err != nil || !strings.HasSuffix(c.heard(), "conf/wrong-pin vm/goodbye hangup") {
		t.Fatalf("three wrong PINs: %v, %q", err, c.heard())
	}
	r.join("201", "1111#")
	r.join("202", "1111#")
	eventually(t, "two parties", func() bool { return r.parties() == 2 })
	c = r.join("203", "1111#")
	if err := <-r.errs; !errors.Is(err, ErrFull) || !strings.HasSuffix(c.heard(), "conf/full hangup") {
		t.Fatalf("a full room: %v, %q", err, c.heard())
	}
	c = newFakeCall()
	if err := r.s.Join(c, "999", Caller{}, nil, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no such room: %v", err)
	}
	r.s.End("600", "test")
	<-r.errs
	<-r.errs
}

// TestPutRoom validates rooms naming the field and keeps PINs hashed.
func TestPutRoom(t *testing.T) {
	s := newService(t, Config{})
	for _, tc := range []struct {
		in    RoomInput
		field string
	}{
		{RoomInput{Room: Room{Number: "6"}}, "number"},
		{RoomInput{Room: Room{Number: "6x0"}}, "number"},
		{RoomInput{Room: Room{Number: "600", MaxParties: 51}}, "max_parties"},
		{RoomInput{Room: Room{Number: "600"}, PIN: "12"}, "pin"},
		{RoomInput{Room: Room{Number: "600"}, ModeratorPIN: "abcd"}, "moderator_pin"},
	} {
		if _, err := s.PutRoom(tc.in); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), ": "+tc.field+": ") {
			t.Errorf("%+v: %v", tc.in, err)
		}
	}
	r, err := s.PutRoom(RoomInput{Room: Room{Number: "600"}, PIN: "1234"})
	if err != nil || r.MaxParties != MaxParties || r.PINHash == "" || strings.Contains(r.PINHash, "1234") {
		t.Fatalf("%+v %v", r, err)
	}
	r, _ = s.PutRoom(RoomInput{Room: Room{Number: "600", Name: "Sales"}})
	if r.PINHash == "" {
		t.Fatal("an edit without a PIN dropped the PIN")
	}
	r, _ = s.PutRoom(RoomInput{Room: Room{Number: "600"}, ClearPIN: true})
	if r.PINHash != "" {
		t.Fatal("clear_pin kept the PIN")
	}
}
