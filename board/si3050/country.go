package si3050

import (
	"fmt"
	"time"

	"callbox/dsp/country"
)

// Country is the line interface a PSTN of one country expects, as data: the
// DC and AC termination, the ringer settings and the hook-flash time. The
// termination figures are those of DAHDI's fxo_modes.h table (which follows
// the Si3050 datasheet's country table); register packing is in Registers.
type Country struct {
	Code string // a dsp/country code: "CN", "US", "EU", "UK", "JP"
	Name string

	OHS  uint8 // on-hook speed (register 16 bit 6)
	OHS2 uint8 // on-hook speed, second bit (register 31 bit 3)
	RZ   uint8 // ringer impedance (register 16 bit 1)
	RT   uint8 // ringer threshold (register 16 bit 0)
	ILIM uint8 // current limit 60 mA, TBR21 (register 26 bit 1)
	DCV  uint8 // TIP/RING voltage adjust (register 26 bits 7:6)
	MINI uint8 // minimum operational loop current (register 26 bits 5:4)
	ACIM uint8 // AC termination impedance (register 30 bits 3:0)

	// RingFullWave selects the full-wave ring detector (register 18 RFWE):
	// both half-cycles count, so ring detect follows the ring envelope
	// closely and the cadence is measured to a half-cycle.
	RingFullWave bool
	// RingValidation is written to registers 22, 23 and 24. The driver
	// debounces the ring detector in software, so the chip's own
	// validation is left at the datasheet's reset values.
	RingValidation [3]byte

	// Flash is the length of a hook flash (timed break recall).
	Flash time.Duration
}

// Registers returns the register writes of the country set-up, in the order
// Init sends them.
func (c Country) Registers() []RegValue {
	rfwe := byte(0)
	if c.RingFullWave {
		rfwe = 0x02
	}
	return []RegValue{
		{RegIntl1, c.OHS&1<<6 | c.RZ&1<<1 | c.RT&1},
		{RegIntl3, rfwe},
		{RegRingVal1, c.RingValidation[0]},
		{RegRingVal2, c.RingValidation[1]},
		{RegRingVal3, c.RingValidation[2]},
		{RegDCTerm, c.DCV&3<<6 | c.MINI&3<<4 | c.ILIM&1<<1},
		{RegACTerm, c.ACIM & 0x0F},
		{RegDAACtrl5, DAA5Base | c.OHS2&1<<3},
	}
}

// RegValue is one register write.
type RegValue struct {
	Reg, Value byte
}

// ringReset is the reset value of registers 22-24.
var ringReset = [3]byte{0x96, 0x2D, 0x19}

// terminations are the line interfaces of the countries of the country
// table (dsp/country), by code, from DAHDI's fxo_modes.h (CHINA, USA,
// TBR21, UK, JAPAN); CountryFor completes them with the table's name and
// hook flash.
var terminations = map[string]Country{
	"CN": {DCV: 0, MINI: 3, ACIM: 0xF},
	"US": {DCV: 3},
	"EU": {ILIM: 1, DCV: 3, ACIM: 2},
	"UK": {OHS2: 1, ILIM: 1, DCV: 3, ACIM: 5},
	"JP": {DCV: 0, MINI: 3},
}

// CountryFor returns the line preset of a country (a dsp/country code or
// alias, case-insensitive; "" is CN, "ETSI" is EU).
func CountryFor(code string) (Country, error) {
	c, err := country.Lookup(code)
	if err != nil {
		return Country{}, fmt.Errorf("si3050: %w", err)
	}
	t, ok := terminations[c.Code]
	if !ok {
		return Country{}, fmt.Errorf("si3050: country %s: no line termination known", c.Code)
	}
	t.Code, t.Name, t.Flash = c.Code, c.Name, c.Flash
	t.RingFullWave, t.RingValidation = true, ringReset
	return t, nil
}
