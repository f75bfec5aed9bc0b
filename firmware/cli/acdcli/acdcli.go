// Package acdcli implements "callboxctl acd".
package acdcli

import (
	"context"
	"fmt"

	"callbox/firmware/cli"
)

// Command is "callboxctl acd".
var Command = cli.Command{
	Name:    "acd",
	Summary: "acd tools (being built)",
	Run: func(ctx context.Context, args []string, std cli.IO) int {
		fmt.Fprintln(std.Err, "callboxctl: acd: not built yet")
		return 1
	},
}
