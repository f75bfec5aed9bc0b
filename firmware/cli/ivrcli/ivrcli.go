// Package ivrcli implements "callboxctl ivr": checking IVR flow files
// before they are loaded into the box.
package ivrcli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"callbox/firmware/cli"
	"callbox/telephony/ivr"
)

// Command is "callboxctl ivr".
var Command = cli.Command{
	Name:    "ivr",
	Summary: "check IVR flow files and try them on a scripted caller",
	Run:     run,
}

func run(ctx context.Context, args []string, std cli.IO) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(std.Out)
		return 0
	}
	switch args[0] {
	case "check":
		return check(args[1:], std)
	case "run":
		return dryRun(ctx, args[1:], std)
	}
	fmt.Fprintf(std.Err, "callboxctl ivr: unknown subcommand %q\n", args[0])
	usage(std.Err)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: callboxctl ivr check [--prompts DIR] FLOW.json [FLOW.json ...]
       callboxctl ivr run [flags] FLOW.json [SUBFLOW.json ...]

check validates IVR flows and prints each error on its own line, naming
the file and the node. Sub-flows are looked up among the files given.
With --prompts, every prompt file a flow plays must exist in DIR (as
name.wav, .ulaw, .alaw, .sln, .gsm or .g722). The exit status is 0 only
when every flow is valid, 1 when one is not, 2 on a usage error.

run checks the flows, then runs the first one against a scripted caller
and prints each prompt, key, queue, transfer and lookup, the way the call
ends, survey answers and variables. Flags: --keys "1,,123#,!" (one entry
per wait for keys; empty is silence, ! hangs up), --at TIME (RFC 3339),
--caller N, --type CUSTOMER_TYPE, --agent ID, --queue served|unserved,
--transfer ok|fail, --http (real lookups; otherwise they fail), --prompts
DIR (prompts not in DIR count as missing).
`)
}

// check is "ivr check".
func check(args []string, std cli.IO) int {
	fs := flag.NewFlagSet("ivr check", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	prompts := fs.String("prompts", "", "directory of prompt files every played prompt must exist in")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(files) == 0 {
		fmt.Fprintln(std.Err, "callboxctl ivr check: no flow file given")
		usage(std.Err)
		return 2
	}
	opt := ivr.ValidateOptions{}
	if *prompts != "" {
		if fi, err := os.Stat(*prompts); err != nil || !fi.IsDir() {
			fmt.Fprintf(std.Err, "callboxctl ivr check: --prompts %s is not a directory\n", *prompts)
			return 2
		}
		opt.Prompts = ivr.DirCatalogue{Dir: *prompts}
	}

	// Parse every file first so that flows can call each other.
	type parsed struct {
		name string
		flow *ivr.Flow
		errs []string
	}
	var all []parsed
	given := flowSet{}
	for _, name := range files {
		p := parsed{name: name}
		var err error
		p.flow, err = parseFile(name)
		p.errs = append(p.errs, lines(err)...)
		if p.flow != nil && p.flow.ID != "" {
			if _, dup := given[p.flow.ID]; dup {
				p.errs = append(p.errs, fmt.Sprintf("flow: id: flow %q is also in another file", p.flow.ID))
			} else {
				given[p.flow.ID] = p.flow
			}
		}
		all = append(all, p)
	}
	opt.Flows = given
	bad := 0
	for _, p := range all {
		if p.flow != nil {
			p.errs = append(p.errs, lines(ivr.Validate(p.flow, opt))...)
		}
		if len(p.errs) == 0 {
			fmt.Fprintf(std.Out, "%s: ok: flow %q, %d nodes\n", p.name, p.flow.ID, len(p.flow.Nodes))
			continue
		}
		bad++
		for _, e := range p.errs {
			fmt.Fprintf(std.Out, "%s: %s\n", p.name, e)
		}
	}
	if bad > 0 {
		return 1
	}
	return 0
}

// parseFile reads and parses one flow file.
func parseFile(name string) (*ivr.Flow, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return ivr.ParseFlow(data)
}

// lines splits a parse or validation error into one line per problem.
func lines(err error) []string {
	if err == nil {
		return nil
	}
	var ves ivr.ValidationErrors
	if errors.As(err, &ves) {
		out := make([]string, len(ves))
		for i, e := range ves {
			out[i] = e.Error()
		}
		return out
	}
	return []string{strings.ReplaceAll(err.Error(), "\n", " ")}
}

// flowSet resolves sub-flows among the files being checked; any version
// of a given flow is the one in its file.
type flowSet map[string]*ivr.Flow

func (s flowSet) Flow(id string, version int) (*ivr.Flow, error) {
	if f, ok := s[id]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("%w: %q is not among the files checked", ivr.ErrNoFlow, id)
}

// parseInterleaved parses flags that may come before or after the file
// names.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return files, nil
		}
		files = append(files, args[0])
		args = args[1:]
	}
}
