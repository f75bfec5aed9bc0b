package line

import "time"

// FrameSamples is the length of one audio frame: 10 ms at 8 kHz.
const FrameSamples = 80

// FrameTime is the time one frame covers, the period of Tick.
const FrameTime = 10 * time.Millisecond

// Frame is 10 ms of 8 kHz linear audio, the unit every port and channel
// exchanges once per frame clock tick. It is an alias so that frames of the
// media engine and the board's PCM highway convert without copying.
type Frame = [FrameSamples]int16

// Clock tells the time. Channels read it once per Tick and per event, so
// tests drive them on a virtual clock and pay no wall time for timeouts.
type Clock interface {
	Now() time.Time
}

// Audio is a port's side of the PCM path, one frame per tick: ReadFrame
// gives what the line sent during the last 10 ms, WriteFrame takes what is
// to be sent during the next 10 ms. Neither may allocate or block.
type Audio interface {
	ReadFrame(f *Frame)
	WriteFrame(f *Frame)
}

// Voice carries a connected call's audio between a line channel and the
// switch (a bridge, a conference, a recorder tap). Exchange is called once
// per tick from the channel's Tick: up holds the audio heard on the line
// (echo cancelled on FXO), and Exchange fills down with what the line is to
// hear. Neither frame may be kept after Exchange returns.
type Voice interface {
	Exchange(up *Frame, down *Frame)
}

// Feed is the state an FXS port drives its line in.
type Feed uint8

// Line feed states. The OHT states pass audio to an on-hook phone (caller
// ID); the Reverse states swap tip and ring (ETSI caller ID alert, answer
// supervision).
const (
	FeedOpen Feed = iota + 1
	FeedActive
	FeedActiveReverse
	FeedOHT
	FeedOHTReverse
)

var feedNames = [...]string{"", "open", "active", "active-reverse", "oht", "oht-reverse"}

// String names the feed state.
func (f Feed) String() string {
	if int(f) < len(feedNames) && f != 0 {
		return feedNames[f]
	}
	return "feed?"
}

// Reversed reports whether the feed swaps tip and ring.
func (f Feed) Reversed() bool { return f == FeedActiveReverse || f == FeedOHTReverse }

// FXSPort is an FXS port (a SLIC with a phone on its line) as the channel
// logic needs it. firmware/app adapts the board's driver to it.
type FXSPort interface {
	Audio
	// Ring rings the line with cadence (on, off, on, off, ... times),
	// repeating until StopRing, SetFeed or an answer. The pauses are in
	// on-hook transmission, so audio written during them reaches the
	// on-hook phone (the Bellcore caller ID window).
	Ring(cadence []time.Duration) error
	// StopRing stops ringing and leaves the line idle (active, on hook).
	StopRing() error
	// SetFeed puts the line in state f, stopping any ringing. (The
	// ProSLIC driver keeps a ring going when OHT is asked for in a pause;
	// the channel calls StopRing before SetFeed whenever it means to stop
	// a ring, so an adapter need not care.)
	SetFeed(f Feed) error
	// NextEvent returns the oldest hook event not yet taken; ok is false
	// when there is none. The port queues events from its own service
	// routine; the channel takes them on its ticks.
	NextEvent() (e FXSEvent, ok bool)
}

// FXSEventKind says what happened on an FXS line.
type FXSEventKind uint8

// FXS hook events.
const (
	// OffHook: the phone went off hook (or answered while ringing).
	OffHook FXSEventKind = iota + 1
	// OnHook: the phone hung up (on hook longer than the flash window).
	OnHook
	// Flash: a hook flash (an on-hook break inside the flash window).
	Flash
	// PulseDigit: a dialled pulse train, decoded by the port (Digit).
	PulseDigit
	// LineFault: the port lost its line (power alarm, battery loss, chip
	// failure); the phone is treated as gone.
	LineFault
)

var fxsEventNames = [...]string{"", "off-hook", "on-hook", "flash", "pulse-digit", "line-fault"}

// String names the event kind.
func (k FXSEventKind) String() string {
	if int(k) < len(fxsEventNames) && k != 0 {
		return fxsEventNames[k]
	}
	return "fxs-event?"
}

// FXSEvent is one hook event of an FXS port.
type FXSEvent struct {
	Kind  FXSEventKind
	Digit byte // PulseDigit: '0' to '9'
}

// FXOPort is an FXO port (a DAA on a PSTN line) as the channel logic needs
// it. firmware/app adapts the board's driver to it.
type FXOPort interface {
	Audio
	// Seize takes the line off hook (answering a call or starting to dial).
	// It fails if no loop current flows. It is called from Tick, so an
	// adapter whose driver waits for loop current (the Si3050's, up to its
	// SeizeTimeout) holds up the frame clock's goroutine that long.
	Seize() error
	// Release puts the line back on hook with the on-hook line monitor on,
	// so the caller ID of the next call reaches ReadFrame.
	Release() error
	// Flash sends the country's hook flash on a seized line.
	Flash() error
	// LineVoltage is the signed tip-ring voltage: about 48 V on hook,
	// a few volts off hook, 0 with no battery; the sign is the polarity.
	LineVoltage() (float64, error)
	// NextEvent returns the oldest line event not yet taken.
	NextEvent() (e FXOEvent, ok bool)
}

// FXOEventKind says what happened on an FXO line.
type FXOEventKind uint8

// FXO line events.
const (
	// RingStart: a ring began. Off is the silence since the previous ring
	// of the call (0 for the first), Count numbers the ring.
	RingStart FXOEventKind = iota + 1
	// RingEnd: a ring ended; On is its length.
	RingEnd
	// RingingStopped: no more rings: the caller gave up.
	RingingStopped
	// PolarityReversal: the line polarity changed (Polarity is the new
	// one: +1 normal, -1 reversed).
	PolarityReversal
	// BatteryLost: no battery on the line: disconnected.
	BatteryLost
	// BatteryRestored: battery is back.
	BatteryRestored
	// LoopDrop: off hook, the loop current stopped for long enough to be a
	// disconnect.
	LoopDrop
	// LoopRestored: loop current flows again after a LoopDrop.
	LoopRestored
)

var fxoEventNames = [...]string{"", "ring-start", "ring-end", "ringing-stopped", "polarity-reversal",
	"battery-lost", "battery-restored", "loop-drop", "loop-restored"}

// String names the event kind.
func (k FXOEventKind) String() string {
	if int(k) < len(fxoEventNames) && k != 0 {
		return fxoEventNames[k]
	}
	return "fxo-event?"
}

// FXOEvent is one line event of an FXO port.
type FXOEvent struct {
	Kind     FXOEventKind
	On, Off  time.Duration // RingEnd: ring length; RingStart: silence before it
	Count    int           // ring number as the port counts it (the channel counts its own)
	Polarity int           // PolarityReversal
}
