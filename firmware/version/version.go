// Package version holds the build identity stamped into the binaries with
// -ldflags "-X callbox/firmware/version.Version=... ".
package version

import (
	"fmt"
	"runtime"
)

// Stamped at build time; the defaults are what a plain `go build` gives.
var (
	Version   = "dev"
	Commit    = "unknown"
	BuildTime = "unknown"
)

// String is the one-line identity printed by --version.
func String(program string) string {
	return fmt.Sprintf("%s %s (commit %s, built %s, %s/%s)", program, Version, Commit, BuildTime, runtime.GOOS, runtime.GOARCH)
}
