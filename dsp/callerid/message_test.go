package callerid

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func TestMessageEncoding(t *testing.T) {
	tests := []struct {
		name string
		m    Message
		hex  string // without the checksum, which is checked separately
	}{
		{"sdmf number", Message{Format: SDMF, Time: "01020304", Number: "5551234"},
			"040f" + "3031303230333034" + "35353531323334"},
		{"sdmf private", Message{Format: SDMF, Time: "12312359", NumberReason: Private},
			"0409" + "3132333132333539" + "50"},
		{"sdmf unavailable", Message{Format: SDMF, Time: "12312359", NumberReason: Unavailable},
			"0409" + "3132333132333539" + "4f"},
		{"mdmf all", Message{Format: MDMF, Time: "11211305", Number: "13800138000", Name: "ZHANG SAN"},
			"8022" + "0108" + "3131323131333035" + "020b" + "3133383030313338303030" + "0709" + "5a48414e472053414e"},
		{"mdmf reasons", Message{Format: MDMF, NumberReason: Private, NameReason: Unavailable},
			"8006" + "040150" + "08014f"},
		{"mdmf number only", Message{Format: MDMF, Number: "10086"},
			"8007" + "0205" + "3130303836"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.m.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := hex.DecodeString(tt.hex)
			if !bytes.Equal(b[:len(b)-1], want) {
				t.Fatalf("encoded %x, want %x", b[:len(b)-1], want)
			}
			var sum byte
			for _, c := range b {
				sum += c
			}
			if sum != 0 {
				t.Fatalf("bytes sum to %#x with the checksum, want 0", sum)
			}
			got, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.m {
				t.Fatalf("parsed %+v, want %+v", got, tt.m)
			}
		})
	}
}

func TestChecksumKnownValue(t *testing.T) {
	// GR-30 example: SDMF "01011200" "5551212" style message; the checksum
	// is the two's complement of the byte sum.
	b := []byte{0x04, 0x01, 0x30}
	if got := Checksum(b); got != byte(0x100-0x35) {
		t.Fatalf("Checksum = %#x, want %#x", got, 0x100-0x35)
	}
}

func TestMessageRejected(t *testing.T) {
	bad := []Message{
		{Format: SDMF, Number: "123"},                            // no time
		{Format: SDMF, Time: "01020304"},                         // no number
		{Format: SDMF, Time: "01020304", Number: "1", Name: "X"}, // name in SDMF
		{Format: SDMF, Time: "13020304", Number: "1"},            // month 13
		{Format: MDMF},                                                     // empty
		{Format: MDMF, Number: "12a"},                                      // letter in number
		{Format: MDMF, Number: "1", NumberReason: Private},                 // both
		{Format: MDMF, Name: "X", NameReason: Unavailable},                 // both
		{Format: MDMF, NumberReason: 'Q'},                                  // unknown reason
		{Format: MDMF, Number: "123456789012345678901"},                    // too long
		{Format: MDMF, Name: "caf\xc3\xa9"},                                // not ASCII
		{Format: 0x06, Number: "1"},                                        // message waiting
		{Format: MDMF, Name: string(bytes.Repeat([]byte("x"), MaxName+1))}, // too long
	}
	for _, m := range bad {
		if _, err := m.AppendBinary(nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: err %v, want ErrInvalid", m, err)
		}
	}
}

func TestParseRejected(t *testing.T) {
	withSum := func(h string) []byte {
		b, _ := hex.DecodeString(h)
		return append(b, Checksum(b))
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"short", []byte{0x80, 0x00}, ErrInvalid},
		{"bad checksum", []byte{0x80, 0x03, 0x02, 0x01, 0x31, 0x00}, ErrChecksum},
		{"length mismatch", withSum("800402013131"), ErrInvalid},
		{"parameter overrun", withSum("8003020531"), ErrInvalid},
		{"out of order", withSum("800602013107015a"), nil},
		{"reversed order", withSum("800607015a020131"), ErrInvalid},
		{"repeated", withSum("800602013102013132"), ErrInvalid},
		{"unknown parameter", withSum("8003110101"), ErrInvalid},
		{"empty parameter", withSum("80020700"), ErrInvalid},
		{"zero reason", withSum("8003040100"), ErrInvalid},
		{"long reason", withSum("800404025050"), ErrInvalid},
		{"sdmf short", withSum("04083031303230333034"), ErrInvalid},
		{"sdmf bad time", withSum("0409303130323033303a31"), ErrInvalid},
		{"unknown type", withSum("0603420a0a"), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.b)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%x) err %v, want %v", tt.b, err, tt.want)
			}
		})
	}
}

// FuzzParse: anything Parse accepts re-encodes to the same bytes and lies
// within the bounds; nothing panics.
func FuzzParse(f *testing.F) {
	for _, m := range []Message{
		{Format: SDMF, Time: "01020304", Number: "5551234"},
		{Format: SDMF, Time: "12312359", NumberReason: Private},
		{Format: MDMF, Time: "11211305", Number: "13800138000", Name: "ZHANG SAN"},
		{Format: MDMF, NumberReason: Private, NameReason: Unavailable},
		{Format: MDMFMWI, Time: "03020930", Waiting: IndicatorOn, Messages: 3},
		{Format: SDMFMWI, Waiting: IndicatorOff},
	} {
		b, err := m.AppendBinary(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x80, 0x00, 0x80})
	f.Add([]byte{0x80, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		if loose, err := ParseLoose(b); err == nil {
			if len(loose.Number)+len(loose.Name)+len(loose.Time) > len(b) {
				t.Fatalf("ParseLoose(%x) = %+v: more text than input", b, loose)
			}
		} else if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrChecksum) {
			t.Fatalf("ParseLoose error %v is neither ErrInvalid nor ErrChecksum", err)
		}
		m, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrChecksum) {
				t.Fatalf("Parse error %v is neither ErrInvalid nor ErrChecksum", err)
			}
			return
		}
		if len(b) > MaxEncoded || len(m.Number) > MaxNumber || len(m.Name) > MaxName {
			t.Fatalf("accepted %d bytes, number %d, name %d: over the bounds", len(b), len(m.Number), len(m.Name))
		}
		if loose, err := ParseLoose(b); err != nil || loose != m {
			t.Fatalf("ParseLoose(%x) = %+v, %v; Parse gave %+v", b, loose, err, m)
		}
		again, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatalf("parsed %+v does not encode: %v", m, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("Parse(%x) = %+v re-encodes to %x", b, m, again)
		}
	})
}

func TestDTMFEncoding(t *testing.T) {
	tests := []struct {
		m          Message
		start, end byte
		want       string
	}{
		{Message{Number: "13800138000"}, 'A', 'C', "A13800138000C"},
		{Message{Number: "5551234"}, 'A', '#', "A5551234#"},
		{Message{Number: "0227"}, 'D', 'C', "D0227C"},
		{Message{NumberReason: Private}, 'A', '#', "D1#"},
		{Message{NumberReason: Unavailable}, 'A', '#', "D3#"},
		{Message{NumberReason: Private}, 'A', 'C', "B10C"},
		{Message{NumberReason: Unavailable}, 'D', 'C', "B00C"},
	}
	for _, tt := range tests {
		got, err := EncodeDTMF(tt.m, tt.start, tt.end)
		if err != nil || got != tt.want {
			t.Errorf("EncodeDTMF(%+v, %c, %c) = %q, %v; want %q", tt.m, tt.start, tt.end, got, err, tt.want)
			continue
		}
		m, _, end, err := ParseDTMF(got)
		if err != nil || m != tt.m || end != tt.end {
			t.Errorf("ParseDTMF(%q) = %+v %c %v", got, m, end, err)
		}
	}
	if m, _, _, err := ParseDTMF("D2#"); err != nil || m.NumberReason != Unavailable {
		t.Errorf("D2# = %+v, %v; want unavailable", m, err)
	}
	for _, bad := range []string{"", "AC", "A123", "123C", "A12*3C", "E123C", "A1D2C", "D1C#", "A123456789012345678901C"} {
		if _, _, _, err := ParseDTMF(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDTMF(%q) err %v, want ErrInvalid", bad, err)
		}
	}
	for _, m := range []Message{{Number: "12a"}, {Name: "X", Number: "1"}, {}, {Number: "1", NumberReason: Private}} {
		if _, err := EncodeDTMF(m, 'A', 'C'); !errors.Is(err, ErrInvalid) {
			t.Errorf("EncodeDTMF(%+v) err %v, want ErrInvalid", m, err)
		}
	}
}

// FuzzParseDTMF: accepted strings re-encode unchanged (D2# aside, which is
// read as D3#).
func FuzzParseDTMF(f *testing.F) {
	for _, s := range []string{"A13800138000C", "D1#", "B00C", "D0227C", "A5#", "D2#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, start, end, err := ParseDTMF(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		again, err := EncodeDTMF(m, start, end)
		if err != nil {
			t.Fatalf("%q parsed to %+v which does not encode: %v", s, m, err)
		}
		if again != s && !(s == "D2#" && again == "D3#") {
			t.Fatalf("%q parsed to %+v re-encodes to %q", s, m, again)
		}
	})
}

func TestParseLoose(t *testing.T) {
	withSum := func(h string) []byte {
		b, _ := hex.DecodeString(h)
		return append(b, Checksum(b))
	}
	tests := []struct {
		name string
		b    []byte
		want Message
	}{
		// ETSI: call type 0x11 first, then time, number, name out of order.
		{"etsi call type", withSum("8016" + "110101" + "0108" + "3031303231323030" + "07024142" + "0203313233"),
			Message{Format: MDMF, Time: "01021200", Number: "123", Name: "AB"}},
		{"unknown reason", withSum("8003040158"), Message{Format: MDMF}},
		{"latin-1 name", withSum("80040702e96f"), Message{Format: MDMF, Name: "?o"}},
	}
	for _, tt := range tests {
		got, err := ParseLoose(tt.b)
		if err != nil || got != tt.want {
			t.Errorf("%s: ParseLoose(%x) = %+v, %v; want %+v", tt.name, tt.b, got, err, tt.want)
		}
		if _, err := Parse(tt.b); err == nil {
			t.Errorf("%s: strict Parse accepted %x", tt.name, tt.b)
		}
	}
	for _, b := range [][]byte{withSum("820302010a"), withSum("8004020531"), {0x80, 0x00, 0x81}} {
		if _, err := ParseLoose(b); err == nil {
			t.Errorf("ParseLoose(%x) accepted", b)
		}
	}
}
