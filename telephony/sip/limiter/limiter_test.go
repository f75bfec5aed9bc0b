package limiter

import (
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Unix(1_800_000_000, 0)

func TestAllowRate(t *testing.T) {
	tb := New[string](Policy{Rate: 10, Burst: 5, TrustedRate: 100, TrustedBurst: 50}, 100)
	tests := []struct {
		name string
		at   time.Duration // since t0
		n    int           // events tried
		want int           // allowed
	}{
		{"burst", 0, 8, 5},
		{"empty", 0, 3, 0},
		{"refilled one per 100 ms", 350 * time.Millisecond, 5, 3},
		{"never more than the burst", time.Hour, 9, 5},
	}
	for _, tt := range tests {
		got := 0
		for range tt.n {
			if tb.Allow("a", t0.Add(tt.at)) {
				got++
			}
		}
		if got != tt.want {
			t.Errorf("%s: allowed %d of %d, want %d", tt.name, got, tt.n, tt.want)
		}
	}
	if !tb.Allow("b", t0) {
		t.Error("another key shares a's bucket")
	}
	now := t0.Add(2 * time.Hour)
	tb.Trust("a", now, now.Add(time.Minute))
	got := 0
	for range 60 {
		if tb.Allow("a", now) {
			got++
		}
	}
	if got != 50 {
		t.Errorf("trusted key allowed %d of 60, want its burst of 50", got)
	}
	if !tb.Trusted("a", now) || tb.Trusted("a", now.Add(time.Minute)) || tb.Trusted("zz", now) {
		t.Error("trust not bounded by its time")
	}
}

func TestNoRateMeansNoLimit(t *testing.T) {
	tb := New[int](Policy{Failures: 1, BanMin: time.Second}, 16)
	for i := range 1000 {
		if !tb.Allow(1, t0) {
			t.Fatalf("event %d refused without a rate", i)
		}
	}
	if tb.Len() != 0 {
		t.Errorf("unlimited events created %d entries", tb.Len())
	}
}

func TestBanDoublesAndIsCapped(t *testing.T) {
	p := Policy{Failures: 3, FailureWindow: time.Minute, BanMin: time.Minute, BanMax: 5 * time.Minute}
	tb := New[string](p, 100)
	now := t0
	var bans []time.Duration
	for round := range 5 {
		fails := 0
		for {
			fails++
			banned, started, until := tb.Fail("x", now)
			if banned {
				if !started {
					t.Fatalf("round %d: the ban was not started by this failure", round)
				}
				bans = append(bans, until.Sub(now))
				now = until
				break
			}
		}
		if fails != 4 {
			t.Errorf("round %d: banned after %d failures, want 4 (3 allowed)", round, fails)
		}
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	for i := range want {
		if bans[i] != want[i] {
			t.Errorf("ban %d lasted %v, want %v (all %v)", i, bans[i], want[i], bans)
		}
	}
	// While banned, failures neither count nor extend the ban.
	now = t0.Add(time.Hour)
	for range 4 {
		tb.Fail("y", now)
	}
	b1, u1 := tb.Banned("y", now)
	banned, started, u2 := tb.Fail("y", now.Add(30*time.Second))
	if !b1 || !banned || started || !u1.Equal(u2) {
		t.Errorf("failure while banned: %v %v %v, first ban until %v", banned, started, u2, u1)
	}
	if b, _ := tb.Banned("y", u1); b {
		t.Error("still banned when the ban ends")
	}
	// A key that behaves for BanMax starts again from BanMin.
	later := u1.Add(p.BanMax + time.Second)
	for {
		if banned, _, until := tb.Fail("y", later); banned {
			if d := until.Sub(later); d != time.Minute {
				t.Errorf("ban after a quiet period lasted %v, want the first ban again", d)
			}
			break
		}
	}
}

func TestFailuresForgivenOverTheWindow(t *testing.T) {
	tb := New[string](Policy{Failures: 2, FailureWindow: 10 * time.Second, BanMin: time.Minute}, 100)
	// One failure every 5 s is exactly the forgiveness rate: never banned.
	for i := range 100 {
		if banned, _, _ := tb.Fail("slow", t0.Add(time.Duration(i)*5*time.Second)); banned {
			t.Fatalf("banned at failure %d of a key failing at the forgiven rate", i)
		}
	}
}

func TestHold(t *testing.T) {
	tb := New[netip.Addr](Policy{Hold: 2}, 100)
	a := netip.MustParseAddr("192.0.2.1")
	acquire := func(want ...bool) {
		t.Helper()
		for i, w := range want {
			if got := tb.Acquire(a, t0); got != w {
				t.Fatalf("acquire %d: %v, want %v", i, got, w)
			}
		}
	}
	acquire(true, true, false)
	tb.Release(a)
	acquire(true)
	tb.Release(a)
	tb.Release(a)
	tb.Release(a) // more releases than holds do no harm
	acquire(true, true, false)
}

// TestBounded checks the table never outgrows its size, forgets keys that
// carry nothing, and keeps bans while strangers churn through it.
func TestBounded(t *testing.T) {
	const size = 64
	tb := New[int](Policy{Rate: 1, Burst: 2, Failures: 1, BanMin: time.Hour}, size)
	tb.Fail(-1, t0)
	if banned, _, _ := tb.Fail(-1, t0); !banned {
		t.Fatal("not banned")
	}
	for i := range 100_000 {
		tb.Allow(i, t0.Add(time.Duration(i)*time.Millisecond))
		if n := tb.Len(); n > size {
			t.Fatalf("%d keys in a table of %d", n, size)
		}
	}
	if b, _ := tb.Banned(-1, t0.Add(100*time.Second)); !b {
		t.Error("a ban was evicted by keys that carried nothing")
	}
	// Keys whose bucket has refilled are forgotten as new ones come.
	tb2 := New[int](Policy{Rate: 1000, Burst: 1}, size)
	for i := range 1000 {
		tb2.Allow(i, t0.Add(time.Duration(i)*time.Second))
	}
	if n := tb2.Len(); n > 3 {
		t.Errorf("%d refilled keys kept", n)
	}
}

// TestChurnAllocatesNothing: a flood of invented keys reuses evicted
// entries instead of allocating.
func TestChurnAllocatesNothing(t *testing.T) {
	tb := New[netip.Addr](Policy{Rate: 1, Burst: 1}, 256)
	for i := range 1024 {
		tb.Allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), t0)
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		tb.Allow(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), t0)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per new key", allocs)
	}
}

func BenchmarkAllow(b *testing.B) {
	tb := New[netip.Addr](Policy{Rate: 20, Burst: 40}, 4096)
	a := netip.MustParseAddr("192.0.2.7")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		tb.Allow(a, now)
	}
}

func BenchmarkAllowManyKeys(b *testing.B) {
	tb := New[netip.Addr](Policy{Rate: 20, Burst: 40}, 4096)
	now := time.Now()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		tb.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now)
	}
}
