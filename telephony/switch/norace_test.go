//go:build !race

package callswitch_test

// raceEnabled shortens long tests under the race detector. make test-full
// finds this package by this line and runs its tests at full size without
// the detector, so nothing is only ever run shortened.
const raceEnabled = false
