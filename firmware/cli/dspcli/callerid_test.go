package dspcli

import (
	"errors"
	"strings"
	"testing"

	"callbox/dsp/callerid"
	"callbox/firmware/cli"
)

func TestGenerateAnalyzeCallerID(t *testing.T) {
	cases := []struct {
		args []string
		cid  string
		want string
	}{
		{[]string{"--number", "13800138000", "--name", "ZHANG SAN", "--time", "11211305", "out.wav"}, "",
			"100 cid number=13800138000 name=ZHANG SAN time=11211305"},
		{[]string{"--scheme", "v23", "--number", "0123456789"}, "v23", "100 cid number=0123456789"},
		{[]string{"--scheme", "v23", "--reason", "private", "--time", "01010000", "--pad", "0"}, "auto",
			"0 cid reason=private time=01010000"},
		{[]string{"--format", "sdmf", "--reason", "unavailable", "--time", "12312359", "--pad", "1000"}, "bell202",
			"1000 cid reason=unavailable time=12312359"},
		{[]string{"--format", "sdmf", "--number", "5551234", "--time", "02291200", "--level", "-35"}, "",
			"100 cid number=5551234 time=02291200"},
		{[]string{"--scheme", "dtmf", "--number", "13800138000"}, "", "100 cid number=13800138000"},
		{[]string{"--scheme", "dtmf", "--reason", "private", "--level", "-20"}, "dtmf", "100 cid reason=private"},
	}
	var errb strings.Builder
	for _, c := range cases {
		x, err := generators["cid"](c.args, cli.IO{Err: &errb})
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		evs, err := analyzers["cid"](x, analyzeOptions{CID: c.cid})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 {
			t.Fatalf("%v: events %+v, want one", c.args, evs)
		}
		// DTMF starts are known to the detector's block resolution.
		wantMS, wantText, _ := strings.Cut(c.want, " ")
		got := itoa(evs[0].StartMS) + " " + evs[0].Text
		if d := evs[0].StartMS - atoi(wantMS); evs[0].Text != wantText || d < -10 || d > 10 {
			t.Errorf("%v: %q, want %q", c.args, got, c.want)
		}
	}
}

func atoi(s string) (v int) {
	for _, c := range s {
		v = v*10 + int(c-'0')
	}
	return v
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

func TestAnalyzeCallerIDOrderAndNameReason(t *testing.T) {
	// Two messages, one per modem, analysed with auto: each reported once,
	// in time order; a withheld name alone does not hide the number.
	x := make([]int16, 8000)
	x, _ = callerid.AppendFSK(x, callerid.Message{Format: callerid.MDMF, Number: "10086", NameReason: callerid.Private}, callerid.ETSIFSK)
	x = append(x, make([]int16, 8000)...)
	second := len(x) / 8
	x, _ = callerid.AppendFSK(x, callerid.Message{Format: callerid.MDMF, NameReason: callerid.Unavailable, NumberReason: callerid.Unavailable}, callerid.BellcoreFSK)
	evs, err := analyzers["cid"](x, analyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []event{{1000, "cid number=10086"}, {second, "cid reason=unavailable"}}
	if len(evs) != 2 || evs[0] != want[0] || evs[1].Text != want[1].Text || evs[1].StartMS-want[1].StartMS > 2 || evs[1].StartMS < want[1].StartMS {
		t.Errorf("events %+v, want %+v", evs, want)
	}
}

func TestCallerIDErrors(t *testing.T) {
	var errb strings.Builder
	std := cli.IO{Err: &errb}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--scheme", "fax", "--number", "1"}, "want bell202, v23 or dtmf"},
		{[]string{"--scheme", "dtmf", "--name", "X", "--number", "1"}, "carries only the number"},
		{[]string{"--format", "xdmf", "--number", "1"}, "want sdmf or mdmf"},
		{[]string{"--reason", "secret"}, "want private or unavailable"},
		{[]string{"--format", "sdmf", "--number", "1"}, "sdmf needs the date and time"},
		{[]string{"--number", "12a"}, "has character"},
		{[]string{"--time", "99999999", "--number", "1"}, "not MMDDHHMM"},
		{[]string{"--level", "9", "--number", "1"}, "out of range"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"--number", "1", "a.wav", "b.wav"}, "unexpected arguments"},
	}
	for _, c := range cases {
		_, err := generators["cid"](c.args, std)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.args, err, c.want)
		}
	}
	if _, err := generators["cid"]([]string{"--number", "1a"}, std); !errors.Is(err, callerid.ErrInvalid) {
		t.Errorf("bad number: %v does not wrap callerid.ErrInvalid", err)
	}
	if _, err := analyzers["cid"](nil, analyzeOptions{CID: "morse"}); err == nil {
		t.Error("--cid morse accepted")
	}
}
