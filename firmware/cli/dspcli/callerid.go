package dspcli

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"callbox/dsp/callerid"
	"callbox/dsp/callerid/fsk"
	"callbox/firmware/cli"
)

// callerid.go adds caller ID to `dsp analyze` and `dsp gen`.

func init() {
	analyzers["cid"] = analyzeCallerID
	generators["cid"] = generateCallerID
}

// cidSchemes lists the schemes `--cid` asks for; auto (or nothing) is all.
func cidSchemes(opt string) ([]string, error) {
	switch strings.ToLower(opt) {
	case "", "auto":
		return []string{"bell202", "v23", "dtmf"}, nil
	case "bell202", "v23", "dtmf":
		return []string{strings.ToLower(opt)}, nil
	}
	return nil, fmt.Errorf("dsp analyze: --cid %q: want auto, bell202, v23 or dtmf", opt)
}

var cidModems = map[string]fsk.Modem{"bell202": fsk.Bell202, "v23": fsk.V23}

// analyzeCallerID reports `<start_ms> cid number=<n> name=<x> time=<MMDDHHMM>`
// for each caller ID message, absent fields omitted and a withheld number
// (or, failing that, name) given as reason=private|unavailable.
func analyzeCallerID(samples []int16, opt analyzeOptions) ([]event, error) {
	schemes, err := cidSchemes(opt.CID)
	if err != nil {
		return nil, err
	}
	var evs []event
	for _, s := range schemes {
		var msgs []callerid.Message
		var starts []int64
		if s == "dtmf" {
			msgs, starts, _ = callerid.DecodeDTMF(samples)
		} else {
			msgs, starts, _ = callerid.DecodeFSK(samples, cidModems[s])
		}
		for i, m := range msgs {
			evs = addCID(evs, event{StartMS: int(starts[i] / 8), Text: cidText(m)})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].StartMS < evs[j].StartMS })
	return evs, nil
}

// addCID appends e unless the same message was already found at about the
// same time: each FSK receiver also hears the other modem's tones.
func addCID(evs []event, e event) []event {
	for _, o := range evs {
		if o.Text == e.Text && o.StartMS-e.StartMS < 500 && e.StartMS-o.StartMS < 500 {
			return evs
		}
	}
	return append(evs, e)
}

func cidText(m callerid.Message) string {
	var b strings.Builder
	b.WriteString("cid")
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, " %s=%s", k, v)
		}
	}
	reason := m.NumberReason
	if reason == callerid.NoReason && m.Number == "" {
		reason = m.NameReason
	}
	field("number", m.Number)
	field("reason", reason.String())
	field("name", m.Name)
	field("time", m.Time)
	return b.String()
}

// generateCallerID is `dsp gen cid [--scheme bell202|v23|dtmf] [--format
// sdmf|mdmf] [--number N] [--name X] [--time MMDDHHMM] [--reason
// private|unavailable] [--level dBm0] [--pad ms] OUT.wav`. DTMF caller ID
// carries only the number or its absence reason, framed A...C.
func generateCallerID(args []string, std cli.IO) ([]int16, error) {
	fl := flag.NewFlagSet("dsp gen cid", flag.ContinueOnError)
	errOut := std.Err
	if errOut == nil {
		errOut = io.Discard
	}
	fl.SetOutput(errOut)
	scheme := fl.String("scheme", "bell202", "bell202, v23 or dtmf")
	format := fl.String("format", "mdmf", "message format: sdmf or mdmf (FSK)")
	number := fl.String("number", "", "calling number")
	name := fl.String("name", "", "calling name (mdmf)")
	when := fl.String("time", "", "date and time MMDDHHMM (required by sdmf)")
	reason := fl.String("reason", "", "number withheld: private or unavailable")
	level := fl.Float64("level", 0, "level in dBm0 (default -13.5 for FSK, -7 per tone for DTMF)")
	pad := fl.Int("pad", 100, "silence before and after, ms")
	if err := fl.Parse(args); err != nil {
		return nil, fmt.Errorf("dsp gen cid: %w", err)
	}
	if fl.NArg() > 1 {
		return nil, fmt.Errorf("dsp gen cid: unexpected arguments %q", fl.Args()[1:])
	}
	levelSet := false
	fl.Visit(func(f *flag.Flag) { levelSet = levelSet || f.Name == "level" })
	if levelSet && (*level > 3 || *level < -60) {
		return nil, fmt.Errorf("dsp gen cid: level %g dBm0 out of range -60..3", *level)
	}
	if *pad < 0 || *pad > 60000 {
		return nil, fmt.Errorf("dsp gen cid: pad %d ms out of range 0..60000", *pad)
	}
	m := callerid.Message{Number: *number, Name: *name, Time: *when}
	switch *reason {
	case "":
	case "private":
		m.NumberReason = callerid.Private
	case "unavailable":
		m.NumberReason = callerid.Unavailable
	default:
		return nil, fmt.Errorf("dsp gen cid: --reason %q: want private or unavailable", *reason)
	}
	out := make([]int16, *pad*8)
	var err error
	switch *scheme {
	case "bell202", "v23":
		switch *format {
		case "sdmf":
			m.Format = callerid.SDMF
		case "mdmf":
			m.Format = callerid.MDMF
		default:
			return nil, fmt.Errorf("dsp gen cid: --format %q: want sdmf or mdmf", *format)
		}
		cfg := callerid.BellcoreFSK
		if *scheme == "v23" {
			cfg = callerid.ETSIFSK
		}
		if levelSet {
			cfg.LevelDBm0 = *level
		}
		out, err = callerid.AppendFSK(out, m, cfg)
	case "dtmf":
		cfg := callerid.DefaultDTMF
		if levelSet {
			cfg.LevelDBm0 = *level
		}
		out, err = callerid.AppendDTMF(out, m, cfg)
	default:
		return nil, fmt.Errorf("dsp gen cid: --scheme %q: want bell202, v23 or dtmf", *scheme)
	}
	if err != nil {
		return nil, fmt.Errorf("dsp gen cid: %w", err)
	}
	return append(out, make([]int16, *pad*8)...), nil
}
