package pcm_test

import (
	"fmt"

	"callbox/board/internal/vclock"
	"callbox/board/pcm"
)

// tone is a stand-in for an emulated chip's line side: it sends a constant
// level and remembers the last frame it was sent.
type tone struct {
	level int16
	heard []int16
}

func (t *tone) PCMRead(frame []int16) {
	for i := range frame {
		frame[i] = t.level
	}
}

func (t *tone) PCMWrite(frame []int16) { t.heard = append(t.heard[:0], frame...) }

// Two emulated lines on the simulated highway, cross-connected by the
// handler the way a media engine bridges a call, stepped frame by frame.
func ExampleSim() {
	hw, _ := pcm.NewSim(32, vclock.NewVirtual())
	defer hw.Close()
	phone, trunk := &tone{level: 1000}, &tone{level: -2000}
	hw.Connect(0, phone) // an FXS chip at timeslot 0
	hw.Connect(4, trunk) // an FXO chip at timeslots 4-5
	fxs, _ := hw.Attach(0, pcm.Alaw)
	fxo, _ := hw.Attach(4, pcm.Linear)
	hw.SetHandler(func(t pcm.Tick) {
		fxs.Send(fxo.Received())
		fxo.Send(fxs.Received())
	})
	for range 3 {
		hw.Step()
	}
	// The phone hears the trunk through A-law, the trunk hears the phone's
	// A-law-quantised level exactly.
	fmt.Println(phone.heard[0], trunk.heard[0], hw.Stats().Ticks, hw.Stats().Underruns)
	// Output: -2016 1008 3 0
}
