package callerid

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"callbox/dsp/internal/dsptest"
)

var mwiMessages = []Message{
	{Format: MDMFMWI, Waiting: IndicatorOn},
	{Format: MDMFMWI, Waiting: IndicatorOff},
	{Format: MDMFMWI, Time: "03020930", Waiting: IndicatorOn, Messages: 3},
	{Format: SDMFMWI, Waiting: IndicatorOn},
	{Format: SDMFMWI, Waiting: IndicatorOff},
}

// TestMWIEncoding: the bytes of GR-30's and EN 300 659-3's message waiting
// messages, and Parse of them back.
func TestMWIEncoding(t *testing.T) {
	for _, tt := range []struct {
		m   Message
		hex string // without the checksum
	}{
		{mwiMessages[0], "82030b01ff"},
		{mwiMessages[1], "82030b0100"},
		{mwiMessages[2], "8210" + "0108" + hex.EncodeToString([]byte("03020930")) + "0b01ff" + "130103"},
		{mwiMessages[3], "0603424242"},
		{mwiMessages[4], "06036f6f6f"},
	} {
		b, err := tt.m.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b[:len(b)-1]); got != tt.hex {
			t.Errorf("%+v encodes as %s, want %s", tt.m, got, tt.hex)
		}
		if m, err := Parse(b); err != nil || m != tt.m {
			t.Errorf("Parse(%x) = %+v, %v", b, m, err)
		}
	}
	for _, bad := range []Message{
		{Format: MDMFMWI}, // no indicator
		{Format: MDMFMWI, Waiting: IndicatorOn, Number: "123"},    // a number
		{Format: MDMFMWI, Waiting: IndicatorOn, Messages: 256},    // too many
		{Format: SDMFMWI, Waiting: IndicatorOn, Messages: 2},      // SDMF has no count
		{Format: SDMFMWI, Waiting: IndicatorOn, Time: "01010000"}, // nor a time
		{Format: MDMF, Number: "1", Waiting: IndicatorOn},         // not in caller ID
	} {
		if _, err := bad.AppendBinary(nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", bad, err)
		}
	}
}

// TestMWIParseLoose: what exchanges send: an indicator of 0x01, the SDMF
// bytes by majority, unknown parameters skipped.
func TestMWIParseLoose(t *testing.T) {
	withSum := func(h string) []byte {
		b, _ := hex.DecodeString(h)
		return append(b, Checksum(b))
	}
	for _, tt := range []struct {
		b      []byte
		want   Message
		strict bool
	}{
		{withSum("82030b0101"), Message{Format: MDMFMWI, Waiting: IndicatorOn}, false},
		{withSum("82060b01ff110102"), Message{Format: MDMFMWI, Waiting: IndicatorOn}, false},
		{withSum("8206130105" + "0b0100"), Message{Format: MDMFMWI, Waiting: IndicatorOff, Messages: 5}, false},
		{withSum("0603424241"), Message{Format: SDMFMWI, Waiting: IndicatorOn}, false},
	} {
		got, err := ParseLoose(tt.b)
		if err != nil || got != tt.want {
			t.Errorf("ParseLoose(%x) = %+v, %v; want %+v", tt.b, got, err, tt.want)
		}
		if _, err := Parse(tt.b); err == nil {
			t.Errorf("Parse accepted %x", tt.b)
		}
	}
	for _, b := range [][]byte{withSum("8203130101"), withSum("0603410000")} {
		if m, err := ParseLoose(b); err == nil {
			t.Errorf("ParseLoose(%x) = %+v", b, m)
		}
	}
}

// TestMWIFSK sends message waiting by both modems and decodes it back, and
// checks it both ways against spandsp.
func TestMWIFSK(t *testing.T) {
	for _, cfg := range []FSKConfig{BellcoreFSK, ETSIFSK} {
		for _, m := range mwiMessages {
			x := append(append(make([]int16, 400), mustFSK(t, m, cfg)...), make([]int16, 400)...)
			msgs, _, errs := DecodeFSK(x, cfg.Modem)
			if len(msgs) != 1 || msgs[0] != m || len(errs) != 0 {
				t.Fatalf("%+v over %v: got %+v %v", m, cfg.Modem, msgs, errs)
			}
		}
	}
	bin := spandsp(t)
	for _, std := range spandspStandards {
		var x []int16
		var want []string
		for _, m := range mwiMessages {
			raw, _ := m.AppendBinary(nil)
			want = append(want, hex.EncodeToString(raw[:len(raw)-1]))
			x = append(append(x, make([]int16, 800)...), mustFSK(t, m, std.cfg)...)
			sig := dsptest.Int16s(dsptest.Run(t, bin, "tx", std.name, hex.EncodeToString(raw[:len(raw)-1])))
			if msgs, _, _ := DecodeFSK(append(sig, make([]int16, 400)...), std.cfg.Modem); len(msgs) != 1 || msgs[0] != m {
				t.Errorf("%s: spandsp sent %+v, we got %+v", std.name, m, msgs)
			}
		}
		x = append(x, make([]int16, 800)...)
		if got := spandspRx(t, bin, std.name, x); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: spandsp received %q, want %q", std.name, got, want)
		}
	}
}
