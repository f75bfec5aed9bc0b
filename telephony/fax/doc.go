// Package fax puts dsp/fax into calls: a fax terminal on one leg of a call
// (Terminal: the T.30 sender or receiver on the leg's audio), a fax and
// modem tone detector for routing (Detector: CNG on an inbound call), the
// documents a fax is made of (Pages: TIFF, PNG or JPEG to fax pages),
// previews of pages (WritePNG), and the fax service of the running box
// (Service).
//
// # A fax on a leg
//
// A leg's audio reaches an application through the switch's app calls: a
// Source played into the leg is what its party hears, and a recording tap
// (media.Tap) gives, once per 10 ms tick, what the party said. A Terminal
// is both: the clock reads its next frame to send, and its tap collects
// the frames heard. The T.30 session runs off the clock on the terminal's
// own goroutine, a frame at a time as the tap fills, because its work is
// uneven: a few microseconds a frame on average, but a page is coded when
// it starts and decoded when it ends (milliseconds, tens of them on an ARM
// board), which must not hold up the box's other calls. The frames it
// sends wait in a ring a quarter of a second deep (a fixed delay, prefilled with
// silence); a late frame is silence, and silent frames beyond the depth
// are dropped again, so a stall while the terminal sends nothing costs no
// lasting delay. Nothing is allocated per frame.
//
// The leg must be in fax mode (callswitch.AppCall.SetFax: no echo
// cancelling, no DTMF muting, a fixed jitter-buffer delay) for the signal
// to pass untouched.
//
// # The service
//
// Service is the switch's front application (asked about every call
// before the call centre): a call for one of its Settings' numbers (a
// DID as the trunk delivers it) or on one of its trunks or FXO lines is
// answered by a receiver; Send places a call to a number through the
// routes and sends a document; OnLeg runs a fax on a leg of another
// application's call (an agent's, an IVR node's) and gives the leg back;
// AddJob schedules a document to a list of numbers with retries (Jobs,
// kept in a JobStore). Each fax is a Record in a Store (the box's
// store and data directory) from its start, updated with its result and,
// for one received, its pages. A call that ends before T.30 does lets the
// session's timers decide on silence, so a document whose last page was
// confirmed counts as received though the DCN was cut off.
package fax
