//go:build !race

package acd

const raceEnabled = false
