package conference

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"callbox/telephony/internal/jsonkv"
	"callbox/telephony/pin"
	"callbox/telephony/recording"
)

// The prompts a room says: names of telephony/prompt's catalogue.
const (
	PromptEnterPIN  = "conf/enter-pin"  // the conference PIN and #
	PromptWrongPIN  = "conf/wrong-pin"  // that PIN is not right
	PromptLocked    = "conf/locked"     // the conference is locked
	PromptFull      = "conf/full"       // the conference is full
	PromptAlone     = "conf/alone"      // you are the only participant
	PromptOthers    = "conf/others"     // there are N other participants (the number after)
	PromptOthersEnd = "conf/others-end" // ...participants
	PromptMuted     = "conf/muted"      // you are muted
	PromptUnmuted   = "conf/unmuted"    // you are heard again
	PromptAllMuted  = "conf/all-muted"  // everyone else is muted
	PromptAllHeard  = "conf/all-heard"  // everyone is heard again
	PromptLockedNow = "conf/locked-now" // the conference is locked
	PromptUnlocked  = "conf/unlocked"   // the conference is open again
	PromptKicked    = "conf/kicked"     // you were removed from the conference
	PromptEnded     = "conf/ended"      // the conference has ended
	PromptModerator = "conf/moderator"  // you are the moderator: 2 mute all, 3 lock, 4 remove the last, 9 end
	ToneEnter       = "conf/enter"      // a party joined
	ToneLeave       = "conf/leave"      // a party left
)

// Keys in a room. Anyone: 1 mutes or unmutes oneself, # says how many
// are in. Moderators also: 2 mutes or unmutes everyone else, 3 locks or
// unlocks, 4 removes the last who joined, 9 ends the conference.
const (
	keyMute  = "1"
	keyCount = "#"
	keyAll   = "2"
	keyLock  = "3"
	keyKick  = "4"
	keyEnd   = "9"
)

// pinTries is how many PINs a caller may try.
const pinTries = 3

// Config sets up a Service.
type Config struct {
	Store Store
	Log   *slog.Logger
	// Recorder records the rooms that ask for it; nil: no room recording.
	Recorder *recording.Recorder
	// Now is the wall clock; nil is time.Now.
	Now func() time.Time
	// OnEvent, when set, hears every change of a live conference (the
	// live pages follow them). It is called with the service's lock held:
	// it must not call the Service, nor wait.
	OnEvent func(Event)
}

// EventType names a change of a live conference.
type EventType string

// Changes of a live conference.
const (
	EventJoined EventType = "joined" // Party, Number, Parties
	EventLeft   EventType = "left"   // Party, Parties (0: the conference is over)
	EventMuted  EventType = "muted"  // Party, Muted
	EventLocked EventType = "locked" // Locked
	EventEnded  EventType = "ended"  // everyone let go
)

// Event is one change of a live conference.
type Event struct {
	Type    EventType
	Room    string
	Party   PartyID
	Number  string
	Parties int
	Muted   bool
	Locked  bool
}

// event tells OnEvent of a change in l (s.mu held).
func (s *Service) event(l *live, e Event) {
	if s.cfg.OnEvent == nil {
		return
	}
	e.Room, e.Parties, e.Locked = l.room.Number, len(l.parties), l.locked
	s.cfg.OnEvent(e)
}

// Service keeps the rooms and runs the live conferences in them.
type Service struct {
	cfg Config
	log *slog.Logger
	idx jsonkv.Table[Room]

	mu   sync.Mutex
	live map[string]*live
	seq  PartyID
	wg   sync.WaitGroup // recordings being finished
}

// Close waits for the recordings of ended conferences to be finished.
func (s *Service) Close() error {
	s.wg.Wait()
	return nil
}

// New returns a service over cfg.Store.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("conference: a store is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, log: cfg.Log, idx: rooms(cfg.Store), live: map[string]*live{}}, nil
}

// RoomInput is a room as an administrator sets it: PIN and ModeratorPIN,
// when set, replace the room's (hashed at once); ClearPIN removes the PIN.
type RoomInput struct {
	Room
	PIN          string `json:"pin,omitempty"`
	ModeratorPIN string `json:"moderator_pin,omitempty"`
	ClearPIN     bool   `json:"clear_pin,omitempty"`
}

// Rooms returns the rooms by number.
func (s *Service) Rooms() ([]Room, error) { return s.idx.List() }

// Room returns one room.
func (s *Service) Room(n string) (Room, error) {
	if !validNumber(n) {
		return Room{}, fmt.Errorf("%w: %q", ErrNotFound, n)
	}
	return s.idx.Get(n)
}

// PutRoom creates or changes a room; a live conference keeps going with
// the new settings for those who join next.
func (s *Service) PutRoom(in RoomInput) (Room, error) {
	r := in.Room
	if err := r.check(); err != nil {
		return Room{}, err
	}
	old, err := s.idx.Get(r.Number)
	switch {
	case errors.Is(err, ErrNotFound):
		r.PINHash, r.ModeratorPINHash = "", ""
	case err != nil:
		return Room{}, err
	default:
		r.PINHash, r.ModeratorPINHash = old.PINHash, old.ModeratorPINHash
	}
	if in.ClearPIN {
		r.PINHash = ""
	}
	for _, p := range []struct {
		in    string
		hash  *string
		field string
	}{{in.PIN, &r.PINHash, "pin"}, {in.ModeratorPIN, &r.ModeratorPINHash, "moderator_pin"}} {
		if p.in == "" {
			continue
		}
		h, err := pin.Hash(p.in)
		if err != nil {
			return Room{}, invalid(p.field, "4 to 8 digits")
		}
		*p.hash = h
	}
	if err := s.idx.Put(r.Number, r); err != nil {
		return Room{}, err
	}
	s.log.Info("conference room saved", "room", r.Number)
	return r, nil
}

// DeleteRoom removes a room, ending its conference if one is going on.
func (s *Service) DeleteRoom(n string) error {
	if _, err := s.Room(n); err != nil {
		return err
	}
	_ = s.End(n, "deleted")
	if err := s.idx.Delete(n); err != nil {
		return err
	}
	s.log.Info("conference room deleted", "room", n)
	return nil
}

// Party is one participant as the API shows them.
type Party struct {
	ID        PartyID   `json:"id"`
	Number    string    `json:"number,omitempty"`
	Name      string    `json:"name,omitempty"`
	Joined    time.Time `json:"joined"`
	Muted     bool      `json:"muted"`
	Moderator bool      `json:"moderator"`
}

// Status is a live conference.
type Status struct {
	Room      string  `json:"room"`
	Locked    bool    `json:"locked"`
	Recording string  `json:"recording,omitempty"` // its id
	Parties   []Party `json:"parties"`
}

// live is a conference going on in a room.
type live struct {
	s       *Service
	room    Room
	audio   Audio
	parties []*party // in the order they joined
	locked  bool
	rec     *recording.Session
	mutedBy map[PartyID]bool
}

// party is a participant.
type party struct {
	Party
	selfMuted bool
	gone      chan struct{} // closed when the room lets the party go
	why       string        // "kicked", "ended"
}

// Status returns the conferences going on now.
func (s *Service) Status() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Status
	for _, l := range s.live {
		out = append(out, l.status())
	}
	slices.SortFunc(out, func(a, b Status) int {
		if a.Room < b.Room {
			return -1
		}
		return 1
	})
	return out
}

func (l *live) status() Status {
	st := Status{Room: l.room.Number, Locked: l.locked, Parties: []Party{}}
	if l.rec != nil {
		st.Recording = l.rec.ID()
	}
	for _, p := range l.parties {
		st.Parties = append(st.Parties, p.Party)
	}
	return st
}

// Caller is who joins.
type Caller struct {
	Number, Name string
}

// Join runs a party's time in a room: the PIN (the room's, or the
// moderator's, which makes a moderator; three tries), the count of those
// in it, then the conference with its keys until the party hangs up or the
// room lets them go. newAudio gives the room's media the first time a
// conference starts in it (the service keeps it while anyone is in), and
// add connects this party's leg to it; both are the call-centre service's.
func (s *Service) Join(c Call, room string, from Caller, newAudio func() Audio, add func(Audio, PartyID) error) error {
	r, err := s.Room(room)
	if err != nil {
		_ = c.Say(Sound{Prompts: []string{"conf/unavailable"}}, false)
		c.Hangup()
		return err
	}
	moderator, err := s.checkPIN(c, r)
	if err != nil {
		return ignoreHangup(err)
	}
	p, l, err := s.enter(r, from, moderator, newAudio, add)
	switch {
	case errors.Is(err, ErrLocked):
		_ = c.Say(Sound{Prompts: []string{PromptLocked}}, false)
		c.Hangup()
		return err
	case errors.Is(err, ErrFull):
		_ = c.Say(Sound{Prompts: []string{PromptFull}}, false)
		c.Hangup()
		return err
	case err != nil:
		c.Hangup()
		return err
	}
	defer s.leave(l, p)
	return ignoreHangup(s.inRoom(c, l, p))
}

func ignoreHangup(err error) error {
	if errors.Is(err, ErrHangup) {
		return nil
	}
	return err
}

// checkPIN asks for a PIN when the room has one (or a moderator's) and
// reports whether the moderator's was given.
func (s *Service) checkPIN(c Call, r Room) (moderator bool, err error) {
	if r.PINHash == "" && r.ModeratorPINHash == "" {
		return false, nil
	}
	for range pinTries {
		if err := c.Say(Sound{Prompts: []string{PromptEnterPIN}}, true); err != nil {
			return false, err
		}
		code, err := c.Collect(8, "#", 8*time.Second)
		if err != nil {
			return false, err
		}
		switch {
		case r.ModeratorPINHash != "" && pin.Check(r.ModeratorPINHash, code):
			return true, nil
		case r.PINHash == "" && code == "", r.PINHash != "" && pin.Check(r.PINHash, code):
			return false, nil
		}
		s.log.Info("conference wrong PIN", "room", r.Number)
		if err := c.Say(Sound{Prompts: []string{PromptWrongPIN}}, false); err != nil {
			return false, err
		}
	}
	_ = c.Say(Sound{Prompts: []string{"vm/goodbye"}}, false)
	c.Hangup()
	return false, fmt.Errorf("%w: wrong PINs", ErrHangup)
}

// enter adds a party to the room's conference, starting one if need be.
func (s *Service) enter(r Room, from Caller, moderator bool, newAudio func() Audio, add func(Audio, PartyID) error) (*party, *live, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.live[r.Number]
	if l == nil {
		l = &live{s: s, room: r, audio: newAudio(), mutedBy: map[PartyID]bool{}}
	}
	l.room = r
	switch {
	case l.locked && !moderator:
		return nil, nil, ErrLocked
	case len(l.parties) >= r.MaxParties:
		return nil, nil, ErrFull
	}
	s.seq++
	p := &party{Party: Party{ID: s.seq, Number: from.Number, Name: from.Name, Joined: s.cfg.Now(), Moderator: moderator},
		gone: make(chan struct{})}
	if err := add(l.audio, p.ID); err != nil {
		return nil, nil, fmt.Errorf("conference: room %s: %w", r.Number, err)
	}
	s.live[r.Number] = l
	l.audio.Add(p.ID, true)
	if len(l.parties) == 1 {
		l.audio.StopPlay(l.parties[0].ID) // no longer alone
	}
	if !r.Quiet {
		for _, o := range l.parties {
			l.audio.Play(o.ID, Sound{Prompts: []string{ToneEnter}}, nil)
		}
	}
	l.parties = append(l.parties, p)
	if len(l.parties) == 1 {
		l.startRecording()
	}
	s.log.Info("conference party joined", "room", r.Number, "party", p.ID, "number", from.Number, "moderator", moderator, "parties", len(l.parties))
	s.event(l, Event{Type: EventJoined, Party: p.ID, Number: from.Number})
	return p, l, nil
}

// startRecording records the room while anyone is in (s.mu held).
func (l *live) startRecording() {
	rec := l.s.cfg.Recorder
	if !l.room.Record || rec == nil || l.rec != nil {
		return
	}
	sess, err := rec.Begin(recording.Meta{CallID: "conference-" + l.room.Number + "-" + strconv.FormatInt(l.s.cfg.Now().Unix(), 10),
		Kind: "conference", Group: l.room.Number, Direction: recording.Internal})
	if err != nil {
		l.s.log.Warn("conference not recorded", "room", l.room.Number, "err", err)
		return
	}
	l.rec = sess
	l.audio.Record(sess.Tap())
}

// inRoom is the party's time in the conference: the count, music while
// alone, then keys until the party leaves or is let go.
func (s *Service) inRoom(c Call, l *live, p *party) error {
	s.mu.Lock()
	others := len(l.parties) - 1
	quiet, music := l.room.Quiet, !l.room.NoMusic
	s.mu.Unlock()
	if !quiet {
		if err := c.Say(countSound(others), true); err != nil {
			return err
		}
	}
	if p.Moderator {
		if err := c.Say(Sound{Prompts: []string{PromptModerator}}, true); err != nil {
			return err
		}
	}
	s.mu.Lock()
	if len(l.parties) == 1 && music && !p.isGone() {
		l.audio.Play(p.ID, Sound{Music: true}, nil)
	}
	s.mu.Unlock()
	for {
		k, err := c.Collect(1, "", time.Second)
		if err != nil {
			return err
		}
		if p.isGone() {
			prompt := PromptKicked
			if p.why == "ended" {
				prompt = PromptEnded
			}
			_ = c.Say(Sound{Prompts: []string{prompt}}, false)
			c.Hangup()
			return nil
		}
		if k == "" {
			continue
		}
		if say := s.key(l, p, k); len(say.Prompts) > 0 {
			if err := c.Say(say, true); err != nil {
				return err
			}
		}
	}
}

func (p *party) isGone() bool {
	select {
	case <-p.gone:
		return true
	default:
		return false
	}
}

// countSound says how many others are in.
func countSound(others int) Sound {
	if others == 0 {
		return Sound{Prompts: []string{PromptAlone}}
	}
	return Sound{Prompts: []string{PromptOthers, PromptOthersEnd}, Number: others, Count: true}
}

// key acts on a party's key and returns what to tell them.
func (s *Service) key(l *live, p *party, k string) Sound {
	s.mu.Lock()
	defer s.mu.Unlock()
	say := func(name string) Sound { return Sound{Prompts: []string{name}} }
	switch {
	case k == keyMute:
		p.selfMuted = !p.selfMuted
		l.apply(p)
		if p.Muted {
			return say(PromptMuted)
		}
		return say(PromptUnmuted)
	case k == keyCount:
		return countSound(len(l.parties) - 1)
	case !p.Moderator:
		return Sound{}
	case k == keyAll:
		all := len(l.mutedBy) == 0
		for _, o := range l.parties {
			if o != p {
				l.mutedBy[o.ID] = all
				l.apply(o)
			}
		}
		if !all {
			clear(l.mutedBy)
			return say(PromptAllHeard)
		}
		return say(PromptAllMuted)
	case k == keyLock:
		l.locked = !l.locked
		s.log.Info("conference lock", "room", l.room.Number, "locked", l.locked)
		s.event(l, Event{Type: EventLocked})
		if l.locked {
			return say(PromptLockedNow)
		}
		return say(PromptUnlocked)
	case k == keyKick:
		for i := len(l.parties) - 1; i >= 0; i-- {
			if o := l.parties[i]; !o.Moderator {
				l.letGo(o, "kicked")
				break
			}
		}
	case k == keyEnd:
		s.endLocked(l, "ended")
	}
	return Sound{}
}

// apply sets a party's talk state from its own mute and the moderator's
// (s.mu held).
func (l *live) apply(p *party) {
	muted := p.selfMuted || l.mutedBy[p.ID]
	if muted != p.Muted {
		p.Muted = muted
		l.audio.Talk(p.ID, !muted)
		l.s.event(l, Event{Type: EventMuted, Party: p.ID, Number: p.Number, Muted: muted})
	}
}

// letGo takes a party out of the mix and tells its dialogue (s.mu held).
func (l *live) letGo(p *party, why string) {
	if p.isGone() {
		return
	}
	p.why = why
	close(p.gone)
	l.s.log.Info("conference party let go", "room", l.room.Number, "party", p.ID, "why", why)
}

// leave takes a party out when its dialogue ends: the others hear the
// exit tone, one left alone hears music, the recording follows a leg
// still in, and the last to leave ends the conference.
func (s *Service) leave(l *live, p *party) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.Index(l.parties, p)
	if i < 0 {
		return
	}
	l.parties = slices.Delete(l.parties, i, i+1)
	delete(l.mutedBy, p.ID)
	l.audio.Remove(p.ID)
	s.log.Info("conference party left", "room", l.room.Number, "party", p.ID, "parties", len(l.parties))
	s.event(l, Event{Type: EventLeft, Party: p.ID, Number: p.Number})
	if len(l.parties) == 0 {
		s.closeLocked(l)
		return
	}
	if !l.room.Quiet {
		for _, o := range l.parties {
			l.audio.Play(o.ID, Sound{Prompts: []string{ToneLeave}}, nil)
		}
	}
	if len(l.parties) == 1 && !l.room.NoMusic && !l.parties[0].isGone() {
		l.audio.Play(l.parties[0].ID, Sound{Music: true}, nil)
	}
}

// closeLocked ends the live conference once it is empty (s.mu held).
func (s *Service) closeLocked(l *live) {
	if s.live[l.room.Number] == l {
		delete(s.live, l.room.Number)
	}
	if l.rec != nil {
		rec := l.rec
		l.rec = nil
		l.audio.Record(nil)
		// Stop waits for the writer: not under the lock.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if _, err := rec.Stop(); err != nil {
				s.log.Warn("conference recording", "room", l.room.Number, "err", err)
			}
		}()
	}
	l.audio.Close()
}

// endLocked lets every party go (s.mu held).
func (s *Service) endLocked(l *live, why string) {
	for _, p := range l.parties {
		l.letGo(p, why)
	}
	s.log.Info("conference ended", "room", l.room.Number, "why", why)
	s.event(l, Event{Type: EventEnded})
}

// End ends a room's conference (an administrator, a moderator on the
// web): everyone hears that it has ended.
func (s *Service) End(room, why string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.live[room]
	if l == nil {
		return fmt.Errorf("%w: no conference in %s", ErrNotFound, room)
	}
	s.endLocked(l, "ended")
	return nil
}

// Kick lets one party go.
func (s *Service) Kick(room string, id PartyID) error {
	return s.withParty(room, id, func(l *live, p *party) { l.letGo(p, "kicked") })
}

// Mute mutes or unmutes a party (as its moderator would).
func (s *Service) Mute(room string, id PartyID, muted bool) error {
	return s.withParty(room, id, func(l *live, p *party) {
		l.mutedBy[p.ID] = muted
		if !muted {
			p.selfMuted = false
		}
		l.apply(p)
	})
}

// Lock locks or unlocks a room's conference.
func (s *Service) Lock(room string, locked bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.live[room]
	if l == nil {
		return fmt.Errorf("%w: no conference in %s", ErrNotFound, room)
	}
	if l.locked != locked {
		l.locked = locked
		s.event(l, Event{Type: EventLocked})
	}
	return nil
}

func (s *Service) withParty(room string, id PartyID, f func(*live, *party)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.live[room]
	if l == nil {
		return fmt.Errorf("%w: no conference in %s", ErrNotFound, room)
	}
	for _, p := range l.parties {
		if p.ID == id {
			f(l, p)
			return nil
		}
	}
	return fmt.Errorf("%w: no party %d in %s", ErrNotFound, id, room)
}
