// Package dspcli implements "callboxctl dsp", the signal tools installers
// and tests use: analyze a recording, generate test signals, and further
// subcommands each DSP area registers (see registry.go).
package dspcli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"callbox/dsp/wav"
	"callbox/firmware/cli"
)

// Command is "callboxctl dsp".
var Command = cli.Command{
	Name:    "dsp",
	Summary: "analyze recordings (DTMF, tones, caller ID), generate test signals, run DSP blocks over files, fax to and from WAV",
	Run:     run,
}

func run(ctx context.Context, args []string, std cli.IO) int {
	if len(args) == 0 {
		usage(std.Err)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(std.Out)
		return 0
	case "analyze":
		return runAnalyze(args[1:], std)
	case "gen":
		return runGen(args[1:], std)
	}
	if sub, ok := subcommands[args[0]]; ok {
		return sub(args[1:], std)
	}
	fmt.Fprintf(std.Err, "callboxctl dsp: unknown subcommand %q\n", args[0])
	usage(std.Err)
	return 2
}

// usage lists the subcommands with what is registered for each.
func usage(w io.Writer) {
	fmt.Fprintf(w, `usage: callboxctl dsp SUBCOMMAND [ARGS]

  analyze [--country CN] [--cid auto|bell202|v23|dtmf] FILE.wav
        print the events found in an 8 kHz mono WAV (16-bit PCM, A-law or
        mu-law), one "<start_ms> <event>" per line in time order;
        analyzers: %s
  gen KIND [flags] OUT.wav
        write a test signal as 8 kHz 16-bit PCM; KIND is one of: %s
        (callboxctl dsp gen KIND -h lists its flags)
`, strings.Join(sortedKeys(analyzers), ", "), strings.Join(sortedKeys(generators), ", "))
	for _, name := range sortedKeys(subcommands) {
		fmt.Fprintf(w, "  %s ...\n        (callboxctl dsp %s -h for its flags)\n", name, name)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var cidSchemesAllowed = []string{"auto", "bell202", "v23", "dtmf"}

// runAnalyze is `dsp analyze [--country CN] [--cid SCHEME] FILE.wav`.
func runAnalyze(args []string, std cli.IO) int {
	fl := flag.NewFlagSet("callboxctl dsp analyze", flag.ContinueOnError)
	fl.SetOutput(std.Err)
	var opt analyzeOptions
	fl.StringVar(&opt.Country, "country", "CN", "country of the call-progress tone plan")
	fl.StringVar(&opt.CID, "cid", "auto", "caller ID scheme: "+strings.Join(cidSchemesAllowed, ", "))
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fl.NArg() != 1 {
		fmt.Fprintln(std.Err, "callboxctl dsp analyze: want exactly one FILE.wav")
		return 2
	}
	if !slices.Contains(cidSchemesAllowed, opt.CID) {
		fmt.Fprintf(std.Err, "callboxctl dsp analyze: --cid %q: want one of %s\n", opt.CID, strings.Join(cidSchemesAllowed, ", "))
		return 2
	}
	path := fl.Arg(0)
	events, err := analyzeFile(path, opt)
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl dsp analyze: %v\n", err)
		return 1
	}
	for _, e := range events {
		fmt.Fprintf(std.Out, "%d %s\n", e.StartMS, e.Text)
	}
	return 0
}

// analyzeFile reads a WAV and returns every analyzer's events in time
// order; events at the same time keep the analyzers' name order.
func analyzeFile(path string, opt analyzeOptions) ([]event, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	samples, err := wav.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var all []event
	for _, name := range sortedKeys(analyzers) {
		evs, err := analyzers[name](samples, opt)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, name, err)
		}
		all = append(all, evs...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].StartMS < all[j].StartMS })
	return all, nil
}

// runGen is `dsp gen KIND [flags] OUT.wav`: the generator parses the
// arguments after KIND (its flags and OUT.wav), and the samples it returns
// are written to OUT.wav, the last argument.
func runGen(args []string, std cli.IO) int {
	if len(args) == 0 {
		fmt.Fprintf(std.Err, "callboxctl dsp gen: missing KIND (one of %s)\n", strings.Join(sortedKeys(generators), ", "))
		return 2
	}
	kind, rest := args[0], args[1:]
	gen, ok := generators[kind]
	if !ok {
		fmt.Fprintf(std.Err, "callboxctl dsp gen: unknown KIND %q (known: %s)\n", kind, strings.Join(sortedKeys(generators), ", "))
		return 2
	}
	samples, err := gen(rest, std)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl dsp gen %s: %v\n", kind, err)
		return 1
	}
	if len(rest) == 0 || !strings.HasSuffix(strings.ToLower(rest[len(rest)-1]), ".wav") {
		fmt.Fprintf(std.Err, "callboxctl dsp gen %s: the last argument must be the output file, OUT.wav\n", kind)
		return 2
	}
	out := rest[len(rest)-1]
	b, err := wav.Encode(samples)
	if err == nil {
		err = os.WriteFile(out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl dsp gen %s: %v\n", kind, err)
		return 1
	}
	return 0
}
