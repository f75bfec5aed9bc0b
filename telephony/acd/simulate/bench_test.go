package simulate

import (
	"testing"
	"time"

	"callbox/telephony/acd"
)

// BenchmarkDay simulates an 8-hour day of a 30-agent centre at 85 %
// occupancy (510 calls an hour, 3-minute exponential handle time, 10 s
// wrap-up, patience 2 minutes) and reports wall time per simulated day.
// The staffing simulator's target is under a second a day (1000 ms/day):
// `make bench` shows the figure.
func BenchmarkDay(b *testing.B) {
	p := Simple(30, acd.LongestIdle, 10*time.Second, Stream{ArrivalRate: 510, AHT: 3 * time.Minute, Patience: 2 * time.Minute})
	p.Duration = 8 * time.Hour
	b.ReportAllocs()
	var events, calls int
	for b.Loop() {
		p.Seed++
		res, err := Run(p)
		if err != nil {
			b.Fatal(err)
		}
		events += res.Events
		calls += res.Offered
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/day")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/day")
}

// TestDay runs BenchmarkDay's day once and checks it is plausible. It
// keeps no time: the speed target lives in BenchmarkDay, so this runs under
// the race detector and on ARM too.
func TestDay(t *testing.T) {
	p := Simple(30, acd.LongestIdle, 10*time.Second, Stream{ArrivalRate: 510, AHT: 3 * time.Minute, Patience: 2 * time.Minute})
	p.Duration, p.Seed = 8*time.Hour, 3
	res, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Offered < 3500 || res.Offered != res.Answered+res.Abandoned+res.Overflowed {
		t.Fatalf("implausible day %+v", res)
	}
	t.Logf("8 h, 30 agents: %d calls, %d events in %s", res.Offered, res.Events, res.Wall)
}
