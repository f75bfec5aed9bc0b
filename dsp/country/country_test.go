package country_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"callbox/dsp/callerid"
	"callbox/dsp/country"
	"callbox/dsp/tone"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "CN"}, {"cn", "CN"}, {" US ", "US"}, {"uk", "UK"}, {"EU", "EU"},
		{"ETSI", "EU"}, {"etsi", "EU"}, {"jp", "JP"},
	}
	for _, tt := range tests {
		c, err := country.Lookup(tt.in)
		if err != nil || c.Code != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tt.in, c.Code, err, tt.want)
		}
		if code, err := country.Canonical(tt.in); err != nil || code != tt.want {
			t.Errorf("Canonical(%q) = %q, %v", tt.in, code, err)
		}
	}
	for _, bad := range []string{"XX", "E U", "china", "GB"} {
		_, err := country.Lookup(bad)
		if !errors.Is(err, country.ErrUnknown) || !strings.Contains(err.Error(), "CN, EU, JP, UK, US") {
			t.Errorf("Lookup(%q): %v", bad, err)
		}
	}
}

// TestTableIsConsistent checks every entry against the packages that hold
// the data it names, and the facts of GUIDE section 4.
func TestTableIsConsistent(t *testing.T) {
	codes := country.Codes()
	if strings.Join(codes, ",") != "CN,EU,JP,UK,US" {
		t.Fatalf("codes %v", codes)
	}
	for _, code := range codes {
		c, err := country.Lookup(code)
		if err != nil {
			t.Fatal(err)
		}
		if c.Name == "" || c.Flash <= 0 || (c.Law != country.ALaw && c.Law != country.MuLaw) {
			t.Errorf("%s: incomplete entry %+v", code, c)
		}
		p, err := tone.PlanFor(c.Tones)
		if err != nil || p.Country != c.Tones {
			t.Errorf("%s: tone plan %q: %v", code, c.Tones, err)
		}
		if callerid.Presets[c.CallerID] == nil {
			t.Errorf("%s: caller id preset %q does not exist", code, c.CallerID)
		}
		if n := len(c.Ring.Cadence); n == 0 || n%2 != 0 || c.Ring.Hz < 15 || c.Ring.Hz > 100 {
			t.Errorf("%s: ring %+v", code, c.Ring)
		}
	}
	// GUIDE section 4.
	guide := []struct {
		code     string
		hz       float64
		cadence  []time.Duration
		callerID string
	}{
		{"CN", 25, []time.Duration{time.Second, 4 * time.Second}, "bellcore"},
		{"US", 20, []time.Duration{2 * time.Second, 4 * time.Second}, "bellcore"},
		// ETSI: before the first ring after a polarity reversal; the UK
		// adds the dual-tone alert (BT SIN 227).
		{"EU", 25, []time.Duration{time.Second, 4 * time.Second}, "etsi-reversal"},
		{"UK", 25, []time.Duration{400 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second}, "etsi-dtas"},
	}
	for _, g := range guide {
		c, _ := country.Lookup(g.code)
		if c.Ring.Hz != g.hz || !slices.Equal(c.Ring.Cadence, g.cadence) || c.CallerID != g.callerID {
			t.Errorf("%s: %+v, want %v Hz %v caller id %s", g.code, c, g.hz, g.cadence, g.callerID)
		}
	}
	// A caller's copy does not change the table.
	c, _ := country.Lookup("CN")
	c.Ring.Cadence[0] = time.Hour
	if again, _ := country.Lookup("CN"); again.Ring.Cadence[0] != time.Second {
		t.Error("Lookup shares the table's cadence")
	}
	if again, _ := country.Lookup("CN"); again.Ring.Period() != 5*time.Second {
		t.Errorf("CN period %v", again.Ring.Period())
	}
}

func TestLawString(t *testing.T) {
	if country.ALaw.String() != "alaw" || country.MuLaw.String() != "ulaw" || country.Law(9).String() != "Law(9)" {
		t.Error(country.ALaw, country.MuLaw, country.Law(9))
	}
}
