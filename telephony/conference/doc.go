// Package conference runs meet-me conference rooms: a room has a number,
// an optional PIN and a moderator PIN (package pin), takes up to 50
// parties, and can be recorded (telephony/recording).
//
// Join runs one party's time in a room over a small blocking Call (say,
// collect keys, hang up) that the call-centre service implements over the
// switch's application calls: the PIN (three tries; the moderator's makes
// a moderator), a refusal when the room is locked or full, the count of
// those in, music while alone, then keys until the party hangs up or the
// room lets it go. Anyone may mute or unmute themselves (1) and hear the
// count (#); a moderator mutes or unmutes everyone else (2), locks or
// unlocks (3), removes the last who joined (4) and ends the conference
// (9). The others hear an entry and an exit tone. The web API does the
// same through Mute, Kick, Lock and End.
//
// A room's audio is an Audio: every talking party hears all the others,
// muted ones listen. EngineAudio implements it over the media engine's
// conferences (dsp/mix), with two silent members of its own that keep the
// conference whoever is muted and hear the whole mix for the recording;
// BenchmarkRoom measures 50 parties in one room and 5 rooms of 10 (make
// bench).
package conference
