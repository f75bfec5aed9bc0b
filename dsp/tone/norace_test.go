//go:build !race

package tone

const raceEnabled = false
