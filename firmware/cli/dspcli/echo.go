package dspcli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"

	"callbox/dsp/echo"
	"callbox/dsp/wav"
	"callbox/firmware/cli"
)

// echo.go adds `dsp echo`: run the line echo canceller over a recording of
// the two directions of a call, as an installer takes it from a port.

func init() {
	subcommands["echo"] = runEcho
}

const echoUsage = `usage: callboxctl dsp echo [--taps N] [--nlp] --far FAR.wav --near NEAR.wav OUT.wav

Runs the echo canceller over a recorded pair: FAR.wav is what was sent to
the line, NEAR.wav what came back from it (with the echo). Writes the
residual to OUT.wav and prints the echo return loss enhancement (ERLE).
`

// runEcho is `dsp echo`.
func runEcho(args []string, std cli.IO) int {
	errOut := std.Err
	if errOut == nil {
		errOut = io.Discard
	}
	fl := flag.NewFlagSet("dsp echo", flag.ContinueOnError)
	fl.SetOutput(errOut)
	fl.Usage = func() { fmt.Fprint(errOut, echoUsage); fl.PrintDefaults() }
	taps := fl.Int("taps", 256, fmt.Sprintf("echo tail in samples (%d..%d, 8 per ms)", echo.MinTaps, echo.MaxTaps))
	nlp := fl.Bool("nlp", false, "run the non-linear processor and comfort noise (the ERLE then includes them)")
	farPath := fl.String("far", "", "WAV of the signal sent to the line")
	nearPath := fl.String("near", "", "WAV of the signal received from the line")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *farPath == "" || *nearPath == "" || fl.NArg() != 1 {
		fl.Usage()
		return 2
	}
	res, err := cancelFiles(*taps, *nlp, *farPath, *nearPath, fl.Arg(0))
	if err != nil {
		fmt.Fprintf(errOut, "callboxctl: dsp echo: %v\n", err)
		return 1
	}
	out := std.Out
	if out == nil {
		out = io.Discard
	}
	fmt.Fprint(out, res)
	return 0
}

// echoResult is what `dsp echo` reports.
type echoResult struct {
	Taps      int
	Samples   int
	ERLE      float64 // whole file, dB
	Converged float64 // after the first second, dB (NaN if the file is shorter)
	ToneOffMS int     // when the tone disabler switched off, -1 if never
	Note      string
}

func (r echoResult) String() string {
	s := fmt.Sprintf("taps %d, %d samples (%.3f s)\n", r.Taps, r.Samples, float64(r.Samples)/wav.SampleRate)
	if r.Note != "" {
		s += r.Note + "\n"
	}
	s += fmt.Sprintf("ERLE %.1f dB\n", r.ERLE)
	if !math.IsNaN(r.Converged) {
		s += fmt.Sprintf("ERLE after the first second %.1f dB\n", r.Converged)
	}
	if r.ToneOffMS >= 0 {
		s += fmt.Sprintf("answer tone with phase reversals: canceller disabled at %d ms\n", r.ToneOffMS)
	}
	return s
}

// cancelFiles reads the pair, runs the canceller and writes the residual.
func cancelFiles(taps int, nlp bool, farPath, nearPath, outPath string) (echoResult, error) {
	far, err := readEchoWAV(farPath)
	if err != nil {
		return echoResult{}, err
	}
	near, err := readEchoWAV(nearPath)
	if err != nil {
		return echoResult{}, err
	}
	res, resid, err := cancelEcho(taps, nlp, far, near)
	if err != nil {
		return res, err
	}
	b, err := wav.Encode(resid)
	if err != nil {
		return res, err
	}
	if err := os.WriteFile(outPath, b, 0o644); err != nil {
		return res, err
	}
	return res, nil
}

func readEchoWAV(path string) ([]int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := wav.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// cancelEcho runs a canceller over far and near in 10 ms blocks and
// measures the ERLE: the power of the near input over that of the output.
func cancelEcho(taps int, nlp bool, far, near []int16) (echoResult, []int16, error) {
	c, err := echo.New(taps, echo.WithNLP(nlp))
	if err != nil {
		return echoResult{}, nil, err
	}
	res := echoResult{Taps: taps, ToneOffMS: -1, Converged: math.NaN()}
	n := min(len(far), len(near))
	if len(far) != len(near) {
		res.Note = fmt.Sprintf("far has %d samples, near %d: using the first %d", len(far), len(near), n)
	}
	res.Samples = n
	out := make([]int16, n)
	const block = 80
	for i := 0; i < n; i += block {
		j := min(i+block, n)
		c.Process(out[i:j], near[i:j], far[i:j])
		if res.ToneOffMS < 0 && c.ToneDisabled() {
			res.ToneOffMS = j / 8
		}
	}
	res.ERLE = erleDB(near, out)
	if n > wav.SampleRate {
		res.Converged = erleDB(near[wav.SampleRate:n], out[wav.SampleRate:])
	}
	return res, out, nil
}

// erleDB is 10 log10 of the power ratio, with a floor so that silence in
// either gives a finite figure.
func erleDB(in, out []int16) float64 {
	var pi, po float64
	for i := range out {
		pi += float64(in[i]) * float64(in[i])
		po += float64(out[i]) * float64(out[i])
	}
	return 10 * math.Log10(max(pi, 1)/max(po, 1))
}
