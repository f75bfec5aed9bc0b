// Package lineport translates between the board's line drivers and the
// line logic of telephony/line, which may not import each other: driver
// events become line events, and the line's feeds and ringing become
// driver calls. firmware/app's port adapters use it, and so do the
// telephony tests that run the line code on the emulated chips, so both
// translate the same way.
package lineport

import (
	"time"

	"callbox/board/proslic"
	"callbox/board/si3050"
	"callbox/telephony/line"
)

// FXSEvent translates a ProSLIC event; ok is false for events the line
// code does not take (ring pauses, power alarms it recovers from itself).
func FXSEvent(e proslic.Event) (ev line.FXSEvent, ok bool) {
	switch e.Kind {
	case proslic.OffHook:
		return line.FXSEvent{Kind: line.OffHook}, true
	case proslic.OnHook:
		return line.FXSEvent{Kind: line.OnHook}, true
	case proslic.Flash:
		return line.FXSEvent{Kind: line.Flash}, true
	case proslic.PulseDigit:
		return line.FXSEvent{Kind: line.PulseDigit, Digit: e.Digit}, true
	case proslic.VBATLoss, proslic.PortFailed:
		return line.FXSEvent{Kind: line.LineFault}, true
	}
	return line.FXSEvent{}, false
}

// FXOEvent translates a Si3050 event; ok is false for events the line
// code does not take.
func FXOEvent(e si3050.Event) (ev line.FXOEvent, ok bool) {
	var k line.FXOEventKind
	switch e.Kind {
	case si3050.RingStart:
		k = line.RingStart
	case si3050.RingEnd:
		k = line.RingEnd
	case si3050.RingingStopped:
		k = line.RingingStopped
	case si3050.PolarityReversal:
		k = line.PolarityReversal
	case si3050.BatteryLost:
		k = line.BatteryLost
	case si3050.BatteryRestored:
		k = line.BatteryRestored
	case si3050.LoopDrop:
		k = line.LoopDrop
	case si3050.LoopRestored:
		k = line.LoopRestored
	default:
		return line.FXOEvent{}, false
	}
	return line.FXOEvent{Kind: k, On: e.On, Off: e.Off, Count: e.Count, Polarity: e.Polarity}, true
}

// SetFeed puts an FXS port's line in the feed the line code asks for.
func SetFeed(d *proslic.Port, feed line.Feed) error {
	if err := d.SetPolarity(feed.Reversed()); err != nil {
		return err
	}
	switch feed {
	case line.FeedOpen:
		return d.SetLinefeed(proslic.Open)
	case line.FeedOHT, line.FeedOHTReverse:
		return d.SetLinefeed(proslic.ForwardOHT)
	}
	return d.SetLinefeed(proslic.ForwardActive)
}

// Ring rings an FXS port with the line code's cadence on the ringing
// signal (frequency and amplitude) of r, until StopRing or an answer.
func Ring(d *proslic.Port, r proslic.Ring, cadence []time.Duration) error {
	r.Cadence = cadence
	if err := d.SetRing(r); err != nil {
		return err
	}
	return d.Ring(0)
}
