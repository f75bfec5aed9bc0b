// Package telephony is the root of everything that handles a call: the media
// engine, FXS/FXO line logic, SIP, the switch and the call-centre engines
// (acd, ivr). Telephony defines the interfaces it consumes (line ports, the
// store) and never imports board, firmware, webui, gin or bbolt.
package telephony
