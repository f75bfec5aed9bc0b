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
	// Limits bound what peers, strangers above all, can cost the box.
	Limits Limits
}

// Limits bound what a peer can cost the box before it has proved who it
// is. A source is an IP address; it is known while it has authenticated as
// an extension within KnownFor, and a trunk's address and port is always
// known. Zero fields take the defaults given; a negative one disables its
// limit (for tests and labs).
type Limits struct {
	// Rate and Burst bound the messages per second a stranger may send
	// (default 20, burst 50); KnownRate and KnownBurst those of a known
	// source (default 1000, burst 2000). Messages over the limit are
	// dropped before they are parsed.
	Rate, Burst           float64
	KnownRate, KnownBurst float64
	// KnownFor is how long an authentication makes its source known
	// (default 2 h).
	KnownFor time.Duration
	// MaxTransactions bounds the server transactions alive at once, each
	// holding its request for up to 32 s over UDP (default 4000); strangers
	// may fill three quarters of it. Requests beyond are dropped.
	MaxTransactions int
	// AuthFailures is how many failed authentications a source may have
	// in a burst, forgiven over AuthFailureWindow (defaults 5 and 5
	// minutes); the next bans the source for BanMin, doubling for each
	// further ban up to BanMax (defaults 1 minute and 1 hour). A banned
	// source's messages are dropped, except from an address and port
	// where an extension is registered.
	AuthFailures      int
	AuthFailureWindow time.Duration
	BanMin, BanMax    time.Duration
	// ExtensionFailures is how many failed authentications as one
	// extension, from any source, are allowed in a burst, forgiven over
	// AuthFailureWindow (default 20); the next locks the extension for the
	// ban times above. While locked, only the addresses the extension is
	// registered from may authenticate as it.
	ExtensionFailures int
	// TCPIdleTimeout closes a TCP connection from a stranger that has
	// sent no complete message for this long (default 30 s); known
	// sources keep theirs (TCP keepalive finds dead peers).
	// TCPMessageTimeout closes a connection whose message has begun but
	// not ended within it, from anyone (default 10 s).
	TCPIdleTimeout, TCPMessageTimeout time.Duration
	// MaxTCPPerSource and MaxTCP bound open TCP connections from one
	// source and in all (defaults 16 and 512).
	MaxTCPPerSource, MaxTCP int
	// MaxMessage is the largest message accepted, in bytes (default 32 KiB).
	MaxMessage int
	// Sources is how many sources (and extensions) the accounting
	// remembers (default 4096); the least recently seen harmless ones make
	// room for new ones.
	Sources int
	// LogEvery is the least interval between two log lines about one
	// source's bad messages (default 1 minute).
	LogEvery time.Duration
}

func (l *Limits) setDefaults() {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.Rate, 20)
	def(&l.Burst, 50)
	def(&l.KnownRate, 1000)
	def(&l.KnownBurst, 2000)
	defDur(&l.KnownFor, 2*time.Hour)
	defInt(&l.MaxTransactions, 4000)
	defInt(&l.AuthFailures, 5)
	defDur(&l.AuthFailureWindow, 5*time.Minute)
	defDur(&l.BanMin, time.Minute)
	defDur(&l.BanMax, time.Hour)
	defInt(&l.ExtensionFailures, 20)
	defDur(&l.TCPIdleTimeout, 30*time.Second)
	defDur(&l.TCPMessageTimeout, 10*time.Second)
	defInt(&l.MaxTCPPerSource, 16)
	defInt(&l.MaxTCP, 512)
	defInt(&l.MaxMessage, 32<<10)
	defInt(&l.Sources, 4096)
	defDur(&l.LogEvery, time.Minute)
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
	c.Limits.setDefaults()
}
