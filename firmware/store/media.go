package store

// The media services' buckets (schema version 8); firmware/app adapts each
// to its engine's ordered key/value Store.
const (
	// Recordings holds the recording index (telephony/recording).
	Recordings Records = "recordings"
	// Voicemail holds the voicemail boxes and their messages
	// (telephony/voicemail).
	Voicemail Records = "voicemail"
	// Conference holds the conference rooms (telephony/conference).
	Conference Records = "conference"
)
