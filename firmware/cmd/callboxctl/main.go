// Command callboxctl is the maintenance CLI: DSP diagnostics, board probes,
// ACD simulation, IVR checks, configuration import/export, the simulated
// box by hand, update bundles, updates, backup and restore.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"callbox/firmware/cli"
	"callbox/firmware/cli/acdcli"
	"callbox/firmware/cli/backupcli"
	"callbox/firmware/cli/boardcli"
	"callbox/firmware/cli/configcli"
	"callbox/firmware/cli/dspcli"
	"callbox/firmware/cli/ivrcli"
	"callbox/firmware/cli/otacli"
	"callbox/firmware/cli/promptcli"
	"callbox/firmware/cli/simcli"
	"callbox/firmware/version"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "--version" || os.Args[1] == "version") {
		fmt.Println(version.String("callboxctl"))
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Dispatch(ctx, "callboxctl", commands, os.Args[1:], cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}

var commands = append([]cli.Command{dspcli.Command, boardcli.Command, acdcli.Command, ivrcli.Command, configcli.Command,
	simcli.Command, otacli.Update, otacli.Bundle, promptcli.Command}, backupcli.Commands...)
