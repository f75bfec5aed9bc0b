// Package pbxconf is the PBX configuration of the box: extensions, trunks,
// outbound routes and the dialling safety rules (emergency numbers that are
// always allowed, patterns that are always refused), as one JSON document.
//
// The same document is the provisioning file installers load with
// `callboxd --import FILE.json` or `callboxctl config import FILE`, the
// backup written by `callboxctl config export`, and what the store keeps.
// The web API edits the same objects one at a time (/api/v1/extensions,
// /api/v1/trunks, /api/v1/routes).
//
// # Format (version 1)
//
//	{
//	  "version": 1,
//	  "extensions": [
//	    {"number": "201", "name": "Front desk", "kind": "fxs", "port": 1},
//	    {"number": "301", "name": "Agent Li", "kind": "sip", "secret": "s3cret-pass-x7",
//	     "caller_id_name": "Li", "caller_id_number": "02155550101",
//	     "voicemail": true, "dnd": false,
//	     "forward": {"always": "", "busy": "300", "no_answer": "13800138000", "no_answer_s": 20}}
//	  ],
//	  "trunks": [
//	    {"name": "provider", "kind": "sip", "host": "sip.example.net", "port": 5060,
//	     "transport": "udp", "username": "02155550100", "auth_user": "", "secret": "...",
//	     "register": true, "dids": {"02155550100": "201"}, "default": "201",
//	     "codecs": ["PCMU", "PCMA"]},
//	    {"name": "pstn1", "kind": "fxo", "port": 1, "caller_id": "bellcore", "rings": 2,
//	     "default": "201"}
//	  ],
//	  "routes": [
//	    {"name": "local", "patterns": ["9NXXXXXXX."], "strip": 1, "prepend": "",
//	     "trunks": ["provider", "pstn1"], "caller_id": "02155550100",
//	     "caller_id_override": false, "allowed": ["201", "301"], "blocked": ["91380013800X"]}
//	  ],
//	  "emergency": ["110", "119", "120", "122", "112", "911"],
//	  "blocked": ["00.", "011.", "+.", "160X.", "168X.", "1900NXXXXXX", "900NXXXXXX", "1976NXXXXXX"]
//	}
//
// Extensions: number is 2 to 8 digits, not starting with 0 (which reaches
// routes), and neither an emergency number nor starting with one (a phone
// dialling it would reach the emergency number first); kind is "sip" (a phone or softphone
// registering with the SIP digest secret, 8 to 64 printable characters) or
// "fxs" (the analog port numbered port, fxs1 = 1; no secret). A secret that
// is new or changed must also be strong (telephony/sip/secret: at least 10
// characters, not a common password, not containing the number, not a
// sequence); a weak one already stored keeps working and is reported
// (WeakSecrets) in the import's output, the log and the web API until it
// is replaced. The web API generates a strong secret on request. The caller ID
// fields are what the extension presents (defaults: name and number);
// forward.always/busy/no_answer are a number to forward to (an extension or
// an outside number dialled through the routes), no_answer_s the ring time
// before the no-answer forward (default 20 s, 5 to 120). nat (sip only,
// default false) is for a phone behind NAT: its RTP is taken from its
// signalling IP, any port, latched once per call; without it, only from the
// address its SDP names.
//
// Trunks: name is 1 to 32 of a-z, 0-9, '-' and '_'. A "sip" trunk has host
// (name or address), port (default 5060), transport "udp" or "tcp",
// username, auth_user (when the digest user differs), secret, register
// (register at the provider), dids (called number -> extension), default
// (the extension for calls whose number is not in dids), codecs (PCMU,
// PCMA; default both) and nat (as for extensions; the host must then be an
// IP address). An "fxo" trunk has port (fxo1 = 1), caller_id (the
// scheme on the line: none, bellcore, etsi-dtas, etsi-reversal, etsi-rpas,
// dtmf), rings before answering (1 to 10, default 2) and default.
//
// Routes are tried in order; the first whose pattern matches the dialled
// number and that the caller may use wins. strip removes leading digits and
// prepend adds some before the result goes to the trunks, tried in failover
// order. The number an outside call presents is the calling extension's
// caller_id_number, else the route's caller_id, else the extension number;
// with caller_id_override true the route's caller_id wins over the
// extension's (for a trunk that accepts only its own numbers; it needs
// caller_id). allowed lists the extensions that may use the route (empty:
// all; others go on to the next route); blocked lists patterns refused on
// this route on top of the global ones.
//
// Patterns are the switch's (telephony/switch/dialplan, which also checks
// them here), in the Asterisk notation: digits, '*', '#', A-D and '+'
// match themselves, X any digit, Z 1-9, N 2-9, [1-57] a set of digits and
// ranges, a final '.' one or more further characters, a final '!' zero or
// more; a leading '_' is ignored.
//
// Emergency numbers are always allowed, whatever blocked or a route's
// allowed list say; the list must not be empty. The global blocked patterns
// (international and premium-rate by default: toll fraud is the first
// attack on a PBX) apply to every route, against the dialled number and
// the number the route sends. A new configuration, and a document that
// leaves "emergency" or "blocked" out (or gives null), takes the switch's
// defaults (dialplan.DefaultEmergency and DefaultBlocked): forgetting a key
// must not open the box to toll fraud. Only "blocked": [] blocks nothing,
// and the import says so (Config.Warnings).
//
// Secrets are kept in full in the store. An export shows each as
// SecretMask ("********") unless the secrets are asked for
// (`callboxctl config export --secrets`, for a backup that rebuilds the
// box); importing the mask keeps the stored secret of the same extension
// or trunk, and a mask with none behind it is refused (ErrMaskedSecret).
// The web API never returns secrets either.
//
// Errors are *FieldError values naming the object, the field and the
// reason, in English and as a ReasonCode with its values, so the web admin
// renders them in the user's language.
package pbxconf
