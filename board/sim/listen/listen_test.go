package listen_test

import (
	"strings"
	"testing"
	"time"

	"callbox/board/sim/listen"
	"callbox/dsp/dtmf"
	"callbox/dsp/tone"
)

// feed plays x to the ear in 10 ms frames from t0, returning the time after.
func feed(e *listen.Ear, t0 time.Time, x []int16) time.Time {
	for len(x) > 0 {
		n := min(80, len(x))
		t0 = t0.Add(10 * time.Millisecond)
		e.Hear(t0, x[:n])
		x = x[n:]
	}
	return t0
}

func gen(t *testing.T, plan tone.Plan, name string, d time.Duration) []int16 {
	t.Helper()
	tn, err := plan.Tone(name)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]int16, d*8000/time.Second)
	tone.NewGenerator(tn).Read(x)
	return x
}

func TestEarNamesTonesAndDigits(t *testing.T) {
	plan, err := tone.PlanFor("CN")
	if err != nil {
		t.Fatal(err)
	}
	e := listen.New(plan)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if e.Sound() != "silence" || e.Tone() != "" {
		t.Fatalf("new ear hears %q", e.Sound())
	}
	now := feed(e, t0, gen(t, plan, tone.Dial, 2*time.Second))
	if e.Tone() != tone.Dial || e.Sound() != tone.Dial {
		t.Fatalf("after 2 s of dial tone the ear hears %q", e.Sound())
	}
	digits, err := dtmf.Synthesize("202", dtmf.DefaultGeneratorConfig())
	if err != nil {
		t.Fatal(err)
	}
	now = feed(e, now, digits)
	now = feed(e, now, make([]int16, 4000))
	if e.Digits() != "202" {
		t.Fatalf("digits %q", e.Digits())
	}
	now = feed(e, now, gen(t, plan, tone.Busy, 3*time.Second))
	if e.Tone() != tone.Busy {
		t.Fatalf("busy tone heard as %q", e.Sound())
	}
	var got []string
	for _, ev := range e.Events(t0) {
		got = append(got, ev.String())
	}
	want := "hears dial, stops hearing dial, hears digit 2, hears digit 0, hears digit 2, hears busy"
	if strings.Join(got, ", ") != want {
		t.Fatalf("events %q\nwant %q", strings.Join(got, ", "), want)
	}
	// A new call forgets the digits and ends the tone; the log stays.
	e.Reset(now)
	if e.Digits() != "" || e.Tone() != "" {
		t.Fatalf("after Reset: %q %q", e.Digits(), e.Tone())
	}
	if ev := e.Events(now); len(ev) != 1 || ev[0].String() != "stops hearing busy" {
		t.Fatalf("events at reset: %v", ev)
	}
	lines := listen.Format(e.Events(t0)[:1], t0)
	if len(lines) != 1 || !strings.HasSuffix(lines[0], "s hears dial") || !strings.HasPrefix(lines[0], "+") {
		t.Fatalf("Format: %q", lines)
	}
}

func TestEarLogIsBounded(t *testing.T) {
	plan, _ := tone.PlanFor("")
	e := listen.New(plan)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < listen.LogSize+10; i++ {
		e.Note(t0.Add(time.Duration(i)*time.Second), listen.OffHook, "")
	}
	ev := e.Events(time.Time{})
	if len(ev) != listen.LogSize || !ev[0].At.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("%d events, first at %v", len(ev), ev[0].At)
	}
	if ev := e.Events(t0.Add(time.Duration(listen.LogSize+9) * time.Second)); len(ev) != 1 {
		t.Fatalf("since the last: %d events", len(ev))
	}
}

// Hearing a frame allocates nothing: the ear runs on the emulators' frame
// tick.
func TestEarHearDoesNotAllocate(t *testing.T) {
	plan, _ := tone.PlanFor("CN")
	e := listen.New(plan)
	x := gen(t, plan, tone.Dial, 10*time.Millisecond)
	now := time.Now()
	feed(e, now, gen(t, plan, tone.Dial, time.Second)) // the dial tone event, once
	if n := testing.AllocsPerRun(100, func() { e.Hear(now, x) }); n != 0 {
		t.Fatalf("%v allocations per frame", n)
	}
}

// BenchmarkHear is the ear's cost per frame of a phone or office that
// listens: the tone and DTMF detectors on 10 ms of dial tone.
func BenchmarkHear(b *testing.B) {
	plan, _ := tone.PlanFor("CN")
	e := listen.New(plan)
	tn, _ := plan.Tone(tone.Dial)
	x := make([]int16, 8000)
	tone.NewGenerator(tn).Read(x)
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % 100 * 80
		e.Hear(now, x[k:k+80])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*80), "ns/sample")
}
