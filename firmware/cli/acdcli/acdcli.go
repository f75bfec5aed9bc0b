// Package acdcli implements "callboxctl acd": the staffing simulator
// ("acd simulate") over the real ACD engine.
package acdcli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"callbox/firmware/cli"
	"callbox/telephony/acd"
	"callbox/telephony/acd/simulate"
)

// Command is "callboxctl acd".
var Command = cli.Command{
	Name:    "acd",
	Summary: "call-centre ACD tools: simulate a staffing plan",
	Run:     run,
}

func run(ctx context.Context, args []string, std cli.IO) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(std.Out, "usage: callboxctl acd simulate [flags]   (simulate --help for the flags)")
		return 0
	}
	switch args[0] {
	case "simulate":
		return simulateCmd(args[1:], std)
	}
	fmt.Fprintf(std.Err, "callboxctl acd: unknown subcommand %q\n", args[0])
	return 2
}

// seconds reads "180", "1.5" (seconds) or a Go duration ("3m").
func seconds(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not seconds or a duration", s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// perHour reads "120" or "120/h" calls per hour.
func perHour(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "/h"), 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a rate in calls per hour", s)
	}
	return f, nil
}

func simulateCmd(args []string, std cli.IO) int {
	fs := flag.NewFlagSet("callboxctl acd simulate", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	agents := fs.Int("agents", 10, "number of agents (one group)")
	rate := fs.String("arrival-rate", "160/h", "Poisson arrivals, calls per hour (R or R/h)")
	aht := fs.String("aht", "180", "mean handle time, seconds or a duration")
	dist := fs.String("aht-dist", "exp", "handle-time distribution: exp, fixed or lognormal")
	patience := fs.String("patience", "inf", "mean (exponential) patience, seconds or a duration, or inf")
	strategy := fs.String("strategy", "longest_idle", "routing rule: "+ruleList())
	wrapup := fs.String("wrapup", "0", "wrap-up after each call, seconds or a duration")
	duration := fs.String("duration", "8h", "simulated time during which calls arrive (a duration, or seconds)")
	seed := fs.Uint64("seed", 1, "random seed")
	slFlag := fs.String("sl-threshold", "20s", "service-level threshold (a duration, or seconds)")
	scenario := fs.String("scenario", "", "FILE.json with groups, customer types, skills, schedules and traffic")
	fs.Usage = func() {
		fmt.Fprint(std.Err, `usage: callboxctl acd simulate [flags]

Runs the ACD engine on a virtual clock over Poisson traffic (or a scenario
file) and prints key: value lines: offered, answered, abandoned,
service_level (answered within --sl-threshold / offered), asa_s, occupancy,
events_per_second, overflowed; for scenarios also per traffic stream and
per group (the engine's own figures; timed_out counts overflows).

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(std.Err, "callboxctl acd simulate: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fail := func(err error) int {
		fmt.Fprintf(std.Err, "callboxctl acd simulate: %v\n", err)
		return 2
	}

	var stream simulate.Stream
	dur, err := seconds(*duration)
	if err != nil || dur <= 0 {
		return fail(fmt.Errorf("--duration: want a positive duration, got %q", *duration))
	}
	sl, err := seconds(*slFlag)
	if err != nil {
		return fail(fmt.Errorf("--sl-threshold: %w", err))
	}
	if stream.ArrivalRate, err = perHour(*rate); err != nil {
		return fail(fmt.Errorf("--arrival-rate: %w", err))
	}
	if stream.AHT, err = seconds(*aht); err != nil || stream.AHT <= 0 {
		return fail(fmt.Errorf("--aht: want a positive handle time, got %q", *aht))
	}
	if stream.Dist, err = simulate.ParseDist(*dist); err != nil {
		return fail(err)
	}
	if stream.Patience, err = simulate.ParsePatience(*patience); err != nil {
		return fail(err)
	}
	rule, err := acd.ParseRule(*strategy)
	if err != nil {
		return fail(err)
	}
	wrap, err := seconds(*wrapup)
	if err != nil {
		return fail(fmt.Errorf("--wrapup: %w", err))
	}

	var p simulate.Params
	if *scenario != "" {
		p, err = loadScenario(*scenario)
		if err != nil {
			return fail(err)
		}
		if len(p.Streams) == 0 {
			p.Streams = []simulate.Stream{stream}
		}
		if p.Duration == 0 || set["duration"] {
			p.Duration = dur
		}
		if p.SLThreshold == 0 || set["sl-threshold"] {
			p.SLThreshold = sl
		}
	} else {
		if *agents <= 0 {
			return fail(fmt.Errorf("--agents: want at least 1, got %d", *agents))
		}
		p = simulate.Simple(*agents, rule, wrap, stream)
		p.Duration, p.SLThreshold = dur, sl
	}
	p.Seed = *seed
	res, err := simulate.Run(p)
	if err != nil {
		return fail(err)
	}
	report(std.Out, res, *scenario != "")
	return 0
}

func loadScenario(name string) (simulate.Params, error) {
	f, err := os.Open(name)
	if err != nil {
		return simulate.Params{}, err
	}
	defer f.Close()
	return simulate.LoadScenario(f)
}

func ruleList() string {
	var names []string
	for _, r := range acd.Rules() {
		names = append(names, r.String())
	}
	return strings.Join(names, ", ")
}

// report prints the `key: value` lines.
func report(w io.Writer, r simulate.Result, perStream bool) {
	fmt.Fprintf(w, "offered: %d\n", r.Offered)
	fmt.Fprintf(w, "answered: %d\n", r.Answered)
	fmt.Fprintf(w, "abandoned: %d\n", r.Abandoned)
	fmt.Fprintf(w, "service_level: %.4f\n", r.ServiceLevel)
	fmt.Fprintf(w, "asa_s: %.1f\n", r.ASA.Seconds())
	fmt.Fprintf(w, "occupancy: %.4f\n", r.Occupancy)
	fmt.Fprintf(w, "events_per_second: %.0f\n", r.EventsPerSecond())
	fmt.Fprintf(w, "overflowed: %d\n", r.Overflowed)
	if !perStream {
		return
	}
	for _, g := range r.Groups {
		name := "group_" + strconv.Itoa(g.Group)
		fmt.Fprintf(w, "%s.offered: %d\n", name, g.Offered)
		fmt.Fprintf(w, "%s.answered: %d\n", name, g.Answered)
		fmt.Fprintf(w, "%s.abandoned: %d\n", name, g.Abandoned)
		fmt.Fprintf(w, "%s.timed_out: %d\n", name, g.TimedOut)
		fmt.Fprintf(w, "%s.service_level: %.4f\n", name, g.ServiceLevel)
	}
	for _, s := range r.Streams {
		name := strings.ReplaceAll(s.Name, " ", "_")
		fmt.Fprintf(w, "%s.offered: %d\n", name, s.Offered)
		fmt.Fprintf(w, "%s.answered: %d\n", name, s.Answered)
		fmt.Fprintf(w, "%s.abandoned: %d\n", name, s.Abandoned)
		fmt.Fprintf(w, "%s.service_level: %.4f\n", name, s.ServiceLevel)
		fmt.Fprintf(w, "%s.asa_s: %.1f\n", name, s.ASA.Seconds())
	}
}
