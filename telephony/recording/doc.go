// Package recording records calls: each recording is one WAV file of two
// channels (the recorded leg's party, and what that party hears) in
// G.711 A-law, mu-law or 16-bit PCM, written while the call goes, with an
// entry in an index that links the legs of one service.
//
// The media engine's clock only hands frames to a recording's tap (a
// media.Tap ring that drops and counts rather than blocks); each
// recording's writer goroutine drains the tap into a fixed buffer and
// writes it a second at a time, patching the WAV header's sizes after every
// write, so the file on disk is always playable. A crash or power cut
// leaves at most the last second unwritten (or the last SyncEvery seconds
// uncommitted); Start repairs the files it finds still marked as in
// progress and fixes their entries.
//
// The index lives in a Store (ordered key/value pairs that firmware/app
// backs with the box's store): search by time range, agent, group,
// customer number and service. Retention removes the oldest recordings
// first, by age, by a quota of bytes and to keep a free-space floor on the
// data partition, and logs every removal. A full disk or a vanished
// recording directory stops recording with a clear error and an alarm;
// calls go on, and nothing already recorded is lost.
//
// Playback presents a G.711 file as 16-bit PCM (which browsers play),
// decoded on the fly with byte-range access, for HTTP range requests.
package recording
