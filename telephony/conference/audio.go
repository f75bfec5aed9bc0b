package conference

import (
	"time"

	"callbox/telephony/media"
)

// PartyID names a party in its room.
type PartyID uint64

// Sound is something a party hears instead of the room for a while: a
// system prompt (with a number said after it), a tone of the catalogue, or
// music.
type Sound struct {
	// Prompts are names of the prompt catalogue said in turn: conf/enter,
	// conf/leave (tones), or spoken prompts.
	Prompts []string
	// Number, when Count is set, is said after Prompts[0] and before the
	// rest ("there are" 3 "other participants").
	Number int
	Count  bool
	// Music plays until stopped.
	Music bool
}

// Audio is a room's media: every talking party hears all the others, a
// listening (muted) one hears them and is heard by nobody. The
// call-centre service implements it over the switch's application call
// that holds the room (leg modes, players and taps); EngineAudio
// implements it over a media engine. Its methods must not block: they run
// under the room's lock.
type Audio interface {
	// Add puts a party in the mix, talking or not.
	Add(p PartyID, talk bool)
	// Remove takes a party out of the mix.
	Remove(p PartyID)
	// Talk makes a party heard (true) or muted.
	Talk(p PartyID, talk bool)
	// Play replaces what a party hears with s until it is done (done is
	// then called, never under the room's lock) or StopPlay.
	Play(p PartyID, s Sound, done func())
	StopPlay(p PartyID)
	// Record feeds the room to a recording tap (nil stops): between them
	// its two channels carry every talking party (EngineAudio puts the
	// whole mix in Tx; over an app call, a party's leg gives that party
	// in Rx and the rest in Tx).
	Record(t *media.Tap)
	// Close ends the room's media once the last party has left.
	Close()
}

// Call is a party's leg for the room's dialogue (the call-centre service
// implements it over its app call dialogues): keys and prompts. Its
// methods block; they return an error wrapping ErrHangup once the party
// hung up. The room's dialogue collects a key a second at a time, so a
// party the room lets go (kicked, the conference ended) hears so within a
// second.
type Call interface {
	// Say says prompts; with cut, a key stops them.
	Say(s Sound, cut bool) error
	// Collect waits up to wait for keys (max of them, term ends them).
	Collect(max int, term string, wait time.Duration) (string, error)
	// Hangup ends the party's call.
	Hangup()
}
