// Package country is callbox's one table of what differs between the
// countries it ships presets for: one code per country, its name, the
// dsp/tone plan its exchanges play, its ringing (frequency and cadence), its
// usual caller ID presentation (a dsp/callerid preset), its G.711 law and
// the hook flash an FXO port sends. Every layer reads the same entry: the
// board description, the ProSLIC and Si3050 drivers (which keep their own
// register values, keyed by the code), the emulated phones and central
// offices, and the line code.
//
// Codes are upper case: CN (the default), US, UK, EU, JP. Input is
// case-insensitive and old spellings are accepted as aliases ("ETSI" is
// EU); everything the package returns carries the one code.
package country

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Law is a country's G.711 companding law.
type Law uint8

// G.711 laws.
const (
	ALaw  Law = iota + 1 // Europe, China and most of the world
	MuLaw                // North America and Japan
)

// String spells the law as board descriptions do: "alaw" or "ulaw".
func (l Law) String() string {
	switch l {
	case ALaw:
		return "alaw"
	case MuLaw:
		return "ulaw"
	}
	return fmt.Sprintf("Law(%d)", uint8(l))
}

// Ring is a country's ringing signal: its frequency and its cadence, the on
// and off times alternating from an on time (an even number of them).
type Ring struct {
	Hz      float64
	Cadence []time.Duration
}

// Period returns the length of one cadence cycle.
func (r Ring) Period() time.Duration {
	var p time.Duration
	for _, d := range r.Cadence {
		p += d
	}
	return p
}

// Country is one entry of the table.
type Country struct {
	Code string // "CN"
	Name string // "China"
	// Tones is the id of the country's dsp/tone plan.
	Tones string
	Ring  Ring
	// CallerID names the dsp/callerid preset of the country's usual
	// caller ID presentation ("bellcore", "etsi-reversal", ...).
	CallerID string
	Law      Law
	// Flash is the timed break recall (hook flash) the exchange expects
	// from an FXO port.
	Flash time.Duration
}

// Default is the code of the country used when none is given.
const Default = "CN"

// ErrUnknown is wrapped by Lookup's error for a code not in the table.
var ErrUnknown = errors.New("country: unknown country")

const (
	ms = time.Millisecond
	s  = time.Second
)

// table is the one copy of the facts. Sources: GUIDE section 4 (CN and US
// tones and ringing, ETSI tones, caller ID timing); ringing of UK (BT SIN
// 350: 25 Hz, 0.4/0.2/0.4/2 s), EU (ETSI ES 201 970: 25 Hz, 1/4 s) and JP
// (NTT: 16 Hz, 1/2 s); caller ID: Bellcore timing in CN (YD/T 1055), US and
// JP, ETSI EN 300 659-1 polarity reversal in the EU, BT SIN 227 (reversal
// and dual-tone alert) in the UK; hook flash: common exchange practice
// (100 ms timed break recall in Europe and China, 600 ms in North America;
// Japan's 500 ms is an estimate, not from a published specification).
var table = []Country{
	{Code: "CN", Name: "China", Tones: "CN", CallerID: "bellcore", Law: ALaw, Flash: 100 * ms,
		Ring: Ring{Hz: 25, Cadence: []time.Duration{1 * s, 4 * s}}},
	{Code: "US", Name: "United States", Tones: "US", CallerID: "bellcore", Law: MuLaw, Flash: 600 * ms,
		Ring: Ring{Hz: 20, Cadence: []time.Duration{2 * s, 4 * s}}},
	{Code: "UK", Name: "United Kingdom", Tones: "UK", CallerID: "etsi-dtas", Law: ALaw, Flash: 100 * ms,
		Ring: Ring{Hz: 25, Cadence: []time.Duration{400 * ms, 200 * ms, 400 * ms, 2 * s}}},
	{Code: "EU", Name: "Europe (ETSI)", Tones: "EU", CallerID: "etsi-reversal", Law: ALaw, Flash: 100 * ms,
		Ring: Ring{Hz: 25, Cadence: []time.Duration{1 * s, 4 * s}}},
	{Code: "JP", Name: "Japan", Tones: "JP", CallerID: "bellcore", Law: MuLaw, Flash: 500 * ms,
		Ring: Ring{Hz: 16, Cadence: []time.Duration{1 * s, 2 * s}}},
}

// aliases are old spellings accepted on input.
var aliases = map[string]string{"ETSI": "EU"}

// Lookup returns the entry of a code: case-insensitive, surrounding space
// ignored, "" is Default and aliases ("ETSI") are accepted. The entry is a
// copy the caller may change.
func Lookup(code string) (Country, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if c == "" {
		c = Default
	}
	if a, ok := aliases[c]; ok {
		c = a
	}
	for _, e := range table {
		if e.Code == c {
			e.Ring.Cadence = slices.Clone(e.Ring.Cadence)
			return e, nil
		}
	}
	return Country{}, fmt.Errorf("%w %q (valid: %s)", ErrUnknown, code, strings.Join(Codes(), ", "))
}

// Canonical returns the one code of a code or alias ("etsi" gives "EU").
func Canonical(code string) (string, error) {
	c, err := Lookup(code)
	return c.Code, err
}

// Codes lists the codes of the table, sorted.
func Codes() []string {
	out := make([]string, 0, len(table))
	for _, e := range table {
		out = append(out, e.Code)
	}
	slices.Sort(out)
	return out
}
