package dspcli

import (
	"errors"
	"strings"
	"testing"

	"callbox/dsp/tone"
	"callbox/firmware/cli"
)

func TestGenerateAnalyzeTone(t *testing.T) {
	cases := []struct {
		args    []string
		country string
		want    string // first event text
	}{
		{[]string{"--tone", "busy", "--duration", "4000", "out.wav"}, "", "tone busy 3850"},
		{[]string{"--country", "US", "--tone", "congestion", "--duration", "3000", "--level", "-30"}, "US", "tone congestion 2750"},
		{[]string{"--country", "uk", "--tone", "dial", "--duration", "2000"}, "UK", "tone dial 2000"},
		{[]string{"--country", "ETSI", "--tone", "ringback", "--duration", "12000"}, "EU", "tone ringback 11000"},
	}
	var errb strings.Builder
	for _, c := range cases {
		x, err := generators["tone"](c.args, cli.IO{Err: &errb})
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		evs, err := analyzers["tone"](x, analyzeOptions{Country: c.country})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].StartMS != 0 || !near(evs[0].Text, c.want) {
			t.Errorf("%v: events %+v, want 0 %s", c.args, evs, c.want)
		}
	}
}

// near compares "tone NAME DUR" allowing 30 ms on the duration.
func near(got, want string) bool {
	g, w := strings.Fields(got), strings.Fields(want)
	if len(g) != 3 || len(w) != 3 || g[0] != w[0] || g[1] != w[1] {
		return false
	}
	var gd, wd int
	for _, c := range g[2] {
		gd = gd*10 + int(c-'0')
	}
	for _, c := range w[2] {
		wd = wd*10 + int(c-'0')
	}
	return gd-wd <= 30 && wd-gd <= 30
}

func TestAnalyzeFax(t *testing.T) {
	ans := tone.Tone{Segments: []tone.Segment{{Freqs: []tone.Component{{Hz: 2100, Level: -15}}, MS: 3000}, {MS: 500}}, Repeat: 1}
	cng := tone.Tone{Segments: []tone.Segment{{MS: 1000}, {Freqs: []tone.Component{{Hz: 1100, Level: -15}}, MS: 500}, {MS: 3000}}, Repeat: 1}
	x := make([]int16, 8000*8)
	tone.NewGenerator(ans).Read(x[:3500*8])
	tone.NewGenerator(cng).Read(x[3500*8:])
	evs, err := analyzers["tone"](x, analyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0] != (event{0, "fax ced"}) || evs[1] != (event{4500, "fax cng"}) {
		t.Errorf("events %+v", evs)
	}
}

func TestToneErrors(t *testing.T) {
	var errb strings.Builder
	std := cli.IO{Err: &errb}
	cases := []struct {
		args []string
		want string
		is   error
	}{
		{[]string{"--country", "XX", "--tone", "busy"}, "CN, EU, JP, UK, US", tone.ErrUnknownCountry},
		{[]string{"--tone", "howler"}, "dial, ringback, busy, congestion", tone.ErrUnknownTone},
		{[]string{}, "--tone is required", nil},
		{[]string{"--tone", "busy", "--level", "10"}, "out of range", nil},
		{[]string{"--tone", "busy", "--duration", "0"}, "out of range", nil},
		{[]string{"--tone", "busy", "--bogus"}, "bogus", nil},
	}
	for _, c := range cases {
		_, err := generators["tone"](c.args, std)
		if err == nil || !strings.Contains(err.Error(), c.want) || c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
	if _, err := analyzers["tone"](nil, analyzeOptions{Country: "Mars"}); !errors.Is(err, tone.ErrUnknownCountry) {
		t.Errorf("analyze with unknown country: %v", err)
	}
}
