package line

import (
	"fmt"

	"callbox/dsp/callerid"
	"callbox/dsp/country"
	"callbox/dsp/tone"
)

// countryOf reads what a channel needs of its country from the country
// table (dsp/country): the tone plan, the ring cadence and the usual
// caller ID preset.
func countryOf(name, code string) (country.Country, tone.Plan, *callerid.Preset, error) {
	c, err := country.Lookup(code)
	if err != nil {
		return c, tone.Plan{}, nil, fmt.Errorf("line: %s: %w", name, err)
	}
	plan, err := tone.PlanFor(c.Tones)
	if err != nil {
		return c, tone.Plan{}, nil, fmt.Errorf("line: %s: %w", name, err)
	}
	preset := callerid.Presets[c.CallerID]
	if preset == nil {
		return c, tone.Plan{}, nil, fmt.Errorf("line: %s: country %s: no caller id preset %q", name, c.Code, c.CallerID)
	}
	return c, plan, preset, nil
}
