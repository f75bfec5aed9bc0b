package si3050sim_test

import (
	"fmt"
	"time"

	"callbox/board/internal/vclock"
	"callbox/board/si3050"
	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/dsp/callerid/fsk"
)

// The sim board's FXO port: the real driver on an emulated chip, a 10 ms
// PCM loop reading the line, and the central office presenting a call
// with Bellcore caller ID, which the box then answers.
func Example() {
	clk := vclock.NewVirtual()
	chip, _ := si3050sim.New(si3050sim.Config{Name: "fxo1", Clock: clk, Country: "CN"})
	port, _ := si3050.New(si3050.Config{Name: "fxo1", Conn: chip, IRQ: chip.IRQ(), Reset: chip.ResetPin(), Clock: clk})
	if err := port.Init(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(port.Info())

	cid := callerid.Message{Format: callerid.MDMF, Time: "11211230", Number: "13800138000", Name: "ZHANG SAN"}
	chip.CO().Ring(si3050sim.Call{CallerID: &cid})
	rx, _ := callerid.NewReceiver(fsk.Bell202)
	var frame [80]int16
	var evs []si3050.Event
	for i := 0; i < 300; i++ { // 3 s
		clk.Advance(10 * time.Millisecond)
		chip.PCMRead(frame[:])
		for x := frame[:]; len(x) > 0; {
			n, ok := rx.Process(x)
			x = x[n:]
			if ok {
				m, _ := rx.Message()
				fmt.Println("caller id:", m.Number, m.Name)
			}
		}
		evs, _ = port.Poll(evs[:0])
		for _, e := range evs {
			fmt.Println(e)
		}
	}
	port.Seize()
	d, _ := port.Diag()
	fmt.Printf("answered %v, off-hook %.0f V %.0f mA\n", chip.CO().Answered(), d.Volts, d.MilliAmps)
	// Output:
	// si3050 rev 5, si3019 rev 4
	// ring-start #1 after 0s
	// ring-end #1 on 980ms
	// caller id: 13800138000 ZHANG SAN
	// answered true, off-hook 7 V 26 mA
}
