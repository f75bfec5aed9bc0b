package sms

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPackKnownVector(t *testing.T) {
	// 23.038's usual worked example: "hellohello" packs to these octets.
	pdus, err := Encode("+27381000015", "hellohello", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(pdus[0].Hex, "0AE8329BFD4697D9EC37") {
		t.Errorf("hellohello packed as %s", pdus[0].Hex)
	}
}

func TestDecodeKnownDeliver(t *testing.T) {
	// A deliver PDU as a Siemens modem printed it (service centre
	// +27381000015, sender 27838890001, 2099-03-29 15:16:59 +02:00).
	m, err := Decode("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2099, 3, 29, 15, 16, 59, 0, time.FixedZone("", 2*3600))
	if m.Kind != Deliver || m.SMSC != "+27381000015" || m.Number != "27838890001" || m.Text != "hellohello" || !m.Time.Equal(want) {
		t.Errorf("decoded %+v", m)
	}
}

func TestDecodeAlphanumericSender(t *testing.T) {
	// Sender "Callbox" as an alphanumeric address: 7 septets, 49 bits in
	// 7 octets, 13 useful semi-octets.
	sep := make([]byte, 7)
	packSeptets(sep, 0, []byte("Callbox"))
	if got := decodeNumber(0xD0, sep, 13); got != "Callbox" {
		t.Errorf("alphanumeric sender = %q", got)
	}
}

func TestSplit(t *testing.T) {
	zh := strings.Repeat("电", 70)
	cases := []struct {
		name   string
		text   string
		coding Coding
		sizes  []int // characters per part
	}{
		{"empty", "", GSM7, []int{0}},
		{"160 septets", strings.Repeat("a", 160), GSM7, []int{160}},
		{"161 septets", strings.Repeat("a", 161), GSM7, []int{153, 8}},
		{"escape never cut", strings.Repeat("a", 152) + "€b" + strings.Repeat("c", 10), GSM7, []int{152, 12}},
		{"80 escapes fill one part", strings.Repeat("{", 80), GSM7, []int{80}},
		{"70 chinese", zh, UCS2, []int{70}},
		{"71 chinese", zh + "话", UCS2, []int{67, 4}},
		{"one chinese makes ucs2", "Hello 你好", UCS2, []int{8}},
		{"surrogate never cut", strings.Repeat("好", 66) + "😀" + "yzw", UCS2, []int{66, 4}},
	}
	for _, c := range cases {
		coding, parts, err := Split(c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var sizes []int
		for _, p := range parts {
			sizes = append(sizes, utf8.RuneCountInString(p))
		}
		if coding != c.coding || !equalInts(sizes, c.sizes) || strings.Join(parts, "") != c.text {
			t.Errorf("%s: coding %v sizes %v, want %v %v", c.name, coding, sizes, c.coding, c.sizes)
		}
	}
	if _, _, err := Split(strings.Repeat("字", 67*255+1)); err == nil {
		t.Error("256 parts accepted")
	}
	if _, err := Encode("13800138000", "\xff", Options{}); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
	for _, n := range []string{"", "+", "138-0013", strings.Repeat("1", 21)} {
		if _, err := Encode(n, "x", Options{}); err == nil {
			t.Errorf("number %q accepted", n)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// roundTrip encodes text, decodes every part and joins them.
func roundTrip(t *testing.T, number, text string, ref uint8) {
	t.Helper()
	pdus, err := Encode(number, text, Options{Ref: ref, StatusReport: true})
	if err != nil {
		t.Fatalf("encode %q: %v", text, err)
	}
	var j Joiner
	for i, p := range pdus {
		if len(p.Hex) != 2+2*p.TPDULen {
			t.Fatalf("part %d: length %d for %d hex digits", i, p.TPDULen, len(p.Hex))
		}
		m, err := Decode(p.Hex)
		if err != nil {
			t.Fatalf("decode part %d of %q: %v", i, text, err)
		}
		if m.Kind != Submit || m.Number != number || !m.ReportRequested {
			t.Fatalf("part %d: %+v", i, m)
		}
		m.Kind = Deliver
		got, done := j.Add(m, i)
		if done != (i == len(pdus)-1) {
			t.Fatalf("part %d of %d: done %v", i+1, len(pdus), done)
		}
		if done && got.Text != text {
			t.Fatalf("joined %q, sent %q", got.Text, text)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, text := range []string{
		"", "hellohello", "Price: 5€ [10% off] {ok} ~ ^ | \\",
		strings.Repeat("The quick brown fox jumps over the lazy dog. ", 12),
		"您好，您的报修单已受理，抢修人员正在赶往现场。",
		strings.Repeat("您好，您的报修单已受理。", 20),
		"mixed 中文 and English 😀",
	} {
		roundTrip(t, "+8613800138000", text, 42)
	}
}

func TestStatusReport(t *testing.T) {
	sent := time.Date(2026, 3, 1, 9, 30, 0, 0, time.FixedZone("", 8*3600))
	h, err := EncodeStatusReport(77, "+8613800138000", sent, sent.Add(5*time.Second), 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(h)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != StatusReport || m.Ref != 77 || m.Number != "+8613800138000" || !m.Delivered() || m.Failed() ||
		!m.Discharged.Equal(sent.Add(5*time.Second)) {
		t.Errorf("decoded %+v", m)
	}
	h, _ = EncodeStatusReport(78, "13800138000", sent, sent, 0x41)
	if m, _ := Decode(h); m == nil || !m.Failed() {
		t.Errorf("status 0x41 not failed: %+v", m)
	}
}

func TestDecodeRefusals(t *testing.T) {
	for _, h := range []string{
		"", "zz", "00", "0003", "000B", // reserved type 3
		"0004", "00040B91", // cut address
		"0004038121F30000",                     // cut time stamp
		"0004038121F300009930925161958009E8",   // septets beyond the data
		"0044038121F30008993092516195800A0605", // header longer than the data
		"0004038121F30024993092516195800100",   // compressed
	} {
		if m, err := Decode(h); err == nil {
			t.Errorf("Decode(%q) = %+v, want an error", h, m)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
	pdus, _ := Encode("+8613800138000", strings.Repeat("您好", 40), Options{Ref: 3})
	for _, p := range pdus {
		f.Add(p.Hex)
	}
	d, _ := EncodeDeliver("10086", strings.Repeat("hi{}", 50), time.Now(), 9)
	f.Add(d[0])
	f.Fuzz(func(t *testing.T, h string) {
		m, err := Decode(h)
		if err != nil {
			return
		}
		if !utf8.ValidString(m.Text) && m.Coding != UCS2 {
			t.Errorf("invalid UTF-8 text from %q", h)
		}
		if c := m.Concat; c != nil && (c.Seq < 1 || c.Seq > c.Total) {
			t.Errorf("concat %+v", c)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("hellohello", uint8(1))
	f.Add("您好，世界", uint8(200))
	f.Add(strings.Repeat("€", 100), uint8(0))
	f.Fuzz(func(t *testing.T, text string, ref uint8) {
		if !utf8.ValidString(text) || utf8.RuneCountInString(text) > 2000 {
			return
		}
		// Unpaired surrogates cannot travel in UCS-2; Go's strings hold
		// none once valid UTF-8, so every valid text must come back.
		roundTrip(t, "+8613800138000", text, ref)
	})
}
