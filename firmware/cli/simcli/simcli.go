// Package simcli implements `callboxctl sim`: the simulated box by hand.
// On a box running in simulation (callboxd --board sim, as `make run`
// starts it) every FXS port has a virtual analog phone and every FXO port a
// virtual central office at the far end of its PSTN line; these commands
// let a person use them.
//
//	sim status                     every phone and line in one line each
//	sim fxs1 lift                  lift the handset: "fxs1 (201): off hook, hears dial"
//	sim fxs1 dial 202 [--pulse]    dial DTMF (or loop pulses) and report what the phone hears then
//	sim fxs2 answer                wait for the ring, show the caller ID, lift the handset
//	sim fxs2 flash | hangup | listen [--for 3s] | status
//	sim fxo1 ring --from 13800138000 --name "ZHANG SAN"
//	sim fxo1 answer | hangup [--signal busy|reversal|loop] | dtmf 123 | listen | status
//
// What a phone or line reports it hears comes from detectors on the audio
// the box sends it (board/sim/listen: dsp/tone, dsp/dtmf; caller ID from
// dsp/callerid), never from the switch's state.
//
// The commands run inside the daemon: Live serves them on the serial
// console and the control socket, and Command (callboxctl's) forwards them
// through the socket (--data DIR, default ./var, or --socket PATH). They
// wait on the wall clock, so they serve a board that runs on it.
package simcli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"callbox/board/sim"
	"callbox/board/sim/listen"
	"callbox/board/sim/proslicsim"
	"callbox/board/sim/si3050sim"
	"callbox/dsp/callerid"
	"callbox/dsp/tone"
	"callbox/firmware/cli"
	"callbox/firmware/control"
)

const summary = "the simulated box by hand: lift, dial, answer and listen on the virtual phones and lines"

const usage = `usage: sim [--data DIR | --socket PATH] status
       sim [--data DIR | --socket PATH] PORT COMMAND [ARGS]
The virtual phones on the FXS ports and the virtual central office at the
far end of each FXO line of a box running in simulation (make run).
A phone (fxs1, fxs2, ...):
  lift                      lift the handset (answers a ringing phone); says what it hears
  answer [--wait 30s]       wait for the phone to ring, show the caller ID, lift the handset
  dial DIGITS [--pulse]     dial DTMF (0-9 * # A-D), or loop pulses (0-9) with --pulse;
                            then says what the phone hears (ringback, busy, ...)
  flash [--ms 300]          a hook flash (call waiting, transfer, three-way)
  hangup                    put the handset down
  listen [--for 3s]         listen for a while: tones, digits and caller ID heard
  status                    hook, ringing, what it hears, digits, caller ID, recent events
A line (fxo1, fxo2, ...), played by the central office:
  ring [--from NUMBER] [--name NAME] [--rings N] [--no-caller-id]
                            a call from the PSTN: the exchange rings the box with caller ID
  answer                    the far end answers the box's call
  hangup [--signal busy|reversal|loop]
                            the far end hangs up (a ringing call: the caller gives up)
  dtmf DIGITS               the far end sends DTMF digits
  listen [--for 3s]         what the far end hears: tones and digits from the box
  status                    ringing, the box's hook, tones, digits, recent events
`

// Command is "callboxctl sim": it forwards to the running daemon.
var Command = cli.Command{Name: "sim", Summary: summary, Run: runCtl}

func runCtl(ctx context.Context, args []string, std cli.IO) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	fs.Usage = func() { fmt.Fprint(std.Err, usage) }
	var to control.Target
	to.AddFlags(fs)
	if err := fs.Parse(cli.HoistFlags(args, "data", "socket")); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprint(std.Err, usage)
		return 2
	}
	code, err := control.Run(ctx, to.Path(), append([]string{"sim"}, rest...), std)
	switch {
	case err == nil:
		return code
	case errors.Is(err, control.ErrNoDaemon):
		fmt.Fprintf(std.Err, "callboxctl: sim: %v: is the simulated box running (make run, or callboxd --board sim --data %s)?\n", err, to.DataDir)
	default:
		fmt.Fprintf(std.Err, "callboxctl: sim: %v\n", err)
	}
	return 1
}

// Live returns the sim command the daemon serves: get returns the running
// simulated board (nil on hardware or while none runs), and labels the
// extension of each FXS port ("fxs1": "201"), or nil.
func Live(get func() *sim.Board, labels func() map[string]string) cli.Command {
	return cli.Command{Name: "sim", Summary: summary, Run: func(ctx context.Context, args []string, std cli.IO) int {
		b := get()
		if b == nil {
			fmt.Fprintln(std.Err, "sim: no simulated board runs: the box runs on hardware (callboxd --board FILE), or is restarting; sim commands need callboxd --board sim")
			return 1
		}
		var l map[string]string
		if labels != nil {
			l = labels()
		}
		return Exec(ctx, b, l, args, std)
	}}
}

// Exec runs one sim subcommand against a simulated board; labels names
// each FXS port's extension, if known.
func Exec(ctx context.Context, b *sim.Board, labels map[string]string, args []string, std cli.IO) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(std.Out, usage)
		return 0
	}
	s := &session{ctx: ctx, b: b, labels: labels, std: std}
	if args[0] == "status" {
		if len(args) > 1 {
			fmt.Fprintf(std.Err, "sim status: takes no arguments (got %q); for one port: sim PORT status\n", strings.Join(args[1:], " "))
			return 2
		}
		return s.statusAll()
	}
	port := args[0]
	if len(args) < 2 {
		fmt.Fprintf(std.Err, "sim %s: which command? (sim help lists them)\n", port)
		return 2
	}
	verb, rest := args[1], args[2:]
	switch {
	case b.Phone(port) != nil:
		return s.phone(port, b.Phone(port), verb, rest)
	case b.CO(port) != nil:
		return s.line(port, b.CO(port), verb, rest)
	}
	fmt.Fprintf(std.Err, "sim: no port %q (ports: %s)\n", port, strings.Join(b.Ports(), ", "))
	return 2
}

// session is one command's context.
type session struct {
	ctx    context.Context
	b      *sim.Board
	labels map[string]string
	std    cli.IO
}

// name is a port as the output shows it: "fxs1 (201)".
func (s *session) name(port string) string {
	if ext := s.labels[port]; ext != "" {
		return port + " (" + ext + ")"
	}
	return port
}

// fail reports a command that could not be done.
func (s *session) fail(code int, format string, a ...any) int {
	fmt.Fprintf(s.std.Err, "sim: "+format+"\n", a...)
	return code
}

// wait polls cond every 20 ms until it holds (true), d passes or the
// command is cancelled (false).
func (s *session) wait(d time.Duration, cond func() bool) bool {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-s.ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// pause sleeps d unless the command is cancelled.
func (s *session) pause(d time.Duration) bool {
	select {
	case <-s.ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// now is the board's time, which events are stamped with.
func (s *session) now() time.Time { return s.b.Clock().Now() }

// parse parses a verb's flags, which may come before or after its
// arguments, and checks the number of arguments.
func (s *session) parse(fs *flag.FlagSet, args []string, min, max int, use string) ([]string, bool) {
	fs.SetOutput(s.std.Err)
	fs.Usage = func() { fmt.Fprintf(s.std.Err, "usage: sim %s\n", use) }
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, false
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) < min || len(pos) > max {
		fmt.Fprintf(s.std.Err, "usage: sim %s\n", use)
		return nil, false
	}
	return pos, true
}

// statusAll prints one line per port.
func (s *session) statusAll() int {
	for _, port := range s.b.Ports() {
		if p := s.b.Phone(port); p != nil {
			fmt.Fprintln(s.std.Out, s.phoneLine(p.Status(time.Time{})))
		} else if co := s.b.CO(port); co != nil {
			fmt.Fprintln(s.std.Out, s.lineLine(co.FarEnd(time.Time{})))
		}
	}
	return 0
}

// observe serves listen (what happens during --for, timed from its start)
// and status (the state now and the last minute's events, timed back
// from now) for a phone or a line: look returns its one-line state, any
// further lines, and its events since a time.
func (s *session) observe(port, verb string, fs *flag.FlagSet, args []string, look func(since time.Time) (string, []string, []listen.Event)) int {
	var d *time.Duration
	use := port + " status"
	if verb == "listen" {
		d = fs.Duration("for", 3*time.Second, "how long to listen")
		use = port + " listen [--for 3s]"
	}
	if _, ok := s.parse(fs, args, 0, 0, use); !ok {
		return 2
	}
	t0 := s.now()
	since := t0.Add(-time.Minute)
	if d != nil {
		s.pause(*d)
		since = t0
	}
	line, extra, events := look(since)
	fmt.Fprintln(s.std.Out, line)
	for _, l := range extra {
		fmt.Fprintf(s.std.Out, "  %s\n", l)
	}
	if d == nil && len(events) > 0 {
		fmt.Fprintln(s.std.Out, "  the last minute:")
	}
	for _, l := range listen.Format(events, t0) {
		fmt.Fprintf(s.std.Out, "  %s\n", l)
	}
	return 0
}

// The phone commands.

func (s *session) phone(port string, p *proslicsim.Phone, verb string, args []string) int {
	fs := flag.NewFlagSet("sim "+port+" "+verb, flag.ContinueOnError)
	switch verb {
	case "lift":
		if _, ok := s.parse(fs, args, 0, 0, port+" lift"); !ok {
			return 2
		}
		return s.lift(port, p)
	case "answer":
		wait := fs.Duration("wait", 30*time.Second, "how long to wait for the phone to ring")
		if _, ok := s.parse(fs, args, 0, 0, port+" answer [--wait 30s]"); !ok {
			return 2
		}
		return s.answer(port, p, *wait)
	case "hangup":
		if _, ok := s.parse(fs, args, 0, 0, port+" hangup"); !ok {
			return 2
		}
		if !p.IsOffHook() {
			fmt.Fprintf(s.std.Out, "%s: already on hook\n", s.name(port))
			return 0
		}
		p.OnHook()
		fmt.Fprintf(s.std.Out, "%s: on hook\n", s.name(port))
		return 0
	case "dial":
		pulse := fs.Bool("pulse", false, "dial by loop pulses (a rotary dial) instead of DTMF")
		pos, ok := s.parse(fs, args, 1, 1, port+" dial DIGITS [--pulse]")
		if !ok {
			return 2
		}
		return s.dial(port, p, pos[0], *pulse)
	case "flash":
		ms := fs.Int("ms", 300, "how long the hook is down, in milliseconds (100-800)")
		if _, ok := s.parse(fs, args, 0, 0, port+" flash [--ms 300]"); !ok {
			return 2
		}
		if *ms < 100 || *ms > 800 {
			return s.fail(2, "%s flash: --ms %d is outside 100-800 (shorter is a pulse, longer a hang-up)", port, *ms)
		}
		if !p.IsOffHook() {
			return s.fail(1, "%s: on hook: a flash needs the handset lifted (sim %s lift)", s.name(port), port)
		}
		d := time.Duration(*ms) * time.Millisecond
		p.Flash(d)
		s.pause(time.Second)
		st := p.Status(time.Time{})
		fmt.Fprintf(s.std.Out, "%s: flash (%v), hears %s\n", s.name(port), d, st.Hears)
		return 0
	case "listen", "status":
		return s.observe(port, verb, fs, args, func(since time.Time) (string, []string, []listen.Event) {
			st := p.Status(since)
			var extra []string
			if st.CallerID != nil && verb == "status" {
				extra = append(extra, fmt.Sprintf("last caller ID: %s (%s ago)", proslicsim.FormatCallerID(*st.CallerID), st.Now.Sub(st.CallerIDAt).Round(time.Second)))
			}
			return s.phoneLine(st), extra, st.Events
		})
	}
	fmt.Fprintf(s.std.Err, "sim %s: %q is not a phone command: lift, answer, dial, flash, hangup, listen, status\n", port, verb)
	return 2
}

// phoneLine is a phone's state in one line:
// "fxs1 (201): off hook, hears dial, heard digits 5".
func (s *session) phoneLine(st proslicsim.Status) string {
	parts := []string{"on hook"}
	switch {
	case st.OffHook:
		parts = []string{"off hook", "hears " + st.Hears}
		if st.Digits != "" {
			parts = append(parts, "heard digits "+st.Digits)
		}
	case st.Alerting:
		parts = append(parts, "ringing")
		if st.CallerID != nil && !st.CallerIDAt.Before(alertStart(st)) {
			parts = append(parts, "caller ID "+proslicsim.FormatCallerID(callerIDShown(*st.CallerID)))
		}
	}
	return s.name(st.Port) + ": " + strings.Join(parts, ", ")
}

// callerIDShown leaves out the time of a caller ID message: the output of
// the commands stays the same from one call to the next.
func callerIDShown(m callerid.Message) callerid.Message {
	m.Time = ""
	return m
}

// alertStart is when the phone's current presentation began, from its
// events (the zero time if the log no longer has it).
func alertStart(st proslicsim.Status) time.Time {
	for i := len(st.Events) - 1; i >= 0; i-- {
		if st.Events[i].Kind == listen.Ringing {
			return st.Events[i].At
		}
	}
	return time.Time{}
}

// hears waits up to d for the ear to name a tone and returns what the
// phone hears then.
func (s *session) hears(p *proslicsim.Phone, d time.Duration) string {
	s.wait(d, func() bool {
		h := p.Status(time.Time{}).Hears
		return h != "silence" && h != "unknown sound" && h != ""
	})
	return p.Status(time.Time{}).Hears
}

func (s *session) lift(port string, p *proslicsim.Phone) int {
	st := p.Status(time.Time{})
	if st.OffHook {
		return s.fail(1, "%s: already off hook (hears %s)", s.name(port), st.Hears)
	}
	p.OffHook()
	if st.Alerting {
		s.pause(500 * time.Millisecond)
		fmt.Fprintf(s.std.Out, "%s: answered, hears %s\n", s.name(port), p.Status(time.Time{}).Hears)
		return 0
	}
	// A steady dial tone is named after about a second.
	fmt.Fprintf(s.std.Out, "%s: off hook, hears %s\n", s.name(port), s.hears(p, 3*time.Second))
	return 0
}

func (s *session) answer(port string, p *proslicsim.Phone, wait time.Duration) int {
	if p.IsOffHook() {
		return s.fail(1, "%s: already off hook", s.name(port))
	}
	if !s.wait(wait, p.Alerting) {
		if s.ctx.Err() != nil {
			return 1
		}
		return s.fail(1, "%s: did not ring within %v", s.name(port), wait)
	}
	// Caller ID comes before the first ring (ETSI, DTMF) or after it
	// (Bellcore, about 1.5 s in): wait for it, but not past the second
	// ring of the slowest cadence.
	var st proslicsim.Status
	got := s.wait(7*time.Second, func() bool {
		st = p.Status(time.Time{})
		return !st.Alerting || st.CallerID != nil && !st.CallerIDAt.Before(alertStart(st))
	})
	if !st.Alerting {
		return s.fail(1, "%s: stopped ringing before it was answered", s.name(port))
	}
	if got {
		fmt.Fprintf(s.std.Out, "%s: ringing, caller ID %s\n", s.name(port), proslicsim.FormatCallerID(callerIDShown(*st.CallerID)))
	} else {
		fmt.Fprintf(s.std.Out, "%s: ringing, no caller ID\n", s.name(port))
	}
	p.OffHook()
	s.pause(500 * time.Millisecond)
	fmt.Fprintf(s.std.Out, "%s: answered, hears %s\n", s.name(port), p.Status(time.Time{}).Hears)
	return 0
}

func (s *session) dial(port string, p *proslicsim.Phone, digits string, pulse bool) int {
	before := p.Status(time.Time{})
	if !before.OffHook {
		return s.fail(1, "%s: on hook: lift the handset first (sim %s lift)", s.name(port), port)
	}
	how := "DTMF"
	if pulse {
		how = "pulse"
		took, err := p.DialPulse(digits)
		if err != nil {
			return s.fail(2, "%s dial: %v", port, err)
		}
		s.pause(took)
	} else {
		if err := p.Dial(digits); err != nil {
			return s.fail(2, "%s dial: %v", port, err)
		}
		s.wait(time.Minute, func() bool { return !p.Dialling() })
	}
	// In a call (no dial tone before the digits) the digits went to the
	// other party: nothing more comes of them here.
	t0 := s.now()
	wait := 8 * time.Second
	if before.Hears != tone.Dial && before.Hears != tone.Stutter {
		wait = 300 * time.Millisecond
	}
	// What follows a number: ringback (named after its first cycle,
	// about 5 s in CN), busy, congestion, or silence.
	var hears string
	s.wait(wait, func() bool {
		st := p.Status(t0)
		hears = st.Hears
		if !st.OffHook {
			return true
		}
		for _, e := range st.Events {
			if e.Kind == listen.ToneStart {
				hears = e.Arg
				return true
			}
		}
		return false
	})
	fmt.Fprintf(s.std.Out, "%s: dialled %s (%s), hears %s\n", s.name(port), digits, how, hears)
	return 0
}

// The line commands: the far end, played by the central office.

func (s *session) line(port string, co *si3050sim.CO, verb string, args []string) int {
	fs := flag.NewFlagSet("sim "+port+" "+verb, flag.ContinueOnError)
	switch verb {
	case "ring":
		from := fs.String("from", "13800138000", "the caller's number")
		name := fs.String("name", "", "the caller's name")
		rings := fs.Int("rings", 0, "rings before the caller gives up (0: until answered or hung up)")
		none := fs.Bool("no-caller-id", false, "present no caller ID")
		if _, ok := s.parse(fs, args, 0, 0, port+" ring [--from NUMBER] [--name NAME] [--rings N] [--no-caller-id]"); !ok {
			return 2
		}
		return s.ring(port, co, *from, *name, *rings, *none)
	case "answer":
		if _, ok := s.parse(fs, args, 0, 0, port+" answer"); !ok {
			return 2
		}
		if err := co.Answer(); err != nil {
			return s.fail(1, "%v", err)
		}
		fmt.Fprintf(s.std.Out, "%s: the far end answered\n", port)
		return 0
	case "hangup":
		signal := fs.String("signal", "busy", "how the exchange shows it: busy (tone), reversal (of polarity) or loop (the loop current drops)")
		if _, ok := s.parse(fs, args, 0, 0, port+" hangup [--signal busy|reversal|loop]"); !ok {
			return 2
		}
		return s.hangupLine(port, co, *signal)
	case "dtmf":
		pos, ok := s.parse(fs, args, 1, 1, port+" dtmf DIGITS")
		if !ok {
			return 2
		}
		if st := co.FarEnd(time.Time{}); !st.InCall {
			return s.fail(1, "%s: no call on the line: the box must answer or seize it first", port)
		}
		if err := co.SendDTMF(pos[0]); err != nil {
			return s.fail(2, "%v", err)
		}
		fmt.Fprintf(s.std.Out, "%s: the far end sends DTMF %s\n", port, pos[0])
		return 0
	case "listen", "status":
		return s.observe(port, verb, fs, args, func(since time.Time) (string, []string, []listen.Event) {
			st := co.FarEnd(since)
			return s.lineLine(st), nil, st.Events
		})
	}
	fmt.Fprintf(s.std.Err, "sim %s: %q is not a line command: ring, answer, hangup, dtmf, listen, status\n", port, verb)
	return 2
}

// lineLine is a line's state in one line, from the far end:
// "fxo1: the box answered, hears silence".
func (s *session) lineLine(st si3050sim.FarEnd) string {
	var parts []string
	switch {
	case !st.Plugged:
		parts = append(parts, "unplugged")
	case st.Ringing:
		parts = append(parts, "ringing the box")
	case st.InCall && st.Answered:
		parts = append(parts, "the box answered", "hears "+st.Hears)
	case st.InCall:
		parts = append(parts, "the box seized the line", "hears "+st.Hears)
		if st.Digits != "" {
			parts = append(parts, "the box dialled "+st.Digits)
		}
	default:
		parts = append(parts, "idle")
	}
	if st.Playing != "" {
		parts = append(parts, "the exchange plays "+st.Playing)
	}
	return st.Port + ": " + strings.Join(parts, ", ")
}

func (s *session) ring(port string, co *si3050sim.CO, from, name string, rings int, none bool) int {
	if rings < 0 || rings > 50 {
		return s.fail(2, "%s ring: --rings %d is outside 0-50", port, rings)
	}
	switch st := co.FarEnd(time.Time{}); {
	case st.Ringing:
		return s.fail(1, "%s: already ringing the box (sim %s hangup: the caller gives up)", port, port)
	case st.InCall:
		return s.fail(1, "%s: a call is on the line (sim %s hangup ends it)", port, port)
	}
	call := si3050sim.Call{Rings: rings}
	what := "no caller ID"
	if !none {
		m := &callerid.Message{Format: callerid.MDMF, Time: s.now().Format("01021504"), Number: from, Name: name}
		if err := m.Validate(); err != nil {
			return s.fail(2, "%s ring: caller ID: %v", port, err)
		}
		call.CallerID = m
		what = "caller ID " + proslicsim.FormatCallerID(callerIDShown(*m))
	}
	if err := co.Ring(call); err != nil {
		return s.fail(1, "%v", err)
	}
	fmt.Fprintf(s.std.Out, "%s: the exchange rings the box, %s\n", port, what)
	return 0
}

func (s *session) hangupLine(port string, co *si3050sim.CO, signal string) int {
	how := map[string]si3050sim.Disconnect{"busy": si3050sim.BusyTone, "reversal": si3050sim.Reversal, "loop": si3050sim.LoopDrop}
	d, ok := how[signal]
	if !ok {
		return s.fail(2, "%s hangup: --signal %q is not busy, reversal or loop", port, signal)
	}
	st := co.FarEnd(time.Time{})
	switch {
	case st.Ringing:
		co.StopRinging()
		fmt.Fprintf(s.std.Out, "%s: the caller gave up: ringing stopped\n", port)
	case st.InCall:
		// A loop drop lasts until the box hangs up.
		if err := co.Hangup(d, 0); err != nil {
			return s.fail(1, "%v", err)
		}
		fmt.Fprintf(s.std.Out, "%s: the far end hung up (%s)\n", port, d)
	default:
		return s.fail(1, "%s: no call to hang up", port)
	}
	return 0
}
