package line

import (
	"fmt"
	"strings"
	"time"

	"callbox/dsp/callerid"
)

// Country holds what a port needs to know of a country besides its tone
// plan (dsp/tone): the ringing cadence its phones expect and the usual
// caller ID presentation.
type Country struct {
	Code string
	// Cadence alternates ring on and off times, starting with on.
	Cadence []time.Duration
	// CallerID is the usual presentation on an FXS port.
	CallerID *callerid.Preset
}

// Countries are the built-in presets (GUIDE section 4): the codes of
// dsp/tone's plans. CN is the default.
var Countries = map[string]Country{
	"CN": {Code: "CN", Cadence: []time.Duration{time.Second, 4 * time.Second}, CallerID: &callerid.Bellcore},
	"US": {Code: "US", Cadence: []time.Duration{2 * time.Second, 4 * time.Second}, CallerID: &callerid.Bellcore},
	"UK": {Code: "UK", Cadence: []time.Duration{400 * time.Millisecond, 200 * time.Millisecond,
		400 * time.Millisecond, 2 * time.Second}, CallerID: &callerid.ETSIReversal},
	"EU": {Code: "EU", Cadence: []time.Duration{time.Second, 4 * time.Second}, CallerID: &callerid.ETSIDTAS},
	"JP": {Code: "JP", Cadence: []time.Duration{time.Second, 2 * time.Second}, CallerID: &callerid.Bellcore},
}

// CountryFor returns the preset of a country code (case-insensitive; "" is
// CN, "ETSI" is EU).
func CountryFor(code string) (Country, error) {
	c := strings.ToUpper(code)
	switch c {
	case "":
		c = "CN"
	case "ETSI":
		c = "EU"
	}
	p, ok := Countries[c]
	if !ok {
		return Country{}, fmt.Errorf("line: unknown country %q", code)
	}
	return p, nil
}
