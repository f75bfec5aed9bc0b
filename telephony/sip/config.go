package sip

import (
	"net/netip"
	"time"

	"callbox/telephony/sip/digest"
	"callbox/telephony/sip/sdpneg"
)

// Extension is what the registrar needs to know about one extension.
type Extension struct {
	Number   string
	Password string
	// MaxContacts limits simultaneous registrations; 0 uses Config.MaxContacts.
	MaxContacts int
}

// Directory looks up extensions by SIP user name (the number).
type Directory interface {
	Extension(user string) (Extension, bool)
}

// Clock tells the time; tests inject a fake one for expiry.
type Clock interface {
	Now() time.Time
}

type wallClock struct{}

// Now returns the wall-clock time.
func (wallClock) Now() time.Time { return time.Now() }

// RTPAllocator hands out local RTP addresses for legs; the media engine
// implements it. A leg releases its address when it ends.
type RTPAllocator interface {
	AllocRTP() (netip.AddrPort, error)
	ReleaseRTP(netip.AddrPort)
}

// Config configures an Endpoint.
type Config struct {
	// UDP and TCP are listen addresses (host:port); empty disables one.
	UDP, TCP string
	// Advertise is the IP put in Contact and Via headers; empty means the
	// listen address, or the first non-loopback IPv4 address of the box when
	// listening on all interfaces (0.0.0.0).
	Advertise string
	// Realm is the digest realm; empty means "callbox".
	Realm string
	// UserAgent is sent in User-Agent and Server headers.
	UserAgent string
	// MinExpires, MaxExpires and DefaultExpires bound registrations
	// (defaults 60 s, 3600 s, 3600 s).
	MinExpires, MaxExpires, DefaultExpires time.Duration
	// MaxContacts per extension (default 5).
	MaxContacts int
	// DigestAlgorithms are challenged in this order, one WWW-Authenticate
	// each. The default is MD5 then SHA-256: RFC 8760 asks for the preferred
	// one first, but many deployed phones (and sipp) answer only the first
	// challenge and know only MD5. Put SHA-256 first when all phones do it.
	DigestAlgorithms []digest.Algorithm
	// NonceTTL is how long a nonce stays fresh (default 5 minutes).
	NonceTTL time.Duration
	// KeepaliveInterval is how often registered contacts get an OPTIONS;
	// 0 means 30 s, negative disables. KeepaliveFailures consecutive
	// unanswered probes drop the contact (default 2).
	KeepaliveInterval time.Duration
	KeepaliveFailures int
	// AuthenticateCalls makes INVITEs from non-trunk sources prove they are an
	// extension (407). Off only for labs.
	AuthenticateCalls bool
	// Codecs in preference order (default PCMU, PCMA); Ptime preferred
	// (default 20); DTMFPT the telephone-event payload type (default 101).
	Codecs []sdpneg.Codec
	Ptime  int
	DTMFPT uint8
	// Trunks to providers.
	Trunks []TrunkConfig
	// NoAnswerTimeout ends an outbound call attempt (default 60 s).
	NoAnswerTimeout time.Duration
	// InboundRingLimit answers 480 to an inbound INVITE the switch has
	// neither answered nor rejected in time (default 180 s, RFC 3261
	// Timer C): a safety net, not a feature.
	InboundRingLimit time.Duration
}

func (c *Config) setDefaults() {
	if c.Realm == "" {
		c.Realm = "callbox"
	}
	if c.UserAgent == "" {
		c.UserAgent = "callbox"
	}
	if c.MinExpires == 0 {
		c.MinExpires = 60 * time.Second
	}
	if c.MaxExpires == 0 {
		c.MaxExpires = time.Hour
	}
	if c.DefaultExpires == 0 {
		c.DefaultExpires = time.Hour
	}
	if c.MaxContacts == 0 {
		c.MaxContacts = 5
	}
	if len(c.DigestAlgorithms) == 0 {
		c.DigestAlgorithms = []digest.Algorithm{digest.MD5, digest.SHA256}
	}
	if c.NonceTTL == 0 {
		c.NonceTTL = 5 * time.Minute
	}
	if c.KeepaliveInterval == 0 {
		c.KeepaliveInterval = 30 * time.Second
	}
	if c.KeepaliveFailures == 0 {
		c.KeepaliveFailures = 2
	}
	if c.DTMFPT == 0 {
		c.DTMFPT = sdpneg.DefaultDTMFPT
	}
	if c.Ptime == 0 {
		c.Ptime = sdpneg.DefaultPtime
	}
	if c.InboundRingLimit == 0 {
		c.InboundRingLimit = 180 * time.Second
	}
	if c.NoAnswerTimeout == 0 {
		c.NoAnswerTimeout = 60 * time.Second
	}
}
