package acdcli

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"callbox/firmware/cli"
)

func runArgs(args ...string) (int, map[string]string, string) {
	var out, errb bytes.Buffer
	code := Command.Run(context.Background(), args, cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	kv := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			kv[k] = v
		}
	}
	return code, kv, errb.String()
}

func num(t *testing.T, kv map[string]string, k string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(kv[k], 64)
	if err != nil {
		t.Fatalf("%s: %q", k, kv[k])
	}
	return f
}

func TestSimulate(t *testing.T) {
	code, kv, stderr := runArgs("simulate", "--agents", "10", "--arrival-rate", "160/h", "--aht", "180",
		"--aht-dist", "exp", "--patience", "inf", "--strategy", "longest_idle", "--wrapup", "0",
		"--duration", "40h", "--seed", "3", "--sl-threshold", "20s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, k := range []string{"offered", "answered", "abandoned", "service_level", "asa_s", "occupancy", "events_per_second"} {
		if _, ok := kv[k]; !ok {
			t.Fatalf("no %s in %v", k, kv)
		}
	}
	// 160 calls/h for 40 h, no abandonment with infinite patience; Erlang C
	// for N=10, A=8 gives a service level of 0.672 at 20 s (wide band here:
	// one 40-hour run varies by ±0.05; the simulate package tests the
	// agreement closely over replications).
	if o := num(t, kv, "offered"); o < 6000 || o > 6800 || num(t, kv, "answered") != o || num(t, kv, "abandoned") != 0 {
		t.Fatalf("counts %v", kv)
	}
	if sl := num(t, kv, "service_level"); sl < 0.55 || sl > 0.8 {
		t.Fatalf("service level %v", sl)
	}
	if occ := num(t, kv, "occupancy"); occ < 0.75 || occ > 0.85 {
		t.Fatalf("occupancy %v", occ)
	}
}

func TestSimulateFlags(t *testing.T) {
	// Patience and wrap-up change the figures in the expected direction.
	_, base, _ := runArgs("simulate", "--agents", "5", "--arrival-rate", "90", "--duration", "20h")
	_, imp, _ := runArgs("simulate", "--agents", "5", "--arrival-rate", "90", "--duration", "20h", "--patience", "60")
	_, wr, _ := runArgs("simulate", "--agents", "5", "--arrival-rate", "90", "--duration", "20h", "--wrapup", "30s")
	if num(t, imp, "abandoned") == 0 || num(t, base, "abandoned") != 0 {
		t.Errorf("patience: base %v impatient %v", base, imp)
	}
	if num(t, wr, "occupancy") <= num(t, base, "occupancy") {
		t.Errorf("wrap-up did not raise occupancy: %v vs %v", wr, base)
	}
	for _, d := range []string{"fixed", "lognormal"} {
		if code, _, e := runArgs("simulate", "--aht-dist", d, "--duration", "1h"); code != 0 {
			t.Errorf("--aht-dist %s: %s", d, e)
		}
	}
	for _, r := range []string{"ring_all", "random", "fewest_calls", "ring_progressive"} {
		if code, kv, e := runArgs("simulate", "--strategy", r, "--duration", "2h"); code != 0 || num(t, kv, "answered") == 0 {
			t.Errorf("--strategy %s: %d %s %v", r, code, e, kv)
		}
	}
}

func TestSimulateScenario(t *testing.T) {
	code, kv, stderr := runArgs("simulate", "--scenario", "../../../telephony/acd/simulate/testdata/scenario.json", "--duration", "2h")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, ok := kv["group_1.timed_out"]; !ok {
		t.Fatalf("no per-group lines: %v", kv)
	}
	if _, ok := kv["vip.service_level"]; !ok {
		t.Fatalf("no per-stream lines: %v", kv)
	}
	if o := num(t, kv, "offered"); o < 350 || o > 600 {
		t.Fatalf("offered %v for 2 h at 235/h", o)
	}
}

func TestSimulateErrors(t *testing.T) {
	for _, args := range [][]string{
		{"simulate", "--agents", "0"},
		{"simulate", "--arrival-rate", "fast"},
		{"simulate", "--aht", "0"},
		{"simulate", "--aht-dist", "gamma"},
		{"simulate", "--patience", "soon"},
		{"simulate", "--strategy", "best"},
		{"simulate", "--scenario", "/nonexistent.json"},
		{"simulate", "extra"},
		{"simulate", "--duration", "0"},
		{"simulate", "--sl-threshold", "soon"},
		{"frobnicate"},
	} {
		if code, _, stderr := runArgs(args...); code == 0 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
