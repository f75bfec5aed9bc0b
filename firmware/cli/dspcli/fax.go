package dspcli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"callbox/dsp/fax/t30"
	"callbox/dsp/fax/t4"
	"callbox/dsp/fax/tiff"
	"callbox/dsp/wav"
	"callbox/firmware/cli"
	"callbox/telephony/fax"
)

// fax.go adds `dsp fax send` and `dsp fax receive`: a whole fax call made
// to a WAV file, and a recorded fax decoded from one.

func init() {
	subcommands["fax"] = runFax
}

const faxUsage = `usage: callboxctl dsp fax send [flags] DOC... OUT.wav
       callboxctl dsp fax receive [flags] IN.wav OUT.tif

send: fax DOC (TIFF, PNG or JPEG files; every TIFF page and every image is
a page) through a whole T.30 call between our sender and our receiver in
memory, and write the sender's audio (what goes down the line) to OUT.wav.
Prints the exchange and the result.

receive: decode a recorded fax call passively (the sender's direction, or
both mixed, 8 kHz mono) and write the pages to OUT.tif (TIFF Class F).
`

func runFax(args []string, std cli.IO) int {
	errOut, out := std.Err, std.Out
	if errOut == nil {
		errOut = io.Discard
	}
	if out == nil {
		out = io.Discard
	}
	if len(args) == 0 {
		fmt.Fprint(errOut, faxUsage)
		return 2
	}
	switch args[0] {
	case "send":
		return faxSend(args[1:], out, errOut)
	case "receive":
		return faxReceive(args[1:], out, errOut)
	case "help", "-h", "--help":
		fmt.Fprint(out, faxUsage)
		return 0
	}
	fmt.Fprintf(errOut, "callboxctl dsp fax: unknown subcommand %q\n%s", args[0], faxUsage)
	return 2
}

func faxSend(args []string, out, errOut io.Writer) int {
	fl := flag.NewFlagSet("dsp fax send", flag.ContinueOnError)
	fl.SetOutput(errOut)
	fl.Usage = func() { fmt.Fprint(errOut, faxUsage); fl.PrintDefaults() }
	level := fl.Float64("level", t30.DefaultLevel, "transmit level, dBm0 (-43 to 0)")
	modems := fl.String("modems", "v29,v27ter", "image modems offered: v29, v27ter or both")
	mh := fl.Bool("mh", false, "code pages in MH only (not MR or MMR)")
	noECM := fl.Bool("no-ecm", false, "no error correction mode (with it, pages go as MMR in 256-octet frames)")
	standard := fl.Bool("standard", false, "send at standard resolution (98 lines/inch) instead of fine")
	ident := fl.String("ident", "", "our identity (TSI): up to 20 digits, '+' and spaces")
	rxOut := fl.String("receiver-out", "", "also write the receiver's audio to this WAV file")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fl.NArg() < 2 || !strings.HasSuffix(strings.ToLower(fl.Arg(fl.NArg()-1)), ".wav") {
		fmt.Fprintln(errOut, "callboxctl dsp fax send: want DOC... OUT.wav")
		return 2
	}
	m, err := parseModems(*modems)
	if err != nil {
		fmt.Fprintf(errOut, "callboxctl dsp fax send: %v\n", err)
		return 2
	}
	if *level < -43 || *level > 0 {
		fmt.Fprintf(errOut, "callboxctl dsp fax send: level %g dBm0 out of range -43..0\n", *level)
		return 2
	}
	yres := t4.YResFine
	if *standard {
		yres = t4.YResStandard
	}
	var pages []*t4.Page
	for _, path := range fl.Args()[:fl.NArg()-1] {
		ps, err := loadDocument(path, yres)
		if err != nil {
			fmt.Fprintf(errOut, "callboxctl dsp fax send: %v\n", err)
			return 1
		}
		pages = append(pages, ps...)
	}
	res, txAudio, rxAudio, log, err := faxCall(t30.Config{Calling: true, Pages: pages, Ident: *ident, Level: *level, Modems: m, NoMR: *mh, NoECM: *noECM})
	if err != nil {
		fmt.Fprintf(errOut, "callboxctl dsp fax send: %v\n", err)
		return 1
	}
	fmt.Fprint(out, log)
	if err := writeWAV(fl.Arg(fl.NArg()-1), txAudio); err != nil {
		fmt.Fprintf(errOut, "callboxctl dsp fax send: %v\n", err)
		return 1
	}
	if *rxOut != "" {
		if err := writeWAV(*rxOut, rxAudio); err != nil {
			fmt.Fprintf(errOut, "callboxctl dsp fax send: %v\n", err)
			return 1
		}
	}
	if res.Err != nil {
		fmt.Fprintf(errOut, "callboxctl dsp fax send: %v\n", res.Err)
		return 1
	}
	ecm := ""
	if res.ECM {
		ecm = " with error correction"
	}
	fmt.Fprintf(out, "sent %d pages at %d bit/s, %v%s, %s resolution, in %.1f s\n", res.Pages, res.Rate, res.Coding, ecm, resolution(res.Fine), float64(len(txAudio))/wav.SampleRate)
	return 0
}

func resolution(fine bool) string {
	if fine {
		return "fine"
	}
	return "standard"
}

func parseModems(s string) (t30.Modems, error) {
	var m t30.Modems
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(strings.ToLower(name)) {
		case "v29":
			m |= t30.V29
		case "v27ter":
			m |= t30.V27ter
		default:
			return 0, fmt.Errorf("--modems %q: want v29, v27ter or both", s)
		}
	}
	return m, nil
}

// loadDocument reads a TIFF, PNG or JPEG file as fax pages at yres (see
// fax.Pages).
func loadDocument(path string, yres int) ([]*t4.Page, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pages, err := fax.Pages(b, yres)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pages, nil
}

// faxCall runs a sender configured by cfg against our receiver in memory
// until both are done (at most an hour of audio), and returns the sender's
// result, both directions' audio and the exchange as text.
func faxCall(cfg t30.Config) (t30.Result, []int16, []int16, string, error) {
	snd, err := t30.New(cfg)
	if err != nil {
		return t30.Result{}, nil, nil, "", err
	}
	rcv, err := t30.New(t30.Config{Ident: "", Modems: cfg.Modems, NoMR: cfg.NoMR, NoECM: cfg.NoECM})
	if err != nil {
		return t30.Result{}, nil, nil, "", err
	}
	txAudio, rxAudio := t30.Connect(snd, rcv, 3600*wav.SampleRate)
	// Both sides' events in time order.
	type line struct {
		at   int64
		side string
		text string
	}
	var lines []line
	for _, e := range snd.Events() {
		lines = append(lines, line{e.At, "sender  ", e.Text})
	}
	for _, e := range rcv.Events() {
		lines = append(lines, line{e.At, "receiver", e.Text})
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at < lines[j].at })
	var log strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&log, "%8.3f %s %s\n", float64(l.at)/wav.SampleRate, l.side, l.text)
	}
	return snd.Result(), txAudio, rxAudio, log.String(), nil
}

func writeWAV(path string, samples []int16) error {
	b, err := wav.Encode(samples)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func faxReceive(args []string, out, errOut io.Writer) int {
	fl := flag.NewFlagSet("dsp fax receive", flag.ContinueOnError)
	fl.SetOutput(errOut)
	fl.Usage = func() { fmt.Fprint(errOut, faxUsage); fl.PrintDefaults() }
	coding := fl.String("coding", "mh", "coding of the TIFF written: mh, mr or mmr")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fl.NArg() != 2 {
		fmt.Fprintln(errOut, "callboxctl dsp fax receive: want IN.wav OUT.tif")
		return 2
	}
	c, err := t4.ParseCoding(*coding)
	if err != nil {
		fmt.Fprintf(errOut, "callboxctl dsp fax receive: %v\n", err)
		return 2
	}
	b, err := os.ReadFile(fl.Arg(0))
	if err != nil {
		fmt.Fprintf(errOut, "callboxctl dsp fax receive: %v\n", err)
		return 1
	}
	samples, err := wav.Decode(b)
	if err != nil {
		fmt.Fprintf(errOut, "callboxctl dsp fax receive: %s: %v\n", fl.Arg(0), err)
		return 1
	}
	m := t30.NewMonitor()
	for i := 0; i < len(samples); i += 160 {
		m.Process(samples[i:min(i+160, len(samples))])
	}
	m.Finish()
	for _, e := range m.Events() {
		fmt.Fprintf(out, "%8.3f %s\n", float64(e.At)/wav.SampleRate, e.Text)
	}
	pages, _ := m.Pages()
	if len(pages) == 0 {
		fmt.Fprintf(errOut, "callboxctl dsp fax receive: %s: no fax pages found\n", fl.Arg(0))
		return 1
	}
	data, err := tiff.Encode(pages, tiff.WriteOptions{Coding: c, Software: "callbox"})
	if err == nil {
		err = os.WriteFile(fl.Arg(1), data, 0o644)
	}
	if err != nil {
		fmt.Fprintf(errOut, "callboxctl dsp fax receive: %v\n", err)
		return 1
	}
	fmt.Fprintf(out, "%d pages written to %s\n", len(pages), filepath.Base(fl.Arg(1)))
	return 0
}
