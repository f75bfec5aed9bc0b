//go:build !race

package app

// raceEnabled skips the tests that run a fax in real time through whole
// daemons under the race detector, whose slow-down a loaded machine turns
// into lost audio. make test-full finds this package by this line and runs
// its tests without the detector, so those tests still run in make test.
const raceEnabled = false
