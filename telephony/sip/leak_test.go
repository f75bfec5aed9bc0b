package sip

import (
	"runtime"
	"testing"
	"time"
)

// TestCloseLeavesNoGoroutines runs calls and registrations through a box,
// closes it, and checks the goroutines it started are gone.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	needSipp(t)
	before := runtime.NumGoroutine()
	box := startBox(t, Config{AuthenticateCalls: true, KeepaliveInterval: 50 * time.Millisecond, DigestAlgorithms: md5Only.DigestAlgorithms},
		directory{"201": "pw201"}, switchFor)
	for _, sc := range []string{"register.xml", "uac_call.xml", "cancel.xml", "hold.xml"} {
		if out, err := sipp(t, sc, box.UDPAddr(), "-s", "201", "-au", "201", "-ap", "pw201"); err != nil && sc != "cancel.xml" {
			t.Fatalf("%s: %v\n%s", sc, err, out)
		}
	}
	box.Close()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
