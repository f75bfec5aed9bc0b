package proslic_test

import (
	"fmt"
	"time"

	"callbox/board/internal/vclock"
	"callbox/board/proslic"
	"callbox/board/sim/proslicsim"
)

// A port on an emulated Si3215, brought up and rung on a virtual clock; the
// line code's caller ID goes out in the RingPause of cycle 1.
func Example() {
	clk := vclock.NewVirtual()
	chip := proslicsim.New(proslicsim.Config{Name: "fxs1", Si3215: true, Clock: clk})
	ring, err := proslic.PresetFor("CN")
	if err != nil {
		fmt.Println(err)
		return
	}
	port, err := proslic.New(proslic.Config{
		Name: "fxs1", Part: proslic.Si3215,
		Conn: chip, Reset: chip.Reset(), IRQ: chip.IRQ(), Clock: clk,
		Ring: ring,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := port.BringUp(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(port.Info())
	_ = port.Ring(1)
	var events []proslic.Event
	for i := 0; i < 600; i++ { // 6 s in 10 ms service steps
		clk.Advance(10 * time.Millisecond)
		events = port.Service(events)
	}
	for _, e := range events {
		fmt.Println(e.Kind, e.Cycle, e.Window)
	}
	d, _ := port.Diagnose()
	fmt.Printf("%s, battery %.0f V\n", d.Actual, d.Battery)
	// Output:
	// si3215 rev C
	// ring-pause 1 4s
	// ring-done 1 0s
	// forward active, battery -90 V
}
