//go:build !race

package callswitch_test

// raceEnabled shortens the long random test under the race detector.
const raceEnabled = false
