//go:build race

package app

// raceEnabled skips the real-time fax tests (see norace_test.go).
const raceEnabled = true
