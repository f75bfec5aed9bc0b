package simulate

import (
	"fmt"
	"math"
	"testing"
	"time"

	"callbox/telephony/acd"
)

// erlangC is the probability that a call waits in an M/M/N queue with
// offered load a erlangs, from the Erlang B recursion
// B(0)=1, B(k) = a·B(k-1) / (k + a·B(k-1)); C = N·B / (N - a·(1-B)).
func erlangC(n int, a float64) float64 {
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return float64(n) * b / (float64(n) - a*(1-b))
}

// erlangSL is P(wait <= t) = 1 - C·exp(-(N-a)·t/AHT).
func erlangSL(n int, a float64, t, aht time.Duration) float64 {
	return 1 - erlangC(n, a)*math.Exp(-(float64(n)-a)*t.Seconds()/aht.Seconds())
}

func TestErlangCReference(t *testing.T) {
	// Published table values: N=10, A=8 erlangs: C = 0.4092; N=5, A=4: C = 0.5541.
	for _, tc := range []struct {
		n    int
		a, c float64
	}{{10, 8, 0.4092}, {5, 4, 0.5541}, {1, 0.5, 0.5}} {
		if got := erlangC(tc.n, tc.a); math.Abs(got-tc.c) > 5e-4 {
			t.Errorf("erlangC(%d, %g) = %.4f, want %.4f", tc.n, tc.a, got, tc.c)
		}
	}
}

// TestErlangC: with infinite patience, exponential handle times and no
// wrap-up, the simulated service level, speed of answer and occupancy agree
// with Erlang C. Each load runs R independent replications; the check is
// |mean - theory| <= 4 standard errors (+0.003 for the empty start), and the
// standard error itself must be small so the test has power.
func TestErlangC(t *testing.T) {
	const aht = 3 * time.Minute
	loads := []struct {
		n int
		a float64
	}{{5, 3}, {10, 7}, {20, 16}, {30, 24}}
	// About 12,000 calls per replication. The race detector (which slows
	// the simulation tenfold) and -short (ARM under emulation) get one load
	// and 4,000 calls: the simulation is single-threaded, so they gain
	// nothing from more.
	reps, perRep := 10, 12000.0
	if testing.Short() || raceEnabled {
		loads, perRep = loads[:1], 4000
	}
	t.Logf("%6s %6s %6s %9s %9s %7s %8s %8s %6s", "agents", "erl", "rho", "SL-erlC", "SL-sim", "±se", "ASA-erlC", "ASA-sim", "occ")
	for _, l := range loads {
		var sl, asa, occ []float64
		calls := 0
		for r := range reps {
			rate := l.a / aht.Hours()
			p := Simple(l.n, acd.LongestIdle, 0, Stream{ArrivalRate: rate, AHT: aht})
			p.Duration, p.Seed = time.Duration(perRep/rate*float64(time.Hour)), uint64(1000*l.n+r)
			res, err := Run(p)
			if err != nil {
				t.Fatal(err)
			}
			if res.Offered != res.Answered {
				t.Fatalf("lost calls: %+v", res)
			}
			calls += res.Offered
			sl = append(sl, res.ServiceLevel)
			asa = append(asa, res.ASA.Seconds())
			occ = append(occ, res.Occupancy)
		}
		want := erlangSL(l.n, l.a, 20*time.Second, aht)
		wantASA := erlangC(l.n, l.a) * aht.Seconds() / (float64(l.n) - l.a)
		m, se := meanSE(sl)
		ma, sea := meanSE(asa)
		mo, seo := meanSE(occ)
		t.Logf("%6d %6.1f %6.3f %9.4f %9.4f %7.4f %8.1f %8.1f %6.3f  (%d calls)", l.n, l.a, l.a/float64(l.n), want, m, se, wantASA, ma, mo, calls)
		if se > 0.02 || math.Abs(m-want) > 4*se+0.003 {
			t.Errorf("N=%d A=%g: service level %.4f ± %.4f, Erlang C %.4f", l.n, l.a, m, se, want)
		}
		if math.Abs(ma-wantASA) > 4*sea+0.5 {
			t.Errorf("N=%d A=%g: ASA %.1f ± %.1f s, Erlang C %.1f s", l.n, l.a, ma, sea, wantASA)
		}
		if rho := l.a / float64(l.n); math.Abs(mo-rho) > 4*seo+0.005 {
			t.Errorf("N=%d A=%g: occupancy %.4f ± %.4f, want %.4f", l.n, l.a, mo, seo, rho)
		}
	}
}

func meanSE(x []float64) (float64, float64) {
	var s, ss float64
	for _, v := range x {
		s += v
	}
	m := s / float64(len(x))
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	return m, math.Sqrt(ss / float64(len(x)-1) / float64(len(x)))
}

func ExampleRun() {
	p := Simple(10, acd.LongestIdle, 0, Stream{ArrivalRate: 160, AHT: 3 * time.Minute})
	p.Duration, p.Seed = 8*time.Hour, 1
	res, _ := Run(p)
	fmt.Println(res.Offered == res.Answered+res.Abandoned+res.Overflowed)
	// Output: true
}
