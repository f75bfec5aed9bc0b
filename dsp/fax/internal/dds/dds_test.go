package dds

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSinAndCosSin(t *testing.T) {
	for i := range 10000 {
		p := uint32(i) * 429497 * 7
		want := math.Sin(2 * math.Pi * float64(p) / (1 << 32))
		if d := math.Abs(float64(Sin(p))/32767 - want); d > 1e-4 {
			t.Fatalf("Sin(%d) off by %g", p, d)
		}
		c, s := CosSin(p)
		a := 2 * math.Pi * float64(p) / (1 << 32)
		if math.Abs(float64(c)/32767-math.Cos(a)) > 2e-3 || math.Abs(float64(s)/32767-math.Sin(a)) > 2e-3 {
			t.Fatalf("CosSin(%d) = %d, %d", p, c, s)
		}
	}
}

func TestAtan2(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		x, y := int32(rng.IntN(65536)-32768), int32(rng.IntN(65536)-32768)
		if x == 0 && y == 0 {
			continue
		}
		want := math.Atan2(float64(y), float64(x)) / (2 * math.Pi) * (1 << 32)
		got := float64(int32(Atan2(y, x)))
		d := math.Abs(got - want)
		if d > 1<<31 {
			d = 1<<32 - d
		}
		if d > 1<<32/360/500 {
			t.Fatalf("Atan2(%d, %d) = %v, want %v", y, x, got, want)
		}
	}
}

func TestIsqrt(t *testing.T) {
	for _, v := range []int64{0, 1, 2, 3, 4, 15, 16, 17, 1 << 40, 1<<62 + 12345, math.MaxInt64} {
		r := Isqrt(v)
		if r*r > v || (r+1)*(r+1) <= v && r+1 < 3037000499 {
			t.Errorf("Isqrt(%d) = %d", v, r)
		}
	}
}

func TestRate(t *testing.T) {
	if h := Hz(Rate(1700)); math.Abs(h-1700) > 1e-5 {
		t.Errorf("Hz(Rate(1700)) = %v", h)
	}
}
