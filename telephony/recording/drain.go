package recording

import "callbox/telephony/media"

// drainTap reads tap until stop is closed and the tap is empty, calling
// frame for every tick the tap covered: Rx then Tx. Frames the tap dropped
// (a writer that fell behind) come as silence, so the timing stays true; a
// gap of ticks while the tap was off the leg is not filled.
func drainTap(tap *media.Tap, stop <-chan struct{}, frame func(rx, tx []int16)) {
	var (
		f       media.TapFrame
		silence [media.FrameSamples]int16
		last    uint64
		first   = true
		filled  uint64 // dropped frames already replaced by silence
	)
	drain := func() {
		for tap.Read(&f) {
			if !first && f.Tick > last+1 {
				fill := min(f.Tick-last-1, tap.Dropped()-filled)
				filled += fill
				for range fill {
					frame(silence[:], silence[:])
				}
			}
			first, last = false, f.Tick
			frame(f.Rx[:], f.Tx[:])
		}
	}
	for {
		select {
		case <-tap.Ready():
			drain()
		case <-stop:
			drain()
			// Frames dropped after the last one kept end the recording.
			for range tap.Dropped() - filled {
				frame(silence[:], silence[:])
			}
			return
		}
	}
}
