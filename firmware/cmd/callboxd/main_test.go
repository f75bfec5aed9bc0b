package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDaemonEndToEnd builds callboxd, boots it in simulation as `make run`
// does, and walks the first-boot path: the setup code from its output
// creates the admin, login and logout work, a wrong CSRF token is refused,
// an agent gets 403 on the users API, and SIGTERM stops it within 2 s.
func TestDaemonEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("callboxd: builds and runs the daemon")
	}
	bin := filepath.Join(t.TempDir(), "callboxd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ver, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.HasPrefix(string(ver), "callboxd ") {
		t.Fatalf("--version: %q, %v", ver, err)
	}

	addr, httpsAddr, data := freeAddr(t), freeAddr(t), t.TempDir()
	cmd := exec.Command(bin, "--board", "sim", "--data", data, "--http", addr, "--https", httpsAddr, "--console", "pty")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	// The terminal shows the URL, the console pty and the setup code.
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	codeRE := regexp.MustCompile(`setup code ([0-9][0-9 -]*[0-9])`)
	certRE := regexp.MustCompile(`web admin on https://(\S+)/ \(certificate SHA-256 ([0-9A-F:]{95})\)`)
	var code, output, fingerprint string
	sawPTY := false
	deadline := time.After(10 * time.Second)
	for code == "" || !sawPTY || fingerprint == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("callboxd exited during boot:\n%s\n%s", output, stderr.String())
			}
			output += l + "\n"
			// The console's steady name is a link in the data directory.
			sawPTY = sawPTY || strings.Contains(l, "serial console on "+filepath.Join(data, "console")+" (/dev/pts/")
			if m := codeRE.FindStringSubmatch(l); m != nil {
				code = m[1]
			}
			if m := certRE.FindStringSubmatch(l); m != nil && m[1] == httpsAddr {
				fingerprint = m[2]
			}
		case <-deadline:
			t.Fatalf("no setup code and console within 10 s:\n%s\n%s", output, stderr.String())
		}
	}
	if !strings.Contains(output, "http://"+addr+"/") {
		t.Fatalf("output does not show the web URL:\n%s", output)
	}
	// The fingerprint shown is the certificate a TLS client gets.
	conn, err := tls.Dial("tcp", httpsAddr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS to %s: %v", httpsAddr, err)
	}
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
	conn.Close()
	if got := strings.ToUpper(hex.EncodeToString(sum[:])); strings.ReplaceAll(fingerprint, ":", "") != got {
		t.Fatalf("printed fingerprint %s, served certificate %s", fingerprint, got)
	}

	base := "http://" + addr
	admin := newClient(t, base)
	admin.do("POST", "/api/v1/setup", map[string]any{"code": "00000000", "login": "boss", "password": "correct horse battery"}, http.StatusForbidden)
	admin.do("POST", "/api/v1/setup", map[string]any{"code": code, "login": "boss", "display_name": "Boss", "password": "correct horse battery"}, http.StatusOK)
	admin.do("POST", "/api/v1/login", map[string]any{"login": "boss", "password": "correct horse battery"}, http.StatusOK)
	admin.do("GET", "/api/v1/system", nil, http.StatusOK)
	admin.do("POST", "/api/v1/users", map[string]any{"login": "li.na", "display_name": "Li Na", "role": "agent", "password": "agent password 1"}, http.StatusCreated)
	admin.do("POST", "/api/v1/users", map[string]any{"login": "BAD LOGIN", "role": "agent", "password": "agent password 1"}, http.StatusBadRequest)

	// A wrong CSRF token is refused and changes nothing.
	good := admin.csrf
	admin.csrf = "not-the-token"
	admin.do("DELETE", "/api/v1/users/li.na", nil, http.StatusForbidden)
	admin.csrf = good
	admin.do("GET", "/api/v1/users/li.na", nil, http.StatusOK)

	agent := newClient(t, base)
	agent.do("POST", "/api/v1/login", map[string]any{"login": "li.na", "password": "agent password 1"}, http.StatusOK)
	agent.do("GET", "/api/v1/users", nil, http.StatusForbidden)
	agent.do("POST", "/api/v1/logout", nil, http.StatusOK)
	agent.do("GET", "/api/v1/system", nil, http.StatusUnauthorized)

	t0 := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("callboxd exited with %v:\n%s", err, stderr.String())
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("callboxd did not stop within 2 s of SIGTERM")
	}
	t.Logf("stopped %v after SIGTERM", time.Since(t0).Round(time.Millisecond))
	if !strings.Contains(stderr.String(), "callbox stopped") {
		t.Fatalf("no clean stop in the log:\n%s", stderr.String())
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type client struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 5 * time.Second}}
	c.refreshCSRF()
	return c
}

func (c *client) refreshCSRF() {
	var s struct {
		CSRFToken string `json:"csrf_token"`
	}
	body := c.do("GET", "/api/v1/session", nil, -1)
	if err := json.Unmarshal(body, &s); err != nil || s.CSRFToken == "" {
		c.t.Fatalf("session: %q %v", body, err)
	}
	c.csrf = s.CSRFToken
}

// do sends a request with the CSRF token and checks the status (-1: any).
func (c *client) do(method, path string, body any, want int) []byte {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if want >= 0 && resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, out, want)
	}
	if path == "/api/v1/login" && resp.StatusCode == http.StatusOK {
		c.refreshCSRF() // a new session has a new token
	}
	return out
}
