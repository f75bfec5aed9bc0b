// Package control is the daemon's local control socket: a unix socket in the
// data directory (mode 0600, so only the daemon's user reaches it) through
// which callboxctl runs maintenance commands inside the running daemon,
// against its live board, exactly as the serial console runs them.
//
// The protocol is JSON lines. The client sends one request,
//
//	{"args":["board","diag","fxs1"]}
//
// and the server answers with any number of output frames as the command
// writes them, then the exit status:
//
//	{"out":"fxs1 (fxs, si3215): ok, on-hook, forward active\n"}
//	{"err":"..."}
//	{"exit":0}
//
// Closing the connection early cancels the command's context (a ring test
// stops ringing).
package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"callbox/firmware/cli"
)

// SocketName is the socket's file name in the data directory.
const SocketName = "control.sock"

// Limits of a request: what a command line can reasonably be.
const (
	MaxRequest = 16 << 10
	MaxArgs    = 64
)

// ErrNoDaemon means nothing listens on the socket: the daemon is not
// running (or runs with another data directory).
var ErrNoDaemon = errors.New("control: no daemon answers")

// Path returns the socket path for a data directory.
func Path(dataDir string) string { return filepath.Join(dataDir, SocketName) }

// Target is where callboxctl finds the daemon, from the flags its
// forwarding commands share: --data DIR (default ./var, as make run uses)
// and --socket PATH.
type Target struct {
	DataDir string
	Socket  string
}

// AddFlags registers --data and --socket on fs.
func (t *Target) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&t.DataDir, "data", "./var", "the daemon's data directory (its control socket is there)")
	fs.StringVar(&t.Socket, "socket", "", "the daemon's control socket (overrides --data)")
}

// Path returns the socket the flags name.
func (t Target) Path() string {
	if t.Socket != "" {
		return t.Socket
	}
	return Path(t.DataDir)
}

// request is what the client sends.
type request struct {
	Args []string `json:"args"`
}

// frame is one piece of the reply.
type frame struct {
	Out  string `json:"out,omitempty"`
	Err  string `json:"err,omitempty"`
	Exit *int   `json:"exit,omitempty"`
}

// ParseRequest decodes and checks one request line: a JSON object with
// args, at most MaxArgs of them, none empty or holding control characters.
func ParseRequest(line []byte) ([]string, error) {
	if len(line) > MaxRequest {
		return nil, fmt.Errorf("control: request: longer than %d bytes", MaxRequest)
	}
	var req request
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("control: request: %w", err)
	}
	if dec.More() {
		return nil, errors.New("control: request: data after the request")
	}
	if len(req.Args) == 0 {
		return nil, errors.New("control: request: no command")
	}
	if len(req.Args) > MaxArgs {
		return nil, fmt.Errorf("control: request: %d arguments, more than %d", len(req.Args), MaxArgs)
	}
	for i, a := range req.Args {
		if a == "" {
			return nil, fmt.Errorf("control: request: argument %d is empty", i+1)
		}
		if strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, fmt.Errorf("control: request: argument %d holds control characters", i+1)
		}
	}
	return req.Args, nil
}

// Server serves commands on the control socket.
type Server struct {
	path string
	cmds []cli.Command
	log  *slog.Logger
	ln   *net.UnixListener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
}

// Listen creates the socket at path (mode 0600) and returns a server of
// cmds; Serve runs it. A stale socket left by a crashed daemon is replaced;
// one a live daemon answers on is an error.
func Listen(path string, cmds []cli.Command, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control: %s: another daemon is serving it", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control: %w", err)
	}
	// The umask makes the socket 0600 from birth: no window in which
	// another user could connect. (It is process-wide for an instant; a
	// file created meanwhile only ends up stricter.)
	old := syscall.Umask(0o177)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{path: path, cmds: cmds, log: log, ln: ln, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}, nil
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// Serve accepts connections until Close; each runs one command.
func (s *Server) Serve() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("control: %w", err)
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Close stops accepting, cancels running commands, waits for them (until
// ctx ends), and removes the socket.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	err := s.ln.Close() // unlinks the socket file too
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		<-done
		err = errors.Join(err, fmt.Errorf("control: commands did not stop in time: %w", ctx.Err()))
	}
	if err != nil && errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// frameWriter turns a command's writes into frames, one per Write.
type frameWriter struct {
	mu     *sync.Mutex
	enc    *json.Encoder
	stderr bool
	err    error
}

func (w *frameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	f := frame{Out: string(p)}
	if w.stderr {
		f = frame{Err: string(p)}
	}
	if w.err = w.enc.Encode(f); w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

func (s *Server) handle(c net.Conn) {
	defer c.Close()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	r := bufio.NewReaderSize(c, 4096)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := readLine(r, MaxRequest)
	var mu sync.Mutex
	enc := json.NewEncoder(c)
	exit := func(code int) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(frame{Exit: &code})
	}
	if err != nil {
		_ = enc.Encode(frame{Err: err.Error() + "\n"})
		exit(2)
		return
	}
	args, err := ParseRequest(line)
	if err != nil {
		_ = enc.Encode(frame{Err: err.Error() + "\n"})
		exit(2)
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	// The client sends nothing more; its hang-up cancels the command.
	go func() {
		_, _ = io.Copy(io.Discard, r)
		cancel()
	}()
	s.log.Info("control command", "args", strings.Join(args, " "))
	std := cli.IO{In: strings.NewReader(""),
		Out: &frameWriter{mu: &mu, enc: enc}, Err: &frameWriter{mu: &mu, enc: enc, stderr: true}}
	code := cli.Dispatch(ctx, "callboxd", s.cmds, args, std)
	exit(code)
}

// readLine reads up to a newline, refusing more than limit bytes.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > limit {
			return nil, fmt.Errorf("control: request: longer than %d bytes", limit)
		}
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return line, nil
		default:
			return nil, fmt.Errorf("control: request: %w", err)
		}
	}
}

// Run sends args to the daemon listening on path and copies the reply to
// std as it streams, returning the command's exit status. It returns
// ErrNoDaemon (wrapped, with the path) when nothing listens there.
// Cancelling ctx hangs up, which cancels the command in the daemon.
func Run(ctx context.Context, path string, args []string, std cli.IO) (int, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return 0, fmt.Errorf("%w on %s", ErrNoDaemon, path)
		}
		return 0, fmt.Errorf("control: %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := json.NewEncoder(c).Encode(request{Args: args}); err != nil {
		return 0, fmt.Errorf("control: send: %w", err)
	}
	dec := json.NewDecoder(bufio.NewReader(c))
	for {
		var f frame
		if err := dec.Decode(&f); err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				return 0, errors.New("control: the daemon hung up before the command ended")
			}
			return 0, fmt.Errorf("control: reply: %w", err)
		}
		if f.Out != "" {
			io.WriteString(std.Out, f.Out)
		}
		if f.Err != "" {
			io.WriteString(std.Err, f.Err)
		}
		if f.Exit != nil {
			return *f.Exit, nil
		}
	}
}
