package callerid

import (
	"bytes"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"callbox/dsp/callerid/fsk"
	"callbox/dsp/internal/dsptest"
)

// The independent reference: testdata/spandsp_cid.c linked to Debian's
// libspandsp, whose adsi module has its own FSK modem, framer and DTMF
// caller ID. Messages go both ways: spandsp's transmitter into our Receiver,
// our Transmitter into spandsp's receiver.

// spandsp builds the helper into a temporary directory and returns its path.
func spandsp(t *testing.T) string {
	return dsptest.BuildSpandsp(t, "testdata/spandsp_cid.c")
}

// spandspRx runs spandsp's receiver over x and returns the messages it
// printed: hex (FSK, type to body) or digits (DTMF).
func spandspRx(t *testing.T, bin, standard string, x []int16) []string {
	t.Helper()
	cmd := exec.Command(bin, "rx", standard)
	cmd.Stdin = bytes.NewReader(dsptest.Bytes(x))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("spandsp_cid rx %s: %v\n%s", standard, err, stderr.String())
	}
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if _, msg, ok := strings.Cut(line, " "); ok {
			msgs = append(msgs, msg)
		}
	}
	return msgs
}

// TestSpandsp builds the helper once and runs every comparison with it.
func TestSpandsp(t *testing.T) {
	bin := spandsp(t)
	for _, c := range []struct {
		name string
		f    func(*testing.T, string)
	}{
		{"spandsp-tx-to-receiver", checkSpandspTransmitter},
		{"transmitter-to-spandsp-rx", checkSpandspReceiver},
		{"other-modem", checkOtherModem},
		{"etsi-call-type", checkETSICallType},
		{"dtmf-both-ways", checkDTMFWithSpandsp},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, bin) })
	}
}

var spandspStandards = []struct {
	name string
	cfg  FSKConfig
}{
	{"class", BellcoreFSK},
	{"clip", ETSIFSK},
}

func checkSpandspTransmitter(t *testing.T, bin string) {
	noise := soxNoise(t, "20")
	for _, std := range spandspStandards {
		for _, m := range testMessages {
			raw, err := m.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			// spandsp appends the checksum itself.
			sig := dsptest.Int16s(dsptest.Run(t, bin, "tx", std.name, hex.EncodeToString(raw[:len(raw)-1])))
			if len(sig) < 3000 {
				t.Fatalf("spandsp sent only %d samples", len(sig))
			}
			x := append(append(make([]int16, 1111), sig...), make([]int16, 400)...)
			for _, gain := range []float64{0.03, 1, 3} { // about -44, -14 and -4 dBm0
				scaled := make([]int16, len(x))
				for i, v := range x {
					scaled[i] = int16(float64(v) * gain)
				}
				msgs, starts, errs := DecodeFSK(scaled, std.cfg.Modem)
				if len(msgs) != 1 || msgs[0] != m || len(errs) != 0 {
					t.Fatalf("%s gain %v: spandsp sent %+v, we got %+v %v", std.name, gain, m, msgs, errs)
				}
				if starts[0] < 1111 || starts[0] > 1111+10 {
					t.Errorf("%s: message dated at sample %d, spandsp began at 1111", std.name, starts[0])
				}
			}
			noisy := addNoise(x, noise, power(sig), 20)
			if msgs, _, _ := DecodeFSK(noisy, std.cfg.Modem); len(msgs) != 1 || msgs[0] != m {
				t.Errorf("%s at 20 dB S/N: spandsp sent %+v, we got %+v", std.name, m, msgs)
			}
		}
	}
}

func checkSpandspReceiver(t *testing.T, bin string) {
	for _, std := range spandspStandards {
		var x []int16
		var want []string
		for _, m := range testMessages {
			x = append(x, make([]int16, 800)...)
			x = append(x, mustFSK(t, m, std.cfg)...)
			raw, _ := m.AppendBinary(nil)
			want = append(want, hex.EncodeToString(raw[:len(raw)-1]))
		}
		x = append(x, make([]int16, 800)...)
		got := spandspRx(t, bin, std.name, x)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s: spandsp received\n%s\nwant\n%s", std.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// And at the edges of the level range spandsp hears (its V.23
		// receiver loses a -30 dBm0 signal; ours goes below -42).
		for _, level := range []float64{-28, -3} {
			cfg := std.cfg
			cfg.LevelDBm0 = level
			y := append(append(make([]int16, 800), mustFSK(t, testMessages[3], cfg)...), make([]int16, 800)...)
			if got := spandspRx(t, bin, std.name, y); len(got) != 1 || got[0] != want[3] {
				t.Errorf("%s at %v dBm0: spandsp received %q, want %q", std.name, level, got, want[3])
			}
		}
	}
}

// The frequencies of the two modems are close enough that each receiver
// decodes the other's signal, as caller ID chips do: the analyzer's "auto"
// relies on it to find a message whichever modem sent it.
func checkOtherModem(t *testing.T, bin string) {
	raw, _ := testMessages[3].AppendBinary(nil)
	for _, tt := range []struct {
		standard string
		rx       fsk.Modem
	}{{"clip", fsk.Bell202}, {"class", fsk.V23}} {
		sig := dsptest.Int16s(dsptest.Run(t, bin, "tx", tt.standard, hex.EncodeToString(raw[:len(raw)-1])))
		if msgs, _, _ := DecodeFSK(sig, tt.rx); len(msgs) != 1 || msgs[0] != testMessages[3] {
			t.Errorf("%s receiver on spandsp %s: %+v", tt.rx.Name, tt.standard, msgs)
		}
	}
}

// An ETSI exchange's message with a call type parameter (0x11) before the
// others: the strict parser refuses it, the receiver still reports it.
func checkETSICallType(t *testing.T, bin string) {
	msg := "8016" + "110101" + "0108" + "3131323131333035" + "0203313233" + "07024142"
	sig := dsptest.Int16s(dsptest.Run(t, bin, "tx", "clip", msg))
	want := Message{Format: MDMF, Time: "11211305", Number: "123", Name: "AB"}
	if msgs, _, errs := DecodeFSK(sig, fsk.V23); len(msgs) != 1 || msgs[0] != want {
		t.Errorf("got %+v %v, want %+v", msgs, errs, want)
	}
}
