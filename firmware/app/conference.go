package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"callbox/telephony/cc"
	"callbox/telephony/ccconf"
	"callbox/telephony/conference"
	"callbox/telephony/ivr"
	"callbox/telephony/media"
	callswitch "callbox/telephony/switch"
)

// Conference rooms on live calls: the rooms' numbers are in the call
// centre's part of the dial plan (ccDialPlan), and a party that dials one
// is joined through confRooms, which mixes the parties' channels on the
// switch's media engine (conference.EngineAudio) with the sounds of the
// prompt catalogue.

// roomNumbers is the rooms' numbers the dial plan last took, for the
// call centre's IsRoom on the switch's goroutine (no store read there).
type roomNumbers struct {
	set atomic.Pointer[map[string]bool]
}

func (r *roomNumbers) has(n string) bool {
	if m := r.set.Load(); m != nil {
		return (*m)[n]
	}
	return false
}

// confRooms is cc.Rooms over the conference service and the media engine.
// Its poller returns parties whose sound (an entry tone) ended to the mix;
// Start runs it, Close waits for it.
type confRooms struct {
	a       *App
	conf    *conference.Service
	eng     *media.Engine
	prompts *catPrompts
	log     *slog.Logger

	mu   sync.Mutex
	live map[*conference.EngineAudio]bool
	// kick wakes the poller, which sleeps while no room is live.
	kick chan struct{}

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ cc.Rooms = (*confRooms)(nil)

// IsRoom implements cc.Rooms.
func (r *confRooms) IsRoom(n string) bool { return r.a.rooms.has(n) }

// errNoRoomAudio: the room's media could not be made (the engine is
// stopping).
var errNoRoomAudio = errors.New("app: conference: no media for the room")

// Join implements cc.Rooms.
func (r *confRooms) Join(call conference.Call, room string, from conference.Caller, ch *media.Channel) error {
	newAudio := func() conference.Audio {
		ea, err := conference.NewEngineAudio(r.eng, roomSounds{r}, "room"+room)
		if err != nil {
			r.log.Warn("conference room media not made", "room", room, "err", err)
			return noAudio{}
		}
		r.mu.Lock()
		r.live[ea] = true
		r.mu.Unlock()
		select {
		case r.kick <- struct{}{}:
		default:
		}
		return polledAudio{ea, r}
	}
	add := func(au conference.Audio, p conference.PartyID) error {
		pa, ok := au.(polledAudio)
		if !ok {
			return errNoRoomAudio
		}
		pa.Attach(p, ch)
		return nil
	}
	return r.conf.Join(call, room, from, newAudio, add)
}

// confPoll is the poller's period while a room is live.
const confPoll = 20 * time.Millisecond

// Start runs the poller until Close. It ticks only while a room is live
// (an idle box wakes for nothing), from the room's first party on.
func (r *confRooms) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		tk := time.NewTicker(confPoll)
		defer tk.Stop()
		for {
			if !r.anyLive() {
				tk.Stop()
				select {
				case <-ctx.Done():
					return
				case <-r.kick:
				}
				tk.Reset(confPoll)
			}
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				r.poll()
			}
		}
	}()
}

func (r *confRooms) anyLive() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.live) > 0
}

// Close stops the poller and waits for it.
func (r *confRooms) Close() {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
}

func (r *confRooms) poll() {
	r.mu.Lock()
	list := make([]*conference.EngineAudio, 0, len(r.live))
	for ea := range r.live {
		list = append(list, ea)
	}
	r.mu.Unlock()
	for _, ea := range list {
		ea.Poll()
	}
}

// polledAudio is a room's EngineAudio that leaves the poller when it
// closes.
type polledAudio struct {
	*conference.EngineAudio
	r *confRooms
}

// Close implements conference.Audio.
func (p polledAudio) Close() {
	p.r.mu.Lock()
	delete(p.r.live, p.EngineAudio)
	p.r.mu.Unlock()
	p.EngineAudio.Close()
}

// noAudio is the media of a room that could not get any: joining fails.
type noAudio struct{}

func (noAudio) Add(conference.PartyID, bool)                      {}
func (noAudio) Remove(conference.PartyID)                         {}
func (noAudio) Talk(conference.PartyID, bool)                     {}
func (noAudio) Play(conference.PartyID, conference.Sound, func()) {}
func (noAudio) StopPlay(conference.PartyID)                       {}
func (noAudio) Record(*media.Tap)                                 {}
func (noAudio) Close()                                            {}

// roomSounds makes a room's sounds from the prompt catalogue (tones and
// prompts, in the box's language) and music on hold.
type roomSounds struct{ r *confRooms }

// Source implements conference.Sounds.
func (s roomSounds) Source(snd conference.Sound) (media.Endpoint, func() bool, error) {
	if snd.Music {
		return callswitch.MusicOnHold().(media.Endpoint), func() bool { return false }, nil
	}
	if len(snd.Prompts) == 0 {
		return nil, nil, fmt.Errorf("app: conference: an empty sound")
	}
	lang := ccconf.DefaultLanguage
	if snap := s.r.a.callCentreSnapshot(); snap != nil && snap.Config().Settings.Language != "" {
		lang = snap.Config().Settings.Language
	}
	src, err := s.r.prompts.Source(context.Background(), ivr.Prompt{File: snd.Prompts[0]}, lang)
	if err != nil {
		return nil, nil, err
	}
	ep, ok := src.(media.Endpoint)
	if !ok {
		return nil, nil, fmt.Errorf("app: conference: sound %s is not playable", snd.Prompts[0])
	}
	return ep, src.Done, nil
}

// roomExists reports whether a conference room has the number, for the
// checks of the call centre's configuration edits (a route to a room);
// with the media services down it cannot tell and says yes, so that
// edits elsewhere go on.
func (a *App) roomExists(n string) bool {
	m := a.mediaServices()
	if m == nil {
		return true
	}
	_, err := m.conf.Room(n)
	return err == nil
}

// roomPatterns returns the conference rooms' numbers for the dial plan and
// keeps them for IsRoom: a number that is an extension's or already the
// call centre's (taken) is left out, with a warning.
func (a *App) roomPatterns(exts, taken []string) []string {
	m := a.mediaServices()
	if m == nil {
		a.rooms.set.Store(nil)
		return nil
	}
	rooms, err := m.conf.Rooms()
	if err != nil {
		a.log.Warn("conference rooms not in the dial plan", "err", err)
	}
	set := map[string]bool{}
	var out []string
	for _, r := range rooms {
		if slices.Contains(exts, r.Number) || slices.Contains(taken, r.Number) {
			a.log.Warn("conference room not in the dial plan: its number is taken", "room", r.Number)
			continue
		}
		set[r.Number] = true
		out = append(out, r.Number)
	}
	a.rooms.set.Store(&set)
	return out
}
