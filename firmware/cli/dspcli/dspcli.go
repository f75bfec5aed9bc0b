// Package dspcli implements "callboxctl dsp".
package dspcli

import (
	"context"
	"fmt"

	"callbox/firmware/cli"
)

// Command is "callboxctl dsp".
var Command = cli.Command{
	Name:    "dsp",
	Summary: "dsp tools (being built)",
	Run: func(ctx context.Context, args []string, std cli.IO) int {
		fmt.Fprintln(std.Err, "callboxctl: dsp: not built yet")
		return 1
	},
}
