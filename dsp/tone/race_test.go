//go:build race

package tone

// raceEnabled: under -race the speech corpus tests use a quarter of the
// prompts (the full corpus runs in the ordinary test pass).
const raceEnabled = true
