package line_test

import (
	"testing"

	"callbox/telephony/line"
)

// A pipe delivers each direction's frame whole and in order, one tick late.
func TestPipe(t *testing.T) {
	var p line.Pipe
	var up, down line.Frame
	got := make([]int16, line.FrameSamples)
	for k := int16(1); k <= 3; k++ {
		for i := range up {
			up[i] = k*100 + int16(i)
		}
		p.Exchange(&up, &down)
		if k > 1 && down[0] != -(k-1) || k == 1 && down[0] != 0 {
			t.Fatalf("tick %d: line got %d", k, down[0])
		}
		p.ReadFrame(got)
		if got[0] != k*100 || got[79] != k*100+79 {
			t.Fatalf("tick %d: engine read %d..%d", k, got[0], got[79])
		}
		for i := range got {
			got[i] = -k
		}
		p.WriteFrame(got)
	}
	short := []int16{7}
	p.WriteFrame(short)
	p.Exchange(&up, &down)
	if down[0] != 7 || down[1] != 0 {
		t.Fatalf("short frame: %v", down[:2])
	}
	var v line.Voice = &p
	_ = v
}
