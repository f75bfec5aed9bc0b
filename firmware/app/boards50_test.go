package app

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Fifty supervisor boards open on the running box at once, each as
// board.js works: one event stream, and a read of the live figures after
// each event it gets. The supervisor changes an agent's state twenty
// times; every board gets every change. The test logs the CPU time and
// memory of the process (the daemon with the fifty clients, so an upper
// bound for the daemon) and the slowest board's delay for the last event.
func TestFiftyBoards(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs the daemon with sockets")
	}
	a, out := bootCCOut(t, 27780, ccTestPBX(), ccTestConfig(t))
	admin := adminClient(t, a, out)
	admin.call("POST", "/api/v1/users", map[string]any{"login": "sup", "role": "supervisor", "password": "Kettle-Drum-43"}, http.StatusCreated)
	sup := loginAs(t, admin.base, "sup", "Kettle-Drum-43")
	sup.call("POST", "/api/v1/cc/agents/1088/login", map[string]any{"device": "202"}, http.StatusNoContent)

	const boards, changes = 50, 20
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var open, reads atomic.Int64
	seen := make([]atomic.Int64, boards) // agent.state events each board got
	lastAt := make([]atomic.Int64, boards)
	for i := range boards {
		c := loginAs(t, admin.base, "sup", "Kettle-Drum-43")
		stream := &http.Client{Jar: c.c.Jar} // no timeout: the stream lives on
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, admin.base+"/api/v1/events", nil)
		resp, err := stream.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("board %d's stream: %v %v", i, err, resp)
		}
		open.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if sc.Text() != "event: agent.state" {
					continue
				}
				seen[i].Add(1)
				lastAt[i].Store(time.Now().UnixNano())
				if r, err := c.c.Get(admin.base + "/api/v1/cc/figures"); err == nil {
					r.Body.Close()
					reads.Add(1)
				}
			}
		}()
	}
	_, bus := a.CallCentre()
	eventually(t, 5*time.Second, "the boards' streams subscribed", func() bool { return bus.Subscribers() >= boards })
	// The login's own state change may still be on its way.
	time.Sleep(200 * time.Millisecond)
	base := make([]int64, boards)
	for i := range seen {
		base[i] = seen[i].Load()
	}
	cpu0, rss0 := cpuTime(), rssKB()
	start := time.Now()
	var sent time.Time
	for n := range changes {
		state := "busy"
		if n%2 == 1 {
			state = "ready"
		}
		sent = time.Now()
		sup.call("POST", "/api/v1/cc/agents/1088/state", map[string]any{"state": state}, http.StatusNoContent)
	}
	eventually(t, 30*time.Second, "every board with every change", func() bool {
		for i := range seen {
			if seen[i].Load()-base[i] < changes {
				return false
			}
		}
		return true
	})
	var slowest time.Duration
	for i := range lastAt {
		slowest = max(slowest, time.Duration(lastAt[i].Load()-sent.UnixNano()))
	}
	took := time.Since(start)
	t.Logf("%d boards, %d changes: all delivered in %v (last change to the slowest board %v); %d figure reads; "+
		"process CPU %v, RSS %d -> %d KiB", open.Load(), changes, took.Round(time.Millisecond), slowest.Round(time.Millisecond),
		reads.Load(), (cpuTime() - cpu0).Round(time.Millisecond), rss0, rssKB())
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssKB is the process's resident memory in KiB (0 where /proc has none).
func rssKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var n int64
			for _, r := range strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")) {
				n = n*10 + int64(r-'0')
			}
			return n
		}
	}
	return 0
}
