// Package ivrcli implements "callboxctl ivr".
package ivrcli

import (
	"context"
	"fmt"

	"callbox/firmware/cli"
)

// Command is "callboxctl ivr".
var Command = cli.Command{
	Name:    "ivr",
	Summary: "ivr tools (being built)",
	Run: func(ctx context.Context, args []string, std cli.IO) int {
		fmt.Fprintln(std.Err, "callboxctl: ivr: not built yet")
		return 1
	},
}
