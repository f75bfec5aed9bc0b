package vclock

import (
	"testing"
	"time"
)

func TestVirtual(t *testing.T) {
	v := NewVirtual()
	t0 := v.Now()
	v.Sleep(500 * time.Millisecond)
	v.Advance(-time.Second)
	v.Advance(2 * time.Second)
	if got := v.Now().Sub(t0); got != 2500*time.Millisecond {
		t.Fatalf("advanced %v, want 2.5s", got)
	}
}

var _ Clock = Real{}
var _ Clock = (*Virtual)(nil)
