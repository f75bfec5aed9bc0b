package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/firmware/cli"
)

// fakeHost records what the shell asked of it.
type fakeHost struct {
	mu       sync.Mutex
	logsN    []int
	resets   int
	restarts int
	netErr   error
}

func (h *fakeHost) Status() []string { return []string{"uptime: 1h0m0s", "board: sim (4 FXS, 2 FXO)"} }
func (h *fakeHost) Version() string  { return "callboxd 1.2.3 (commit abc)" }
func (h *fakeHost) Logs(n int) []string {
	h.mu.Lock()
	h.logsN = append(h.logsN, n)
	h.mu.Unlock()
	var out []string
	for i := range min(n, 3) {
		out = append(out, fmt.Sprintf("log line %d", i))
	}
	return out
}
func (h *fakeHost) Network() ([]string, error) {
	return []string{"eth0       up   192.168.1.20/24"}, h.netErr
}
func (h *fakeHost) ResetAdmin() (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.resets++
	return "K7Q2-9XPM", nil
}
func (h *fakeHost) Restart() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.restarts++
	return nil
}

// term drives a shell through in-memory pipes, as a person at a serial
// terminal would.
type term struct {
	t    *testing.T
	keys *io.PipeWriter
	mu   sync.Mutex
	out  bytes.Buffer
	mark int // expect searches output after this offset
	done chan error
}

func startShell(t *testing.T, cfg Config, host Host) *term {
	t.Helper()
	c, err := newConsole(cfg, host, nil)
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	tm := &term{t: t, keys: inW, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		tm.done <- c.Serve(ctx, struct {
			io.Reader
			io.Writer
		}{inR, outW})
		outW.Close()
	}()
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 256)
		for {
			n, err := outR.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		inW.Close()
		if err := <-tm.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		<-copied
	})
	return tm
}

func (tm *term) send(s string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.keys, s); err != nil {
		tm.t.Fatal(err)
	}
}

// expect waits for want to appear after the mark, returns the output up to
// its end and moves the mark there.
func (tm *term) expect(want string) string {
	tm.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		tm.mu.Lock()
		all := tm.out.String()
		tm.mu.Unlock()
		if i := strings.Index(all[tm.mark:], want); i >= 0 {
			got := all[tm.mark : tm.mark+i+len(want)]
			tm.mark += i + len(want)
			return got
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("output lacks %q; after the mark it is %q", want, all[tm.mark:])
		}
		time.Sleep(time.Millisecond)
	}
}

func (tm *term) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

var echoCmd = cli.Command{Name: "echo", Summary: "print the arguments", Run: func(_ context.Context, args []string, std cli.IO) int {
	fmt.Fprintln(std.Out, strings.Join(args, "|"))
	if len(args) > 0 && args[0] == "fail" {
		fmt.Fprintln(std.Err, "it failed")
		return 3
	}
	return 0
}}

func TestShellCommands(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keys  string
		wants []string // in order
	}{
		{"help", "help\r", []string{"status", "logs [N]", "restart|reboot", "echo", Prompt}},
		{"version", "version\r", []string{"callboxd 1.2.3 (commit abc)\r\n", Prompt}},
		{"status", "status\r", []string{"uptime: 1h0m0s\r\nboard: sim (4 FXS, 2 FXO)\r\n", Prompt}},
		{"logs default", "logs\r", []string{"log line 0\r\nlog line 1\r\nlog line 2\r\n"}},
		{"logs N over CR LF", "logs 2\r\nversion\r\n", []string{"log line 1\r\n" + Prompt, "callboxd 1.2.3"}},
		{"logs bad N", "logs many\r", []string{`logs: the line count must be a number from 1 to 10000, not "many"`}},
		{"logs zero", "logs 0\r", []string{`line count must be a number`}},
		{"network", "network\r", []string{"eth0       up   192.168.1.20/24\r\n"}},
		{"passwd-reset", "passwd-reset\r", []string{"one-time setup code: K7Q2-9XPM\r\n"}},
		{"reboot alias", "reboot\r", []string{"restarting...\r\n"}},
		{"unknown", "frobnicate now\r", []string{`unknown command "frobnicate"; type help for the list`}},
		{"extra with quotes", "echo a 'b c' \"d\"\r", []string{"a|b c|d\r\n"}},
		{"extra failing", "echo fail\r", []string{"fail\r\nit failed\r\necho: exit status 3\r\n"}},
		{"unterminated quote", "echo 'a\r", []string{"error: unterminated ' quote"}},
		{"takes no arguments", "version 2\r", []string{"version: takes no arguments"}},
		{"LF only", "version\n", []string{"callboxd 1.2.3"}},
		{"backspace and DEL", "verxy\x08\x7fsion\r", []string{"verxy\b \b\b \bsion\r\n", "callboxd 1.2.3"}},
		{"backspace on empty line", "\x7f\x7fversion\r", []string{"callboxd 1.2.3"}},
		{"UTF-8 rune erased whole", "版\x7fversion\r", []string{"callboxd 1.2.3"}},
		{"ctrl-U", "status\x15version\r", []string{"callboxd 1.2.3"}},
		{"ctrl-W", "logs 5 stat\x17\x17\x17version\r", []string{"callboxd 1.2.3"}},
		{"ctrl-C drops the line", "status\x03version\r", []string{"status^C\r\n" + Prompt, "callboxd 1.2.3"}},
		{"arrow keys ignored", "\x1b[A\x1b[1;5Dver\x1bOBsion\r", []string{"callboxd 1.2.3"}},
		{"tab ignored", "ver\tsion\r", []string{"callboxd 1.2.3"}},
		{"empty line", "\r\r", []string{Prompt + "\r\n" + Prompt}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := &fakeHost{}
			tm := startShell(t, Config{Extra: []cli.Command{echoCmd}}, host)
			tm.expect(Prompt)
			tm.send(tc.keys)
			for _, w := range tc.wants {
				tm.expect(w)
			}
			if out := tm.output(); strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") {
				t.Errorf("bare LF in output %q", out)
			}
		})
	}
}

func TestShellHostCalls(t *testing.T) {
	host := &fakeHost{netErr: errors.New("no interfaces")}
	tm := startShell(t, Config{}, host)
	tm.send("logs 7\rrestart\rpasswd-reset\rnetwork\rstatus\x03\r")
	tm.expect("restarting")
	tm.expect("K7Q2-9XPM")
	tm.expect("network: no interfaces")
	tm.expect("^C")
	tm.send("version\r")
	tm.expect("callboxd")
	host.mu.Lock()
	defer host.mu.Unlock()
	if len(host.logsN) != 1 || host.logsN[0] != 7 || host.restarts != 1 || host.resets != 1 {
		t.Errorf("host saw logs %v, %d restarts, %d resets", host.logsN, host.restarts, host.resets)
	}
}

func TestShellPassword(t *testing.T) {
	const delay = 40 * time.Millisecond
	var mu sync.Mutex
	var tried []string
	cfg := Config{RequirePassword: true, FailDelay: delay, CheckPassword: func(pw string) bool {
		mu.Lock()
		defer mu.Unlock()
		tried = append(tried, pw)
		return pw == "s3cret"
	}}
	tm := startShell(t, cfg, &fakeHost{})
	tm.expect("Password: ")
	// A command before login is only a wrong password.
	start := time.Now()
	tm.send("version\r")
	tm.expect("Login incorrect")
	if d := time.Since(start); d < delay {
		t.Errorf("first failure answered after %v, want at least %v", d, delay)
	}
	start = time.Now()
	tm.send("guess2\r")
	tm.expect("Login incorrect")
	if d := time.Since(start); d < 2*delay {
		t.Errorf("second failure answered after %v, want at least %v", d, 2*delay)
	}
	tm.expect("Password: ")
	tm.send("\r") // waking the console is not an attempt
	tm.expect("Password: ")
	tm.send("s3cr\x7fret\r")
	got := tm.expect(Prompt)
	tm.send("version\r")
	tm.expect("callboxd 1.2.3")
	if out := tm.output(); strings.Contains(out, "guess") || strings.Contains(out, "s3c") || strings.Contains(got, "*") {
		t.Errorf("password echoed: %q", out)
	}
	mu.Lock()
	if want := []string{"version", "guess2", "s3cret"}; strings.Join(tried, ",") != strings.Join(want, ",") {
		t.Errorf("passwords checked %q, want %q", tried, want)
	}
	mu.Unlock()
	// logout and ^D both end the session.
	tm.send("logout\r")
	tm.expect("logged out\r\nPassword: ")
	tm.send("s3cret\r")
	tm.expect(Prompt)
	tm.send("\x04")
	tm.expect("logged out\r\nPassword: ")
	tm.send("status\r")
	tm.expect("Login incorrect")
	if strings.Contains(tm.output(), "uptime") {
		t.Error("status ran after logout")
	}
}

func TestShellEndsOnEOFAndContext(t *testing.T) {
	c, err := newConsole(Config{}, &fakeHost{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rw := struct {
		io.Reader
		io.Writer
	}{strings.NewReader("version\r"), &out}
	if err := c.Serve(context.Background(), rw); err != nil {
		t.Errorf("Serve at EOF = %v, want nil", err)
	}
	if !strings.Contains(out.String(), "callboxd 1.2.3") {
		t.Errorf("output %q", out.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Serve(ctx, rw); err != nil {
		t.Errorf("Serve with a done context = %v, want nil", err)
	}
}

func TestNewValidates(t *testing.T) {
	clash := cli.Command{Name: "status", Run: echoCmd.Run}
	for _, tc := range []struct {
		name string
		cfg  Config
		host Host
	}{
		{"nil host", Config{Device: "pty"}, nil},
		{"password without check", Config{Device: "pty", RequirePassword: true}, &fakeHost{}},
		{"extra clashes", Config{Device: "pty", Extra: []cli.Command{clash}}, &fakeHost{}},
		{"extra clashes with alias", Config{Device: "pty", Extra: []cli.Command{{Name: "reboot", Run: echoCmd.Run}}}, &fakeHost{}},
		{"extra without Run", Config{Device: "pty", Extra: []cli.Command{{Name: "x"}}}, &fakeHost{}},
		{"no device", Config{}, &fakeHost{}},
		{"missing UART", Config{Device: "/dev/does-not-exist"}, &fakeHost{}},
	} {
		if c, err := New(tc.cfg, tc.host, slog.New(slog.DiscardHandler)); err == nil {
			c.Close()
			t.Errorf("%s: New succeeded", tc.name)
		} else if !strings.HasPrefix(err.Error(), "console: ") {
			t.Errorf("%s: error %q lacks the package prefix", tc.name, err)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"   ", nil, false},
		{"a", []string{"a"}, false},
		{" a  b\tc ", []string{"a", "b", "c"}, false},
		{`a "b c" 'd e'`, []string{"a", "b c", "d e"}, false},
		{`x"y z"w`, []string{"xy zw"}, false},
		{`""`, []string{""}, false},
		{`'it"s'`, []string{`it"s`}, false},
		{`"open`, nil, true},
		{`tone 450 "中文 名"`, []string{"tone", "450", "中文 名"}, false},
	} {
		got, err := splitArgs(tc.in)
		if (err != nil) != tc.err || strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") || len(got) != len(tc.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestIdleLogout(t *testing.T) {
	// Typing comes every idle/4: the session survives a scheduling delay of
	// three quarters of idle on a loaded machine (the UART notices a
	// deadline only once a poll interval ends).
	const idle = 400 * time.Millisecond
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (shell io.ReadWriteCloser, peer io.ReadWriteCloser)
	}{
		{"net.Pipe", func(t *testing.T) (io.ReadWriteCloser, io.ReadWriteCloser) {
			a, b := net.Pipe()
			return a, b
		}},
		{"UART on a pty", func(t *testing.T) (io.ReadWriteCloser, io.ReadWriteCloser) {
			if testing.Short() {
				t.Skip("opens a pseudo-terminal")
			}
			line, err := openPTY()
			if err != nil {
				t.Fatal(err)
			}
			u, err := openUART(line.name, 115200)
			if err != nil {
				line.Close()
				t.Fatal(err)
			}
			return u, line
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shellEnd, peer := tc.open(t)
			c, err := newConsole(Config{RequirePassword: true, IdleLogout: idle, CheckPassword: func(pw string) bool { return pw == "pw" }}, &fakeHost{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- c.Serve(context.Background(), shellEnd) }()
			var mu sync.Mutex
			var out bytes.Buffer
			go func() {
				buf := make([]byte, 256)
				for {
					n, err := peer.Read(buf)
					mu.Lock()
					out.Write(buf[:n])
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
			waitFor := func(want string, count int) time.Time {
				t.Helper()
				deadline := time.Now().Add(5 * time.Second)
				for {
					mu.Lock()
					n := strings.Count(out.String(), want)
					mu.Unlock()
					if n >= count {
						return time.Now()
					}
					if time.Now().After(deadline) {
						t.Fatalf("waiting for %d×%q in %q", count, want, out.String())
					}
					time.Sleep(time.Millisecond)
				}
			}
			waitFor("Password: ", 1)
			io.WriteString(peer, "pw\r")
			loggedIn := waitFor(Prompt, 1)
			// Typing keeps the session alive...
			for range 3 {
				time.Sleep(idle / 4)
				io.WriteString(peer, "version\r")
			}
			waitFor("callboxd 1.2.3", 3)
			// ...silence ends it, and the password is asked again.
			out2 := waitFor("idle for "+idle.String()+"; logged out\r\nPassword: ", 1)
			if d := out2.Sub(loggedIn); d < idle*3/2 {
				t.Errorf("logged out %v after login despite typing", d)
			}
			// Waiting at the password prompt does not time out.
			time.Sleep(2 * idle)
			io.WriteString(peer, "pw\r")
			waitFor(Prompt, 5)
			shellEnd.Close()
			peer.Close()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, io.ErrClosedPipe) && !errors.Is(err, os.ErrClosed) {
					t.Errorf("Serve = %v", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Serve did not end after close")
			}
		})
	}
}
