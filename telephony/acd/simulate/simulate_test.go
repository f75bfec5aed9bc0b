package simulate

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"callbox/telephony/acd"
)

// TestHandleTimeDists: each distribution has the requested mean (and
// fixed has no spread).
func TestHandleTimeDists(t *testing.T) {
	s := &sim{}
	for _, d := range []Dist{Exponential, Fixed, Lognormal} {
		s.rng = newRand(9)
		st := Stream{AHT: 3 * time.Minute, Dist: d}
		const n = 40000
		var sum, sq float64
		for range n {
			x := s.handleTime(st).Seconds()
			sum += x
			sq += x * x
		}
		mean := sum / n
		cv := math.Sqrt(sq/n-mean*mean) / mean
		wantCV := map[Dist]float64{Exponential: 1, Fixed: 0, Lognormal: math.Sqrt(math.Exp(lognormalSigma*lognormalSigma) - 1)}[d]
		if math.Abs(mean-180) > 4 || math.Abs(cv-wantCV) > 0.05 {
			t.Errorf("dist %d: mean %.1f s cv %.3f, want 180 s cv %.3f", d, mean, cv, wantCV)
		}
	}
}

// TestPatience: with exponential patience the abandonment rate of a
// single overloaded agent is close to what the M/M/1+M balance gives
// independently here: every call either is answered or abandons, and with
// far more traffic than capacity the agent is busy all the time, so
// answered ≈ duration / AHT.
func TestPatience(t *testing.T) {
	hours := 20
	if testing.Short() || raceEnabled {
		hours = 5
	}
	p := Simple(1, acd.LongestIdle, 0, Stream{ArrivalRate: 600, AHT: time.Minute, Dist: Fixed, Patience: 30 * time.Second})
	p.Duration, p.Seed = time.Duration(hours)*time.Hour, 5
	res, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Offered != res.Answered+res.Abandoned+res.Overflowed || res.Overflowed != 0 {
		t.Fatalf("accounting %+v", res)
	}
	if want := hours * 60; math.Abs(float64(res.Answered-want)) > float64(hours)*1.5 {
		t.Errorf("answered %d, want about %d", res.Answered, want)
	}
	if res.Occupancy < 0.99 {
		t.Errorf("occupancy %.3f", res.Occupancy)
	}
}

// TestWrapUpLowersCapacity: wrap-up counts as occupancy and worsens the
// service level against the same traffic.
func TestWrapUpLowersCapacity(t *testing.T) {
	run := func(w time.Duration) Result {
		p := Simple(10, acd.LongestIdle, w, Stream{ArrivalRate: 160, AHT: 3 * time.Minute})
		p.Duration, p.Seed = 60*time.Hour, 11
		r, err := Run(p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := run(0), run(20*time.Second)
	// Occupancy with wrap-up: λ·(AHT+wrap)/N = 160·200 s / 3600 / 10 = 0.889.
	if math.Abs(b.Occupancy-0.889) > 0.01 || b.ServiceLevel >= a.ServiceLevel {
		t.Errorf("no wrap-up: %+v\nwrap-up: %+v", a, b)
	}
}

// TestScenario runs the example scenario file.
func TestScenario(t *testing.T) {
	f, err := os.Open("testdata/scenario.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := LoadScenario(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Config.Groups) != 3 || len(p.Config.Agents) != 18 || len(p.Streams) != 3 || p.Duration != 8*time.Hour {
		t.Fatalf("loaded %d groups %d agents %d streams %s", len(p.Config.Groups), len(p.Config.Agents), len(p.Streams), p.Duration)
	}
	if p.Config.Groups[0].Rule != acd.AgentLevel || p.Config.Groups[2].Overflow.Kind != acd.TargetIVR {
		t.Fatalf("groups %+v", p.Config.Groups)
	}
	if sh := p.Shifts["1002"]; len(sh) != 2 || sh[1].Start != 5*time.Hour {
		t.Fatalf("shifts %+v", sh)
	}
	p.Seed = 1
	res, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Offered != res.Answered+res.Abandoned+res.Overflowed {
		t.Fatalf("accounting %+v", res)
	}
	for _, s := range res.Streams {
		if s.Offered == 0 || s.Answered == 0 {
			t.Fatalf("stream %+v", s)
		}
	}
	// The engine's own per-group figures add up with the simulator's.
	if len(res.Groups) != 3 {
		t.Fatalf("groups %+v", res.Groups)
	}
	answered := 0
	for _, g := range res.Groups {
		answered += g.Answered
	}
	if answered != res.Answered {
		t.Fatalf("engine answered %d, simulator %d", answered, res.Answered)
	}
	// About 235 calls an hour for 8 hours.
	if res.Offered < 1700 || res.Offered > 2100 || res.Occupancy <= 0 || res.Occupancy > 1 {
		t.Fatalf("result %+v", res)
	}
}

func TestScenarioErrors(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"unknown field", `{"gropus": []}`, "unknown field"},
		{"bad rule", `{"groups": [{"id": 1, "rule": "fastest"}]}`, "unknown routing rule"},
		{"bad duration", `{"groups": [{"id": 1, "max_wait": 30}]}`, "duration"},
		{"bad overflow", `{"groups": [{"id": 1, "overflow": {"kind": "moon"}}]}`, "overflow kind"},
		{"unknown group", `{"groups": [{"id": 1}], "agents": [{"id": "a", "skills": {"2": 1}}]}`, "unknown group 2"},
		{"bad skill key", `{"groups": [{"id": 1}], "agents": [{"id": "a", "skills": {"x": 1}}]}`, "skill key"},
		{"bad dist", `{"traffic": [{"aht": "1m", "aht_dist": "gamma"}]}`, "distribution"},
		{"bad patience", `{"traffic": [{"aht": "1m", "patience": "soon"}]}`, "patience"},
		{"bad join", `{"groups": [{"id": 1, "join": "never"}]}`, "join/leave"},
	} {
		_, err := LoadScenario(strings.NewReader(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestParsePatience(t *testing.T) {
	for in, want := range map[string]time.Duration{"inf": 0, "": 0, "90": 90 * time.Second, "1.5": 1500 * time.Millisecond, "2m": 2 * time.Minute} {
		if got, err := ParsePatience(in); err != nil || got != want {
			t.Errorf("ParsePatience(%q) = %s, %v", in, got, err)
		}
	}
	if _, err := ParsePatience("-3"); err == nil {
		t.Error("negative patience accepted")
	}
}

// FuzzLoadScenario: any input either fails cleanly or gives Params whose
// configuration validates and whose streams have positive handle times
// or are rejected by Run.
func FuzzLoadScenario(f *testing.F) {
	b, err := os.ReadFile("testdata/scenario.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add(`{"groups":[{"id":1}],"agent_pool":{"count":2,"skills":{"1":1}},"traffic":[{"arrival_rate":10,"aht":"1m"}]}`)
	f.Add(`{"duration":"1h"}`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := LoadScenario(strings.NewReader(s))
		if err != nil {
			return
		}
		if err := p.Config.Validate(); err != nil {
			t.Fatalf("loaded an invalid configuration: %v", err)
		}
		if len(p.Config.Agents) > 200 || p.Duration > 2*time.Hour || p.Duration <= 0 {
			return // keep fuzzing runs short
		}
		for _, st := range p.Streams {
			if st.ArrivalRate > 1000 {
				return
			}
		}
		res, err := Run(p)
		if err == nil && res.Offered != res.Answered+res.Abandoned+res.Overflowed {
			t.Fatalf("accounting %+v", res)
		}
	})
}

// TestAnswerDelay: ring time adds to the speed of answer, and agents who
// never answer within the ring timeout end on break (no-answer limit),
// leaving every caller to abandon.
func TestAnswerDelay(t *testing.T) {
	p := Simple(5, acd.LongestIdle, 0, Stream{ArrivalRate: 60, AHT: time.Minute, Patience: 5 * time.Minute})
	p.Duration, p.Seed = 4*time.Hour, 2
	base, _ := Run(p)
	p.AnswerDelay = 4 * time.Second
	slow, _ := Run(p)
	if d := slow.ASA - base.ASA; d < 3*time.Second || d > 5*time.Second {
		t.Errorf("ASA %s with a 4 s answer delay, %s without", slow.ASA, base.ASA)
	}
	p.AnswerDelay = time.Minute // beyond the 15 s ring timeout
	never, _ := Run(p)
	if never.Answered != 0 || never.Abandoned != never.Offered {
		t.Errorf("agents who never answer: %+v", never)
	}
}
