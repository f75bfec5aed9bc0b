// Package promptcli implements "callboxctl prompts": generating the system
// prompts with espeak-ng (what `make prompts` and the image build run),
// listing the catalogue, converting a WAV file as an upload would be, and
// trying the sayings.
package promptcli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"callbox/dsp/wav"
	"callbox/firmware/cli"
	"callbox/telephony/prompt"
)

// Command is "callboxctl prompts".
var Command = cli.Command{
	Name:    "prompts",
	Summary: "generate the system prompts, list the catalogue, convert WAV files, try the sayings",
	Run:     run,
}

func run(ctx context.Context, args []string, std cli.IO) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(std.Out)
		return 0
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "generate":
		return generate(ctx, args, std)
	case "list":
		return list(args, std)
	case "convert":
		return convert(args, std)
	case "say":
		return say(args, std)
	}
	fmt.Fprintf(std.Err, "callboxctl prompts: unknown subcommand %q\n", sub)
	usage(std.Err)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: callboxctl prompts generate [--data DIR | --out DIR] [--wpm N] [--voice-zh V] [--voice-en V] [-v]
       callboxctl prompts list [--data DIR] [--system DIR] [--lang zh-CN|en]
       callboxctl prompts convert IN.wav OUT.wav
       callboxctl prompts say [--lang zh-CN|en] number|count|digits|position|wait|agent|messages VALUE

generate speaks the system prompts (their names and texts are built in) with
espeak-ng into DIR/prompts/system (DIR is the box's data directory, ./var by
default), or into --out, remaking only those whose text or voice changed.
make prompts runs it; the image build runs it with --out pointing at the
image's /usr/share/callbox/prompts, where callboxd looks on hardware.

list shows the catalogue of one language: each prompt's name, kind, length
and text; "missing" marks a system prompt not generated.

convert makes an 8 kHz mono 16-bit WAV of a WAV file in any common encoding,
rate and channel count, as an upload to the box would be converted.

say prints the prompts a saying plays and what they say: a number (1005),
a count (2), digits (1088), a queue position (3), a wait in minutes (4),
an agent's work number (1088) or a voicemail message count (2).
`)
}

func flags(name string, std cli.IO) *flag.FlagSet {
	fs := flag.NewFlagSet("prompts "+name, flag.ContinueOnError)
	fs.SetOutput(std.Err)
	return fs
}

func generate(ctx context.Context, args []string, std cli.IO) int {
	fs := flags("generate", std)
	data := fs.String("data", "./var", "the box's data directory")
	out := fs.String("out", "", "the directory of the system prompts (instead of DIR/prompts/system)")
	wpm := fs.Int("wpm", 0, "speaking rate in words a minute (default 150)")
	zh := fs.String("voice-zh", "", "espeak-ng voice for zh-CN (default cmn-latn-pinyin)")
	en := fs.String("voice-en", "", "espeak-ng voice for en (default en)")
	verbose := fs.Bool("v", false, "name each prompt made")
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		return 2
	}
	e, err := prompt.NewEspeak()
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl prompts generate: %v\n", err)
		return 1
	}
	e.WPM = *wpm
	e.Voices = map[string]string{prompt.Chinese: *zh, prompt.English: *en}
	dir := *out
	if dir == "" {
		dir = filepath.Join(prompt.DirIn(*data), prompt.SystemDir)
	}
	start := time.Now()
	progress := func(name, lang string) {
		if *verbose {
			fmt.Fprintf(std.Out, "  %s/%s\n", lang, name)
		}
	}
	res, err := prompt.Generate(ctx, dir, e, progress)
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl prompts generate: %v (%d made before)\n", err, res.Made)
		return 1
	}
	fmt.Fprintf(std.Out, "prompts: %d made, %d unchanged, %d removed in %s (%s; %s) in %v\n",
		res.Made, res.Kept, res.Removed, dir, e.Voice(prompt.Chinese), e.Voice(prompt.English), time.Since(start).Round(100*time.Millisecond))
	return 0
}

func list(args []string, std cli.IO) int {
	fs := flags("list", std)
	data := fs.String("data", "./var", "the box's data directory")
	system := fs.String("system", "", "the directory of the system prompts (default DIR/prompts/system)")
	lang := fs.String("lang", prompt.Chinese, "language")
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		return 2
	}
	c, err := prompt.Open(prompt.DirIn(*data), prompt.Options{SystemDir: *system})
	if err == nil {
		var infos []prompt.Info
		if infos, err = c.List(*lang); err == nil {
			tw := tabwriter.NewWriter(std.Out, 0, 8, 2, ' ', 0)
			for _, i := range infos {
				kind := i.Kind
				if i.Missing {
					kind = "missing"
				} else if i.Custom && i.System {
					kind += " (replaces system)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%.1fs\t%s\n", i.Name, kind, i.Duration.Seconds(), i.Text)
			}
			err = tw.Flush()
		}
	}
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl prompts list: %v\n", err)
		return 1
	}
	return 0
}

func convert(args []string, std cli.IO) int {
	if len(args) != 2 {
		fmt.Fprintln(std.Err, "usage: callboxctl prompts convert IN.wav OUT.wav")
		return 2
	}
	in, err := os.ReadFile(args[0])
	if err == nil {
		var up prompt.Upload
		if up, err = prompt.Convert(in); err == nil {
			var out []byte
			if out, err = wav.Encode(up.Samples); err == nil {
				err = os.WriteFile(args[1], out, 0o644)
			}
			if err == nil {
				fmt.Fprintf(std.Out, "%s: %s -> %s: 8000 Hz mono 16-bit, %.2f s\n", args[0], up.Source, args[1],
					float64(len(up.Samples))/prompt.SampleRate)
			}
		}
	}
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl prompts convert: %v\n", err)
		return 1
	}
	return 0
}

func say(args []string, std cli.IO) int {
	fs := flags("say", std)
	lang := fs.String("lang", prompt.Chinese, "language")
	if fs.Parse(cli.HoistFlags(args, "lang")) != nil || fs.NArg() != 2 {
		fmt.Fprintln(std.Err, "usage: callboxctl prompts say [--lang L] number|count|digits|position|wait|agent|messages VALUE")
		return 2
	}
	l, err := prompt.Lang(*lang)
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl prompts say: %v\n", err)
		return 2
	}
	what, value := fs.Arg(0), fs.Arg(1)
	n, nerr := strconv.Atoi(value)
	var names []string
	switch what {
	case "digits":
		names = prompt.Digits(value, l)
	case "agent":
		names = prompt.Agent(value, l)
	case "number", "count", "position", "wait", "messages":
		if nerr != nil || n < 0 {
			fmt.Fprintf(std.Err, "callboxctl prompts say: %s needs a whole number, not %q\n", what, value)
			return 2
		}
		names = map[string]func(int, string) []string{
			"number": prompt.Number, "count": prompt.Count, "position": prompt.Position, "messages": prompt.Messages,
			"wait": func(n int, l string) []string { return prompt.Wait(time.Duration(n)*time.Minute, l) },
		}[what](n, l)
	default:
		fmt.Fprintf(std.Err, "callboxctl prompts say: unknown saying %q\n", what)
		return 2
	}
	sep := ""
	if l == prompt.English {
		sep = " "
	}
	texts := make([]string, len(names))
	for i, name := range names {
		p, _ := prompt.SystemNamed(name)
		texts[i] = p.Text(l)
	}
	fmt.Fprintf(std.Out, "%s\n%s\n", strings.Join(names, " "), strings.Join(texts, sep))
	return 0
}
