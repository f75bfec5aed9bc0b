//go:build race

package acd

const raceEnabled = true
