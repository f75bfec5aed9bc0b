// Package boardcli implements "callboxctl board".
package boardcli

import (
	"context"
	"fmt"

	"callbox/firmware/cli"
)

// Command is "callboxctl board".
var Command = cli.Command{
	Name:    "board",
	Summary: "board tools (being built)",
	Run: func(ctx context.Context, args []string, std cli.IO) int {
		fmt.Fprintln(std.Err, "callboxctl: board: not built yet")
		return 1
	},
}
