// Package boardcli implements the board maintenance commands: `board list`,
// `board probe`, `board diag [PORT]` and `board ring PORT [--cycles N]`.
//
// The same commands run in three places. In the daemon, Live serves them
// against the running board, on the serial console and through the control
// socket. In callboxctl, Command forwards them to the daemon through its
// control socket (--data DIR, default ./var as make run uses, or --socket
// PATH); when no daemon answers it says so, and with --board sim|FILE it
// brings the board up in-process instead, for an installer on a box whose
// daemon is stopped.
package boardcli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"

	"callbox/board"
	"callbox/board/ports"
	"callbox/board/proslic"
	"callbox/firmware/cli"
	"callbox/firmware/control"
)

const summary = "board ports: list, probe, diag PORT, ring PORT (daemon or --board)"

// DefaultCycles is how many cadence cycles `board ring` rings by default.
const DefaultCycles = 2

const usage = `usage: board [--data DIR | --socket PATH] [--board sim|FILE] COMMAND
commands:
  list                    the ports, their wiring and state
  probe                   which chips answer on which ports, and their revisions
  diag [PORT]             voltages, loop current and state (every port without PORT)
  ring PORT [--cycles N]  ring an FXS port N cadence cycles (default 2) to check the wiring
`

// Options adjust callboxctl's command for tests.
type Options struct {
	// Open brings a board up in-process for --board; nil opens it with
	// the real clock and logs bring-up to the command's stderr.
	Open func(ctx context.Context, b board.Board, log *slog.Logger) (*ports.Board, error)
}

// Command is "callboxctl board".
var Command = New(Options{})

// New returns callboxctl's board command.
func New(opt Options) cli.Command {
	return cli.Command{Name: "board", Summary: summary, Run: func(ctx context.Context, args []string, std cli.IO) int {
		return runCtl(ctx, opt, args, std)
	}}
}

// Live returns the board command served by the daemon against its running
// board; get returns it, or nil while none runs.
func Live(get func() *ports.Board) cli.Command {
	return cli.Command{Name: "board", Summary: "board ports: list, probe, diag PORT, ring PORT", Run: func(ctx context.Context, args []string, std cli.IO) int {
		b := get()
		if b == nil {
			fmt.Fprintln(std.Err, "board: the board is not running")
			return 1
		}
		return Exec(ctx, b, args, std)
	}}
}

func runCtl(ctx context.Context, opt Options, args []string, std cli.IO) int {
	fs := flag.NewFlagSet("board", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	fs.Usage = func() { fmt.Fprint(std.Err, usage) }
	var to control.Target
	to.AddFlags(fs)
	desc := fs.String("board", "", "with no daemon running, bring this board (sim or a description file) up here")
	if err := fs.Parse(cli.HoistFlags(args, "data", "socket", "board")); err != nil {
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
	path := to.Path()
	code, err := control.Run(ctx, path, append([]string{"board"}, rest...), std)
	if err == nil {
		return code
	}
	if !errors.Is(err, control.ErrNoDaemon) {
		fmt.Fprintf(std.Err, "callboxctl: board: %v\n", err)
		return 1
	}
	if *desc == "" {
		fmt.Fprintf(std.Err, "callboxctl: board: %v: is callboxd running with --data %s? With the daemon stopped, pass --board sim|FILE to bring the board up here\n", err, to.DataDir)
		return 1
	}
	b, err := board.Load(*desc)
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl: board: %v\n", err)
		return 1
	}
	fmt.Fprintf(std.Err, "callboxctl: board: no daemon on %s; bringing board %q up here\n", path, b.Name)
	log := slog.New(slog.NewTextHandler(std.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
	open := opt.Open
	if open == nil {
		open = func(ctx context.Context, b board.Board, log *slog.Logger) (*ports.Board, error) {
			return ports.Open(ctx, b, nil, log)
		}
	}
	pb, err := open(ctx, b, log)
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl: board: %v\n", err)
		return 1
	}
	code = Exec(ctx, pb, rest, std)
	if err := pb.Close(); err != nil {
		fmt.Fprintf(std.Err, "callboxctl: board: %v\n", err)
		return max(code, 1)
	}
	return code
}

// Exec runs one board subcommand against a running board.
func Exec(ctx context.Context, b *ports.Board, args []string, std cli.IO) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(std.Out, usage)
		return 0
	}
	switch args[0] {
	case "list":
		return list(b, args[1:], std)
	case "probe":
		return probe(b, args[1:], std)
	case "diag":
		return diag(b, args[1:], std)
	case "ring":
		return ring(ctx, b, args[1:], std)
	}
	fmt.Fprintf(std.Err, "board: unknown command %q\n%s", args[0], usage)
	return 2
}

func noArgs(name string, args []string, std cli.IO) bool {
	if len(args) > 0 {
		fmt.Fprintf(std.Err, "board %s: takes no arguments (got %q)\n", name, strings.Join(args, " "))
		return false
	}
	return true
}

func list(b *ports.Board, args []string, std cli.IO) int {
	if !noArgs("list", args, std) {
		return 2
	}
	d := b.Description()
	fmt.Fprintf(std.Out, "board %s (%d FXS, %d FXO, %s)\n", d.Name, d.Count(board.FXS), d.Count(board.FXO), kindOf(d))
	tw := tabwriter.NewWriter(std.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tKIND\tCHIP\tSPI\tPCM\tCODEC\tCOUNTRY\tCALLER ID\tSTATE")
	for _, p := range b.Ports() {
		pd := p.Description()
		spi := pd.SPIBus
		if spi == "" {
			spi = "-"
		}
		pcm := strconv.Itoa(pd.PCMSlot)
		if pd.PCMDevice != "" {
			pcm = pd.PCMDevice + "/" + pcm
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", pd.Name, pd.Kind, pd.Chip, spi, pcm, pd.Codec, pd.Country, pd.CallerID, p.State())
	}
	tw.Flush()
	return 0
}

func kindOf(d board.Board) string {
	if d.Sim {
		return "emulated chips"
	}
	return "hardware"
}

// probe reports which chips answer; its status is 1 when one does not, so
// an installer's script notices.
func probe(b *ports.Board, args []string, std cli.IO) int {
	if !noArgs("probe", args, std) {
		return 2
	}
	tw := tabwriter.NewWriter(std.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tKIND\tCHIP\tANSWERS\tFOUND")
	code := 0
	for _, p := range b.Ports() {
		pd := p.Description()
		pi := p.Probe()
		found := pi.Chip
		answers := "yes"
		if !pi.Answers {
			answers, found, code = "NO", errText(pi.Err), 1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", pd.Name, pd.Kind, pd.Chip, answers, found)
	}
	tw.Flush()
	return code
}

func errText(err error) string {
	if err == nil {
		return "no driver"
	}
	return err.Error()
}

func diag(b *ports.Board, args []string, std cli.IO) int {
	var list []*ports.Port
	switch len(args) {
	case 0:
		list = b.Ports()
	case 1:
		p := b.Port(args[0])
		if p == nil {
			fmt.Fprintf(std.Err, "board diag: no port %q (ports: %s)\n", args[0], portNames(b))
			return 2
		}
		list = []*ports.Port{p}
	default:
		fmt.Fprintln(std.Err, "board diag: usage: board diag [PORT]")
		return 2
	}
	code := 0
	for i, p := range list {
		if i > 0 {
			fmt.Fprintln(std.Out)
		}
		pd := p.Description()
		fmt.Fprintf(std.Out, "%s (%s, %s): %s\n", pd.Name, pd.Kind, pd.Chip, p.State())
		d, err := p.Diag()
		if err != nil {
			fmt.Fprintf(std.Out, "  no readings: %v\n", err)
			code = 1
			continue
		}
		for _, l := range d.Lines() {
			fmt.Fprintf(std.Out, "  %s\n", l)
		}
	}
	return code
}

func ring(ctx context.Context, b *ports.Board, args []string, std cli.IO) int {
	fs := flag.NewFlagSet("board ring", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	cycles := fs.Int("cycles", DefaultCycles, "cadence cycles to ring")
	// The port name may come before or after the flag.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
		fs.Parse(fs.Args()[1:]) //nolint:errcheck // same flag set, already valid
	}
	if name == "" || fs.NArg() > 0 {
		fmt.Fprintln(std.Err, "board ring: usage: board ring PORT [--cycles N]")
		return 2
	}
	p := b.Port(name)
	if p == nil {
		fmt.Fprintf(std.Err, "board ring: no port %q (ports: %s)\n", name, portNames(b))
		return 2
	}
	pd := p.Description()
	// Refuse what cannot be rung before saying anything is ringing.
	if pd.Kind != board.FXS {
		fmt.Fprintf(std.Err, "board ring: %s is an FXO port (a PSTN line): it cannot be rung; board ring is for FXS ports: %s\n",
			pd.Name, kindNames(b, board.FXS))
		return 2
	}
	if *cycles < 1 || *cycles > ports.MaxRingCycles {
		fmt.Fprintf(std.Err, "board ring: --cycles %d is outside 1-%d\n", *cycles, ports.MaxRingCycles)
		return 2
	}
	fmt.Fprintf(std.Out, "ringing %s (%s ring preset) for %d cycles\n", pd.Name, pd.Ring, *cycles)
	answered := false
	err := p.Ring(ctx, *cycles, func(e ports.Event) {
		fmt.Fprintf(std.Out, "  %s\n", e)
		if e.Kind == board.FXS && e.FXS.Kind == proslic.OffHook {
			answered = true
		}
	})
	switch {
	case err != nil:
		fmt.Fprintf(std.Err, "board ring: %v\n", err)
		return 1
	case answered:
		fmt.Fprintf(std.Out, "%s: answered: the phone went off hook\n", pd.Name)
	default:
		fmt.Fprintf(std.Out, "%s: rang %d cycles\n", pd.Name, *cycles)
	}
	return 0
}

// kindNames lists the ports of one kind, or says there are none.
func kindNames(b *ports.Board, k board.Kind) string {
	var names []string
	for _, p := range b.Ports() {
		if p.Kind() == k {
			names = append(names, p.Name())
		}
	}
	if len(names) == 0 {
		return "this board has none"
	}
	return strings.Join(names, ", ")
}

func portNames(b *ports.Board) string {
	names := make([]string, 0, len(b.Ports()))
	for _, p := range b.Ports() {
		names = append(names, p.Name())
	}
	return strings.Join(names, ", ")
}
