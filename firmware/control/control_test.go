package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"callbox/firmware/cli"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		line string
		want []string
		err  string
	}{
		{`{"args":["board","diag","fxs1"]}` + "\n", []string{"board", "diag", "fxs1"}, ""},
		{`{"args":[]}`, nil, "no command"},
		{`{"args":["a",""]}`, nil, "argument 2 is empty"},
		{`{"args":["a\u0007"]}`, nil, "control characters"},
		{`{"argz":["a"]}`, nil, "unknown field"},
		{`{"args":["a"]}{}`, nil, "data after"},
		{`nope`, nil, "control: request"},
		{`{"args":[` + strings.Repeat(`"x",`, MaxArgs) + `"x"]}`, nil, "more than 64"},
	}
	for _, tt := range tests {
		got, err := ParseRequest([]byte(tt.line))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%.40q: error %v, want %q", tt.line, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: %q %v", tt.line, got, err)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"args":["board","probe"]}`))
	f.Add([]byte(`{"args":["board","ring","fxs1","--cycles","2"]}`))
	f.Add([]byte(`{"args":["\u00e9"]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		args, err := ParseRequest(line)
		if err != nil {
			return
		}
		if len(args) == 0 || len(args) > MaxArgs {
			t.Fatalf("accepted %d args", len(args))
		}
		// What is accepted survives the client's encoding unchanged.
		b, _ := json.Marshal(request{Args: args})
		again, err := ParseRequest(b)
		if err != nil || !reflect.DeepEqual(again, args) {
			t.Fatalf("round trip of %q: %q %v", args, again, err)
		}
	})
}

// testCommands are what the tests serve: output in pieces, an exit status,
// and a command that waits for its context.
func testCommands(cancelled chan<- error) []cli.Command {
	return []cli.Command{
		{Name: "echo", Run: func(ctx context.Context, args []string, std cli.IO) int {
			for _, a := range args {
				fmt.Fprintln(std.Out, a)
			}
			fmt.Fprintln(std.Err, "done")
			return len(args)
		}},
		{Name: "wait", Run: func(ctx context.Context, args []string, std cli.IO) int {
			fmt.Fprintln(std.Out, "waiting")
			select {
			case <-ctx.Done():
				cancelled <- ctx.Err()
			case <-time.After(5 * time.Second):
				cancelled <- errors.New("not cancelled")
			}
			return 1
		}},
	}
}

func startServer(t *testing.T, cancelled chan<- error) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("opens a unix socket")
	}
	s, err := Listen(Path(t.TempDir()), testCommands(cancelled), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket left behind: %v", err)
		}
	})
	return s
}

func TestRoundTrip(t *testing.T) {
	s := startServer(t, nil)
	fi, err := os.Stat(s.Path())
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket %v %v", fi.Mode(), err)
	}
	var out, errb bytes.Buffer
	code, err := Run(context.Background(), s.Path(), []string{"echo", "a", "b c"}, cli.IO{Out: &out, Err: &errb})
	if err != nil || code != 2 || out.String() != "a\nb c\n" || errb.String() != "done\n" {
		t.Fatalf("code %d err %v out %q stderr %q", code, err, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	code, err = Run(context.Background(), s.Path(), []string{"nosuch"}, cli.IO{Out: &out, Err: &errb})
	if err != nil || code != 2 || !strings.Contains(errb.String(), `unknown command "nosuch"`) {
		t.Fatalf("unknown command: %d %v %q", code, err, errb.String())
	}
	// A second daemon on the same data directory is refused.
	if _, err := Listen(s.Path(), nil, nil); err == nil || !strings.Contains(err.Error(), "another daemon") {
		t.Fatalf("second listener: %v", err)
	}
}

func TestBadRequest(t *testing.T) {
	s := startServer(t, nil)
	c, err := net.Dial("unix", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(c, `{"args":"board"}`)
	var frames []frame
	dec := json.NewDecoder(c)
	for {
		var f frame
		if err := dec.Decode(&f); err != nil {
			break
		}
		frames = append(frames, f)
	}
	if len(frames) != 2 || !strings.Contains(frames[0].Err, "control: request") || frames[1].Exit == nil || *frames[1].Exit != 2 {
		t.Fatalf("frames %+v", frames)
	}
}

func TestHangUpCancels(t *testing.T) {
	cancelled := make(chan error, 1)
	s := startServer(t, cancelled)
	ctx, cancel := context.WithCancel(context.Background())
	out := &notifyWriter{first: make(chan struct{})}
	res := make(chan error, 1)
	go func() {
		_, err := Run(ctx, s.Path(), []string{"wait"}, cli.IO{Out: out, Err: out})
		res <- err
	}()
	<-out.first
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel: %v", err)
	}
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("command saw %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the command was not cancelled by the hang-up")
	}
}

func TestNoDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a unix socket")
	}
	dir := t.TempDir()
	_, err := Run(context.Background(), Path(dir), []string{"x"}, cli.IO{})
	if !errors.Is(err, ErrNoDaemon) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("no socket: %v", err)
	}
	// A stale socket (a daemon killed with -9) refuses connections, and
	// the next daemon takes it over.
	stale := Path(dir)
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := Run(context.Background(), stale, []string{"x"}, cli.IO{}); !errors.Is(err, ErrNoDaemon) {
		t.Fatalf("stale socket: %v", err)
	}
	s, err := Listen(stale, nil, nil)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	s.Close(context.Background())
	if _, err := os.Stat(filepath.Join(dir, SocketName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left: %v", err)
	}
}

// notifyWriter signals its first write.
type notifyWriter struct {
	first chan struct{}
	n     int
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		close(w.first)
	}
	w.n++
	return len(p), nil
}
