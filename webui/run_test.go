package webui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/webui/passwd"
)

// startServer runs e.s on 127.0.0.1:0 and returns its base URL; the server
// stops when the test ends.
func startServer(t *testing.T, e *env) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.s.Run(ctx) }()
	select {
	case <-e.s.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("server did not start listening")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v after cancel", err)
		}
	})
	return "http://" + e.s.Addr()
}

func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	e := newEnv(t, Config{Addr: "127.0.0.1:0"})
	if e.s.Addr() != "" {
		t.Fatalf("Addr before Run = %q", e.s.Addr())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.s.Run(ctx) }()
	<-e.s.Ready()
	addr := e.s.Addr()
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("Addr = %q", addr)
	}
	resp, err := http.Get("http://" + addr + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
		t.Fatalf("health over TCP = %d %s", resp.StatusCode, body)
	}

	// A second server on the same address fails at once.
	e2 := newEnv(t, Config{Addr: addr})
	start := time.Now()
	err = e2.s.Run(context.Background())
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("Run on a used address = %v after %v", err, time.Since(start))
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Errorf("listen error %v does not wrap the *net.OpError", err)
	}

	// A request in flight that never finishes cannot hold shutdown past 1 s.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	start = time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel = %v", err)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Fatalf("shutdown took %v", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := http.Get("http://" + addr + "/api/v1/health"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

// TestServersBuiltTogether: servers built at the same time (parallel
// tests, the daemon's in-process restart) share no unguarded state; under
// -race it failed while every New set gin's mode (gin.SetMode writes plain
// package variables).
func TestServersBuiltTogether(t *testing.T) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := New(Config{Users: newMemUsers(), System: fakeSystem{}, Logger: slog.New(slog.DiscardHandler)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// TestSlowLoginStillAnswered: a login whose password check outlasts the
// server's write timeout (argon2id in emulation on a busy host) still gets
// its answer. Before patientWrite the session was made but the answer
// dropped, so the client tried again and hashed again.
func TestSlowLoginStillAnswered(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	e := newEnv(t, Config{Addr: "127.0.0.1:0"})
	// Checking this hash takes milliseconds on any machine, always longer
	// than the write timeout below.
	h, err := passwd.HashParams("slow-password", 4096, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := e.users.Create(context.Background(), User{Login: "slow", Role: RoleAdmin, PasswordHash: h, Created: now, Updated: now}); err != nil {
		t.Fatal(err)
	}
	e.s.writeTimeout = time.Millisecond
	url := startServer(t, e)

	// The session's cookie and CSRF token come in process, so only the
	// login meets the short timeout.
	c := e.client(t)
	c.session()
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/login", strings.NewReader(`{"login":"slow","password":"slow-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
	for _, ck := range c.jar.Cookies(base) {
		req.AddCookie(ck)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("login with a slow hash: %v (the answer was dropped)", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"csrf_token"`) {
		t.Fatalf("login with a slow hash = %d %s", resp.StatusCode, body)
	}
}
