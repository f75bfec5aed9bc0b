package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"callbox/firmware/cli"
)

// Prompt is printed before each command line.
const Prompt = "callbox> "

// maxLine bounds a command line; a serial line has no business sending
// more, and the bound keeps a babbling peer from growing memory.
const maxLine = 512

// Control bytes a serial terminal sends.
const (
	ctrlC     = 0x03
	ctrlD     = 0x04
	backspace = 0x08
	ctrlU     = 0x15
	ctrlW     = 0x17
	esc       = 0x1b
	del       = 0x7f
)

var (
	errInterrupt = errors.New("interrupted") // ^C: drop the line
	errLogout    = errors.New("logout")      // ^D on an empty line
)

// session is one conversation over rw: the line editor's state and
// whether the password was given.
type session struct {
	c        *Console
	in       *bufio.Reader
	deadline interface{ SetReadDeadline(time.Time) error } // nil if rw has none
	out      io.Writer
	werr     error // first write error; the peer is gone
	lastCR   bool  // the previous byte ended a line with CR, so a LF is its pair
	authed   bool
	fails    int
}

// Serve runs the shell over rw until ctx is done or reading rw fails, and
// returns nil or that error (io.EOF is a normal end and gives nil). It
// does not close rw. Serve checks ctx between reads; to stop a Serve
// blocked in Read, close rw or time its reads out (Run does).
func (c *Console) Serve(ctx context.Context, rw io.ReadWriter) error {
	s := &session{c: c, in: bufio.NewReaderSize(rw, 64), out: rw, authed: !c.cfg.RequirePassword}
	if d, ok := rw.(interface{ SetReadDeadline(time.Time) error }); ok && c.cfg.RequirePassword && c.cfg.IdleLogout > 0 {
		s.deadline = d
		defer d.SetReadDeadline(time.Time{})
	}
	err := s.serve(ctx)
	if errors.Is(err, io.EOF) || ctx.Err() != nil {
		return nil
	}
	return err
}

func (s *session) serve(ctx context.Context) error {
	s.print("\r\ncallbox maintenance console; type help for commands\r\n")
	for ctx.Err() == nil {
		if !s.authed {
			if err := s.login(ctx); err != nil {
				return err
			}
			continue
		}
		s.print(Prompt)
		line, err := s.readLine(true)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err() // stopped (a halted device times reads out)
		case errors.Is(err, errInterrupt):
			continue
		case errors.Is(err, errLogout):
			s.logout()
			continue
		case errors.Is(err, os.ErrDeadlineExceeded) && s.deadline != nil:
			s.print("\r\nidle for " + s.c.cfg.IdleLogout.String() + "; ")
			s.c.log.Info("console idle logout")
			s.logout()
			continue
		case err != nil:
			return err
		}
		if err := s.exec(ctx, line); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// login asks for the password once. An empty line is not an attempt (it is
// how one wakes a console); a wrong password costs a delay that doubles
// with each failure in a row, up to 16 times FailDelay.
func (s *session) login(ctx context.Context) error {
	s.print("Password: ")
	pw, err := s.readLine(false)
	if errors.Is(err, errInterrupt) || errors.Is(err, errLogout) || err == nil && pw == "" {
		return nil
	}
	if err != nil {
		return err
	}
	if s.c.cfg.CheckPassword(pw) {
		s.authed, s.fails = true, 0
		s.c.log.Info("console login")
		return nil
	}
	s.fails++
	s.c.log.Warn("console login failed", "failures", s.fails)
	delay := s.c.cfg.FailDelay << min(s.fails-1, 4)
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.print("Login incorrect\r\n")
	return s.werr
}

func (s *session) logout() {
	if s.c.cfg.RequirePassword && s.authed {
		s.authed = false
		s.c.log.Info("console logout")
		s.print("logged out\r\n")
	}
}

// readLine edits one line as a serial terminal sends it: CR, LF or CR LF
// end it; BS and DEL erase a character, ^U the line, ^W a word; ^C drops
// the line; ^D on an empty line logs out; escape sequences (arrow keys)
// and other control bytes are ignored. With echo false (passwords) nothing
// typed is shown.
func (s *session) readLine(echo bool) (string, error) {
	var line []byte
	for {
		if s.deadline != nil && s.in.Buffered() == 0 {
			var at time.Time // waiting at the password prompt has no limit
			if s.authed {
				at = time.Now().Add(s.c.cfg.IdleLogout)
			}
			if err := s.deadline.SetReadDeadline(at); err != nil {
				return "", err
			}
		}
		b, err := s.in.ReadByte()
		if err != nil {
			return "", err
		}
		if s.werr != nil {
			return "", s.werr
		}
		wasCR := s.lastCR
		s.lastCR = false
		switch {
		case b == '\n' && wasCR:
			// second half of CR LF
		case b == '\r' || b == '\n':
			s.lastCR = b == '\r'
			s.print("\r\n")
			return string(line), nil
		case b == backspace || b == del:
			if len(line) > 0 {
				_, size := utf8.DecodeLastRune(line)
				line = line[:len(line)-size]
				if echo {
					s.print("\b \b")
				}
			}
		case b == ctrlU || b == ctrlW:
			keep := 0
			if b == ctrlW {
				keep = len(strings.TrimRight(string(line), " "))
				keep = strings.LastIndexByte(string(line[:keep]), ' ') + 1
			}
			if echo {
				s.print(strings.Repeat("\b \b", utf8.RuneCount(line[keep:])))
			}
			line = line[:keep]
		case b == ctrlC:
			s.print("^C\r\n")
			return "", errInterrupt
		case b == ctrlD:
			if len(line) == 0 {
				s.print("\r\n")
				return "", errLogout
			}
		case b == esc:
			if err := s.skipEscape(); err != nil {
				return "", err
			}
		case b < 0x20:
			// tab, bell and the rest: ignored
		case len(line) >= maxLine:
			s.print("\a")
		default:
			line = append(line, b)
			if echo {
				s.out.Write([]byte{b}) // raw, so UTF-8 sequences pass through
			}
		}
	}
}

// skipEscape consumes the rest of an escape sequence: ESC [ params final
// (CSI, as arrow and function keys send), ESC O x (SS3), or ESC x.
func (s *session) skipEscape() error {
	b, err := s.in.ReadByte()
	if err != nil {
		return err
	}
	switch b {
	case '[':
		for {
			b, err := s.in.ReadByte()
			if err != nil {
				return err
			}
			if b >= 0x40 && b <= 0x7e {
				return nil
			}
			if b < 0x20 || b > 0x3f { // not a parameter: malformed, stop here
				return s.in.UnreadByte()
			}
		}
	case 'O':
		_, err := s.in.ReadByte()
		return err
	}
	return nil
}

// print writes to the terminal, remembering the first failure.
func (s *session) print(text string) {
	if s.werr == nil {
		_, s.werr = io.WriteString(s.out, text)
	}
}

// exec runs one command line.
func (s *session) exec(ctx context.Context, line string) error {
	args, err := splitArgs(line)
	if err != nil {
		s.print("error: " + err.Error() + "\r\n")
		return s.werr
	}
	if len(args) == 0 {
		return s.werr
	}
	i := slices.IndexFunc(s.c.cmds, func(c command) bool { return c.name == args[0] || slices.Contains(c.aliases, args[0]) })
	if i < 0 {
		s.print(fmt.Sprintf("unknown command %q; type help for the list\r\n", args[0]))
		return s.werr
	}
	cmd := s.c.cmds[i]
	s.c.log.Info("console command", "command", cmd.name)
	w := &crlfWriter{w: s.out}
	if err := cmd.run(ctx, s, args[1:], w); err != nil {
		fmt.Fprintf(w, "%s: %v\n", args[0], err)
	}
	if w.err != nil {
		return w.err
	}
	return s.werr
}

// splitArgs splits a command line at spaces; single or double quotes
// group words with spaces ('say "hello world"'). It works on bytes, which
// is safe for UTF-8 since every separator is ASCII, and keeps any other
// byte as typed.
func splitArgs(line string) ([]string, error) {
	var args []string
	var cur []byte
	inWord := false
	var quote byte
	for i := 0; i < len(line); i++ {
		b := line[i]
		switch {
		case quote != 0 && b == quote:
			quote = 0
		case quote != 0:
			cur = append(cur, b)
		case b == '"' || b == '\'':
			quote, inWord = b, true
		case b == ' ' || b == '\t':
			if inWord {
				args = append(args, string(cur))
				cur = cur[:0]
				inWord = false
			}
		default:
			cur = append(cur, b)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		args = append(args, string(cur))
	}
	return args, nil
}

// crlfWriter turns the "\n" that command output uses into the "\r\n" a
// raw terminal needs.
type crlfWriter struct {
	w      io.Writer
	lastCR bool
	err    error
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	start := 0
	for i, b := range p {
		if b == '\n' && !(i == 0 && c.lastCR || i > 0 && p[i-1] == '\r') {
			if _, c.err = c.w.Write(p[start:i]); c.err != nil {
				return start, c.err
			}
			if _, c.err = io.WriteString(c.w, "\r"); c.err != nil {
				return i, c.err
			}
			start = i
		}
	}
	if _, c.err = c.w.Write(p[start:]); c.err != nil {
		return start, c.err
	}
	if len(p) > 0 {
		c.lastCR = p[len(p)-1] == '\r'
	}
	return len(p), nil
}

// command is one shell command.
type command struct {
	name    string
	aliases []string
	usage   string // arguments, for help
	summary string
	run     func(ctx context.Context, s *session, args []string, w io.Writer) error
}

// commands builds the table: built-ins, then Extra.
func (c *Console) commands() ([]command, error) {
	noArgs := func(f func(w io.Writer) error) func(context.Context, *session, []string, io.Writer) error {
		return func(_ context.Context, _ *session, args []string, w io.Writer) error {
			if len(args) > 0 {
				return errors.New("takes no arguments")
			}
			return f(w)
		}
	}
	lines := func(w io.Writer, ls []string) {
		for _, l := range ls {
			fmt.Fprintln(w, l)
		}
	}
	cmds := []command{
		{name: "help", aliases: []string{"?"}, summary: "list the commands",
			run: noArgs(func(w io.Writer) error { c.help(w); return nil })},
		{name: "status", summary: "uptime, board ports, store",
			run: noArgs(func(w io.Writer) error { lines(w, c.host.Status()); return nil })},
		{name: "version", summary: "firmware version",
			run: noArgs(func(w io.Writer) error { fmt.Fprintln(w, c.host.Version()); return nil })},
		{name: "logs", usage: "[N]", summary: "the last N log lines (default 20)",
			run: func(_ context.Context, _ *session, args []string, w io.Writer) error {
				n := 20
				if len(args) > 1 {
					return errors.New("usage: logs [N]")
				}
				if len(args) == 1 {
					var err error
					if n, err = strconv.Atoi(args[0]); err != nil || n < 1 || n > 10000 {
						return fmt.Errorf("the line count must be a number from 1 to 10000, not %q", args[0])
					}
				}
				lines(w, c.host.Logs(n))
				return nil
			}},
		{name: "network", summary: "network interfaces and addresses",
			run: noArgs(func(w io.Writer) error {
				ls, err := c.host.Network()
				lines(w, ls)
				return err
			})},
		{name: "passwd-reset", summary: "issue a new one-time code to set the admin password",
			run: noArgs(func(w io.Writer) error {
				code, err := c.host.ResetAdmin()
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "one-time setup code: %s\nenter it in the web admin to set a new admin password\n", code)
				return nil
			})},
		{name: "restart", aliases: []string{"reboot"}, summary: "reboot the box (restart the daemon in simulation)",
			run: noArgs(func(w io.Writer) error {
				fmt.Fprintln(w, "restarting...")
				return c.host.Restart()
			})},
	}
	if c.cfg.RequirePassword {
		cmds = append(cmds, command{name: "logout", aliases: []string{"exit"}, summary: "end the session (also ^D)",
			run: func(_ context.Context, s *session, _ []string, _ io.Writer) error { s.logout(); return nil }})
	}
	for _, x := range c.cfg.Extra {
		if x.Name == "" || x.Run == nil || strings.ContainsAny(x.Name, " \t") {
			return nil, fmt.Errorf("console: extra command %q incomplete", x.Name)
		}
		if slices.ContainsFunc(cmds, func(c command) bool { return c.name == x.Name || slices.Contains(c.aliases, x.Name) }) {
			return nil, fmt.Errorf("console: extra command %q clashes with another", x.Name)
		}
		cmds = append(cmds, command{name: x.Name, summary: x.Summary, run: extra(x)})
	}
	return cmds, nil
}

// extra runs a cli.Command as callboxctl does. It gets no input: the
// terminal belongs to the line editor.
func extra(x cli.Command) func(context.Context, *session, []string, io.Writer) error {
	return func(ctx context.Context, _ *session, args []string, w io.Writer) error {
		if code := x.Run(ctx, args, cli.IO{In: strings.NewReader(""), Out: w, Err: w}); code != 0 {
			return fmt.Errorf("exit status %d", code)
		}
		return nil
	}
}

func (c *Console) help(w io.Writer) {
	left := make([]string, len(c.cmds))
	width := 0
	for i, cmd := range c.cmds {
		left[i] = strings.TrimSpace(strings.Join(append([]string{cmd.name}, cmd.aliases...), "|") + " " + cmd.usage)
		width = max(width, len(left[i]))
	}
	for i, cmd := range c.cmds {
		fmt.Fprintf(w, "  %-*s  %s\n", width, left[i], cmd.summary)
	}
}
