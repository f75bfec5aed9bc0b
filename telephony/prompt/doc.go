// Package prompt is the box's prompt catalogue: what callers hear, per
// language (zh-CN, the default, and en), as 8 kHz mono 16-bit audio in the
// data directory.
//
// Two kinds of prompt share one namespace of stable names ("welcome",
// "queue/position", "num/7"; letters, digits, '-', '_', '.', and '/'
// between parts):
//
//   - System prompts, listed in system.tsv (name, Mandarin and English
//     text) and generated from that list by `callboxctl prompts generate`
//     (`make prompts`) with espeak-ng into DIR/system/LANG/NAME.wav; they
//     are never committed as audio and are read-only to the API.
//   - The admin's own in DIR/custom/LANG/NAME.wav, with a NAME.json beside
//     it saying where it came from: an upload in any common WAV encoding,
//     rate and channel count (Convert makes it 8 kHz mono with a proper
//     low-pass), a recording made by phone, or text synthesized by the
//     speech engine. An admin prompt with a system prompt's name replaces
//     it; deleting it brings the system one back.
//
// Resolve finds a name in the asked language (the admin's first, then the
// system's), then in the other language, and otherwise fails with an
// error wrapping ErrMissing, which wraps ivr.ErrPromptMissing so the IVR
// speaks the node's text instead. Load returns the decoded samples from a
// bounded cache shared by every call: players read them, never copy them.
//
// Speech (speech.go) is an interface with an espeak-ng backend; the
// catalogue keeps synthesized text in DIR/speech, keyed by a hash of the
// voice and the text, within a size bound. Without an engine, text fails
// with ErrNoSpeech: a caller never hears silence in its place.
//
// The sayings (say.go) compose numbers, digit strings, queue positions,
// waiting times, agent numbers and message counts from the small system
// prompts of each language.
//
// Writes go to a temporary file renamed into place, so a refused or failed
// upload changes nothing.
package prompt
