package dspcli

import (
	"flag"
	"fmt"
	"io"
	"time"

	"callbox/dsp/dtmf"
	"callbox/firmware/cli"
)

// dtmf.go adds DTMF digits to `dsp analyze` and `dsp gen`.

func init() {
	analyzers["dtmf"] = analyzeDTMF
	generators["dtmf"] = generateDTMF
}

// analyzeDTMF reports `<start_ms> dtmf <digit> <duration_ms>` per digit.
func analyzeDTMF(samples []int16, _ analyzeOptions) ([]event, error) {
	det := dtmf.NewDetector(dtmf.DetectorConfig{})
	var found []dtmf.Event
	const frame = 160
	for i := 0; i < len(samples); i += frame {
		found = det.Process(samples[i:min(i+frame, len(samples))], found)
	}
	found = det.Flush(found)
	var evs []event
	for _, e := range found {
		if e.Kind == dtmf.DigitEnd {
			evs = append(evs, event{
				StartMS: int(e.Start * 1000 / dtmf.SampleRate),
				Text:    fmt.Sprintf("dtmf %c %d", e.Digit, e.Duration()*1000/dtmf.SampleRate),
			})
		}
	}
	return evs, nil
}

// generateDTMF is `dsp gen dtmf --digits D [--level dBm0] [--twist dB]
// [--on ms] [--off ms] OUT.wav`.
func generateDTMF(args []string, std cli.IO) ([]int16, error) {
	fl := flag.NewFlagSet("dsp gen dtmf", flag.ContinueOnError)
	errOut := std.Err
	if errOut == nil {
		errOut = io.Discard
	}
	fl.SetOutput(errOut)
	digits := fl.String("digits", "", "digits to send: 0-9, *, #, A-D")
	level := fl.Float64("level", -10, "level of the low tone in dBm0")
	twist := fl.Float64("twist", 0, "dB the high tone is above the low one")
	on := fl.Int("on", 100, "tone length per digit, ms")
	off := fl.Int("off", 100, "pause after each digit, ms")
	if err := fl.Parse(args); err != nil {
		return nil, fmt.Errorf("dsp gen dtmf: %w", err)
	}
	if fl.NArg() > 1 {
		return nil, fmt.Errorf("dsp gen dtmf: unexpected arguments %q", fl.Args()[1:])
	}
	if *digits == "" {
		return nil, fmt.Errorf("dsp gen dtmf: --digits is required (any of %s)", dtmf.Digits)
	}
	if *level > 0 || *level < -60 {
		return nil, fmt.Errorf("dsp gen dtmf: level %g dBm0 out of range -60..0", *level)
	}
	if *on <= 0 || *on > 60000 || *off < 0 || *off > 60000 {
		return nil, fmt.Errorf("dsp gen dtmf: --on %d and --off %d ms: want 1..60000 and 0..60000", *on, *off)
	}
	return dtmf.Synthesize(*digits, dtmf.GeneratorConfig{
		Level: *level,
		Twist: *twist,
		On:    time.Duration(*on) * time.Millisecond,
		Off:   time.Duration(*off) * time.Millisecond,
	})
}
