package dspcli

import (
	"flag"
	"fmt"
	"io"

	"callbox/dsp/tone"
	"callbox/firmware/cli"
)

// tone.go adds call-progress and fax tones to `dsp analyze` and `dsp gen`.

func init() {
	analyzers["tone"] = analyzeTones
	generators["tone"] = generateTone
}

// analyzeTones reports `<start_ms> tone <name> <duration_ms>` for each
// call-progress tone of the country's plan and `<start_ms> fax ced|cng`.
func analyzeTones(samples []int16, opt analyzeOptions) ([]event, error) {
	plan, err := tone.PlanFor(opt.Country)
	if err != nil {
		return nil, err
	}
	det := tone.NewDetector(plan, tone.DetectorConfig{})
	fax := tone.NewFaxDetector(tone.FaxConfig{})
	var evs []event
	drain := func() {
		for {
			e, ok := det.Poll()
			if !ok {
				break
			}
			if e.Kind == tone.ToneEnd {
				evs = append(evs, event{StartMS: ms(e.Start), Text: fmt.Sprintf("tone %s %d", e.Tone, ms(e.End)-ms(e.Start))})
			}
		}
		for {
			e, ok := fax.Poll()
			if !ok {
				break
			}
			if e.Kind == tone.FaxCED || e.Kind == tone.FaxCNG {
				evs = append(evs, event{StartMS: ms(e.Start), Text: "fax " + e.Kind.String()})
			}
		}
	}
	const frame = 160
	for i := 0; i < len(samples); i += frame {
		blk := samples[i:min(i+frame, len(samples))]
		det.Process(blk)
		fax.Process(blk)
		drain()
	}
	det.Finish()
	drain()
	return evs, nil
}

func ms(samples int64) int { return int(samples / 8) }

// generateTone is `dsp gen tone [--country CN] --tone NAME [--duration ms]
// [--level dBm0] OUT.wav`.
func generateTone(args []string, std cli.IO) ([]int16, error) {
	fl := flag.NewFlagSet("dsp gen tone", flag.ContinueOnError)
	errOut := std.Err
	if errOut == nil {
		errOut = io.Discard
	}
	fl.SetOutput(errOut)
	country := fl.String("country", "CN", "tone plan: "+fmt.Sprint(tone.Countries()))
	name := fl.String("tone", "", "tone name, e.g. dial, ringback, busy, congestion, callwaiting, sit, stutter")
	duration := fl.Int("duration", 5000, "length in ms")
	level := fl.Float64("level", 0, "level of each frequency in dBm0 (default: the plan's)")
	if err := fl.Parse(args); err != nil {
		return nil, fmt.Errorf("dsp gen tone: %w", err)
	}
	if fl.NArg() > 1 {
		return nil, fmt.Errorf("dsp gen tone: unexpected arguments %q", fl.Args()[1:])
	}
	plan, err := tone.PlanFor(*country)
	if err != nil {
		return nil, err
	}
	if *name == "" {
		return nil, fmt.Errorf("dsp gen tone: --tone is required (valid for %s: %v)", plan.Country, plan.ToneNames())
	}
	t, err := plan.Tone(*name)
	if err != nil {
		return nil, err
	}
	levelSet := false
	fl.Visit(func(f *flag.Flag) { levelSet = levelSet || f.Name == "level" })
	if levelSet {
		if *level > 3 || *level < -60 {
			return nil, fmt.Errorf("dsp gen tone: level %g dBm0 out of range -60..3", *level)
		}
		t = t.WithLevel(*level)
	}
	if *duration <= 0 || *duration > 600000 {
		return nil, fmt.Errorf("dsp gen tone: duration %d ms out of range 1..600000", *duration)
	}
	out := make([]int16, *duration*8)
	tone.NewGenerator(t).Read(out)
	return out, nil
}
