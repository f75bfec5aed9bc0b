package dspcli

import "callbox/firmware/cli"

// The dsp subcommands are assembled from one file per DSP area (dtmf.go,
// tone.go, callerid.go, echo.go), each registering what it adds in init, so
// the areas stay independent of each other.

// event is one line of `callboxctl dsp analyze`: "<StartMS> <Text>".
type event struct {
	StartMS int
	Text    string
}

// analyzeOptions are the flags of `dsp analyze` every analyzer may consult.
type analyzeOptions struct {
	Country string // tone plan, "CN" by default
	CID     string // auto|bell202|v23|dtmf
}

// analyzer finds one kind of event in 8 kHz linear audio.
type analyzer func(samples []int16, opt analyzeOptions) ([]event, error)

// generator parses its own flags and returns 8 kHz linear audio for
// `dsp gen KIND [flags] OUT.wav`.
type generator func(args []string, std cli.IO) ([]int16, error)

var (
	// analyzers run in turn over the whole file; their events are merged by time.
	analyzers = map[string]analyzer{}
	// generators are keyed by the KIND of `dsp gen KIND`.
	generators = map[string]generator{}
	// subcommands are further `dsp NAME` commands such as "echo".
	subcommands = map[string]func(args []string, std cli.IO) int{}
)
