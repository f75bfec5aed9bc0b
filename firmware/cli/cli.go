// Package cli holds what the maintenance commands share: the shape of a
// subcommand, so callboxctl and the serial console can run the same code.
package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// IO is where a command reads and writes; the console passes its terminal,
// callboxctl its standard streams.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Command is one top-level subcommand such as "dsp" or "board".
type Command struct {
	Name    string
	Summary string
	// Run executes the command with the arguments after its name and
	// returns the process exit status.
	Run func(ctx context.Context, args []string, std IO) int
}

// Dispatch runs the command named by args[0], or prints usage.
func Dispatch(ctx context.Context, program string, cmds []Command, args []string, std IO) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		Usage(program, cmds, std.Out)
		return 0
	}
	for _, c := range cmds {
		if c.Name == args[0] {
			return c.Run(ctx, args[1:], std)
		}
	}
	fmt.Fprintf(std.Err, "%s: unknown command %q\n", program, args[0])
	Usage(program, cmds, std.Err)
	return 2
}

// Usage lists the commands, one line each.
func Usage(program string, cmds []Command, w io.Writer) {
	sorted := append([]Command(nil), cmds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	fmt.Fprintf(w, "usage: %s COMMAND [ARGS]\n\ncommands:\n", program)
	width := 0
	for _, c := range sorted {
		width = max(width, len(c.Name))
	}
	for _, c := range sorted {
		fmt.Fprintf(w, "  %s%s  %s\n", c.Name, strings.Repeat(" ", width-len(c.Name)), c.Summary)
	}
}

// HoistFlags moves the named flags (with their values) in front of the
// command, so "board probe --data DIR" works like "board --data DIR probe":
// installers type them in either order. Other flags stay where they are
// for the command to parse.
func HoistFlags(args []string, names ...string) []string {
	var front, back []string
	for i := 0; i < len(args); i++ {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || !slices.Contains(names, name) {
			back = append(back, args[i])
			continue
		}
		front = append(front, args[i])
		if !hasValue && i+1 < len(args) {
			i++
			front = append(front, args[i])
		}
	}
	return append(front, back...)
}
