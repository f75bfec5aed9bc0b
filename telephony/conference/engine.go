package conference

import (
	"fmt"
	"sync"

	"callbox/telephony/media"
)

// Sounds makes the sources a room plays (prompts, tones, music) as media
// endpoints whose ReadFrame gives the sound; done reports when a sound
// that ends has ended (music never does). firmware/app builds them from
// the prompt catalogue and music on hold.
type Sounds interface {
	Source(s Sound) (src media.Endpoint, done func() bool, err error)
}

// EngineAudio is a room's Audio over a media engine: the parties' channels
// (given to Attach) in one media conference (dsp/mix: everyone hears all
// but themselves; muted parties listen only), sounds played by the engine
// in place of the mix, and two silent members of the engine's own: one
// keeps the conference in being whoever mutes, the other hears the whole
// mix for the recording tap.
type EngineAudio struct {
	e      *media.Engine
	sounds Sounds

	mu      sync.Mutex
	conf    *media.Conference
	anchor  [2]*media.Channel // [1] carries the recording tap
	parties map[PartyID]*media.Channel
	playing map[PartyID]func() bool // the done check of what a party hears
	dones   map[PartyID]func()
	closed  bool
}

// silent is a member that says nothing and discards what it hears.
type silent struct{}

func (silent) ReadFrame(f []int16) { clear(f) }
func (silent) WriteFrame([]int16)  {}

// NewEngineAudio makes a room on engine e.
func NewEngineAudio(e *media.Engine, sounds Sounds, name string) (*EngineAudio, error) {
	a := &EngineAudio{e: e, sounds: sounds, parties: map[PartyID]*media.Channel{},
		playing: map[PartyID]func() bool{}, dones: map[PartyID]func(){}}
	for i := range a.anchor {
		c, err := e.NewChannel(fmt.Sprintf("%s/anchor%d", name, i), silent{}, media.ChannelOptions{})
		if err != nil {
			return nil, err
		}
		a.anchor[i] = c
	}
	conf, err := e.Conference(a.anchor[0], a.anchor[1])
	if err != nil {
		return nil, err
	}
	a.conf = conf
	return a, nil
}

// Attach names the channel of a party's leg; Add then puts it in.
func (a *EngineAudio) Attach(p PartyID, c *media.Channel) {
	a.mu.Lock()
	a.parties[p] = c
	a.mu.Unlock()
}

func (a *EngineAudio) channel(p PartyID) *media.Channel {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.parties[p]
}

// Add implements Audio.
func (a *EngineAudio) Add(p PartyID, talk bool) {
	if c := a.channel(p); c != nil {
		_ = a.conf.Join(c, !talk) // at most MaxParties + 2, within dsp/mix's
	}
}

// Remove implements Audio.
func (a *EngineAudio) Remove(p PartyID) {
	c := a.channel(p)
	if c == nil {
		return
	}
	a.StopPlay(p)
	a.conf.Leave(c)
	a.mu.Lock()
	delete(a.parties, p)
	a.mu.Unlock()
}

// Talk implements Audio: the two silent members keep the conference
// going while the party leaves and joins again as it now takes part.
func (a *EngineAudio) Talk(p PartyID, talk bool) {
	if c := a.channel(p); c != nil {
		a.conf.Leave(c)
		_ = a.conf.Join(c, !talk)
	}
}

// Play implements Audio.
func (a *EngineAudio) Play(p PartyID, s Sound, done func()) {
	c := a.channel(p)
	if c == nil || a.sounds == nil {
		return
	}
	src, ended, err := a.sounds.Source(s)
	if err != nil {
		return
	}
	a.mu.Lock()
	a.playing[p] = ended
	if done != nil {
		a.dones[p] = done
	} else {
		delete(a.dones, p)
	}
	a.mu.Unlock()
	a.e.Play(c, src)
}

// StopPlay implements Audio.
func (a *EngineAudio) StopPlay(p PartyID) {
	c := a.channel(p)
	if c == nil {
		return
	}
	a.e.Play(c, nil)
	a.mu.Lock()
	delete(a.playing, p)
	delete(a.dones, p)
	a.mu.Unlock()
}

// Poll returns the parties whose sound has ended to the mix and calls
// their done functions; the owner of the engine's clock calls it now and
// then (every few ticks), never under the room's lock.
func (a *EngineAudio) Poll() {
	var finished []func()
	var back []*media.Channel
	a.mu.Lock()
	for p, ended := range a.playing {
		if ended != nil && ended() {
			delete(a.playing, p)
			if d := a.dones[p]; d != nil {
				finished = append(finished, d)
				delete(a.dones, p)
			}
			if c := a.parties[p]; c != nil {
				back = append(back, c)
			}
		}
	}
	a.mu.Unlock()
	for _, c := range back {
		a.e.Play(c, nil)
	}
	for _, d := range finished {
		d()
	}
}

// Record implements Audio: the listening silent member's tap hears the
// whole mix (Tx).
func (a *EngineAudio) Record(t *media.Tap) { a.e.SetTap(a.anchor[1], t) }

// Close implements Audio.
func (a *EngineAudio) Close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	a.mu.Unlock()
	for _, c := range a.anchor {
		a.e.Remove(c)
	}
}
