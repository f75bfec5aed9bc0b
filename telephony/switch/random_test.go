package callswitch_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"callbox/telephony/line"
	"callbox/telephony/switch/cdr"
)

// Random use of four phones (dialling each other and feature codes,
// flashing, hanging up at any moment) must never wedge the switch: once
// everyone has hung up every call is over, every line idle, and every
// CDR consistent.
func TestRandomUse(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	steps := 200
	if testing.Short() || raceEnabled {
		seeds, steps = seeds[:1], 80
	}
	answered := 0
	for _, seed := range seeds {
		rng := rand.New(rand.NewPCG(seed, 7))
		r := newRig(t, rigOpt{ring: 8 * time.Second})
		exts := []string{"201", "202", "203", "204"}
		port := map[string]string{"201": "fxs1", "202": "fxs2", "203": "fxs3", "204": "fxs4"}
		numbers := []string{"201", "202", "203", "204", "*8", "*76", "*77", "*72203#", "*73", "*90204#", "*91", "*92201#", "*93", "207"}
		for range steps {
			x := exts[rng.IntN(len(exts))]
			p := r.phone(x)
			alerting := r.sw.FXS(port[x]).State() == line.FXSAlerting
			switch k := rng.IntN(100); {
			case alerting:
				if k < 80 {
					p.OffHook() // answer
				}
			case !p.IsOffHook():
				if k < 50 {
					p.OffHook()
					r.run(time.Duration(200+rng.IntN(400)) * time.Millisecond)
					n := numbers[rng.IntN(4)]
					if k < 10 {
						n = numbers[rng.IntN(len(numbers))]
					}
					_ = p.Dial(n)
				}
			case k < 25:
				p.OnHook()
			case k < 45:
				p.OnHook() // a flash
				r.run(300 * time.Millisecond)
				p.OffHook()
				if k < 38 {
					// ... and a consultation call: hold, transfer or
					// conference follow from later steps.
					r.run(500 * time.Millisecond)
					_ = p.Dial(numbers[rng.IntN(4)])
				}
			case k < 60 && !p.Dialling():
				_ = p.Dial(numbers[rng.IntN(4)])
			}
			r.run(time.Duration(100+rng.IntN(2000)) * time.Millisecond)
		}
		for _, x := range exts {
			r.phone(x).OnHook()
		}
		r.run(12 * time.Second)
		if n := r.calls(); n != 0 {
			t.Fatalf("seed %d: %d calls left after everyone hung up", seed, n)
		}
		for i := 1; i <= 4; i++ {
			name := "fxs" + string(rune('0'+i))
			if st := r.sw.FXS(name).State(); st != line.FXSIdle {
				t.Fatalf("seed %d: %s is %s", seed, name, st)
			}
			if r.phone(exts[i-1]).Ringing() {
				t.Fatalf("seed %d: %s rings on", seed, exts[i-1])
			}
		}
		recs := r.cdr()
		kinds := map[string]int{}
		for _, c := range recs {
			kinds[c.Disposition.String()+"/"+c.Cause]++
		}
		t.Logf("seed %d: %d CDRs %v", seed, len(recs), kinds)
		answered += kinds["answered/normal"] + kinds["answered/transferred"]
		for _, c := range recs {
			ok := !c.End.Before(c.Start) && c.Duration == c.End.Sub(c.Start) && len(c.Legs) > 0 && c.ID != ""
			switch c.Disposition {
			case cdr.Answered:
				ok = ok && !c.Answer.Before(c.Start) && !c.End.Before(c.Answer) && c.Billable == c.End.Sub(c.Answer)
			case cdr.Busy, cdr.NoAnswer, cdr.Failed, cdr.Cancelled:
				ok = ok && c.Answer.IsZero() && c.Billable == 0
			default:
				ok = false
			}
			for _, l := range c.Legs {
				ok = ok && !l.End.IsZero() && !l.End.Before(l.Start)
			}
			if !ok {
				t.Fatalf("seed %d: inconsistent CDR %+v", seed, c)
			}
		}
	}
	if answered < len(seeds) {
		t.Fatalf("only %d calls answered in %d runs: the test does not exercise calls", answered, len(seeds))
	}
}
