package board

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callbox/board/pcm"
)

func TestSim(t *testing.T) {
	b := Sim()
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if b.Count(FXS) != 4 || b.Count(FXO) != 2 {
		t.Fatalf("sim has %d FXS and %d FXO ports, want 4 and 2", b.Count(FXS), b.Count(FXO))
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"not json", `{`, "board: parse"},
		{"unknown field", `{"name":"x","portz":[]}`, `unknown field "portz"`},
		{"no ports", `{"name":"x"}`, "ports: none"},
		{"bad kind", `{"name":"x","ports":[{"name":"a","kind":"fxx","chip":"si3215","spi_bus":"SPI0.0"}]}`, `port 1 ("a"): kind`},
		{"bad chip", `{"name":"x","ports":[{"name":"a","kind":"fxs","chip":"si9999","spi_bus":"SPI0.0"}]}`, `port 1 ("a"): chip`},
		{"chip for other kind", `{"name":"x","ports":[{"name":"a","kind":"fxo","chip":"si3215","spi_bus":"SPI0.0"}]}`, "serves fxs ports"},
		{"no bus", `{"name":"x","ports":[{"name":"a","kind":"fxs","chip":"si3215"}]}`, "spi_bus: missing"},
		{"dup slot", `{"name":"x","ports":[{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"S"},{"name":"b","kind":"fxo","chip":"si3050","spi_bus":"S"}]}`, `port 2 ("b"): pcm_slot: 0 is already used by "a"`},
		{"dup name", `{"name":"x","ports":[{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"S"},{"name":"a","kind":"fxo","chip":"si3050","spi_bus":"S","pcm_slot":1}]}`, "name: used twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseGood(t *testing.T) {
	b, err := Parse([]byte(`{"name":"pi4","ports":[{"name":"fxs1","kind":"fxs","chip":"si3215","spi_bus":"SPI0.0","pcm_device":"hw:0,0"},{"name":"fxo1","kind":"fxo","chip":"si3050","spi_bus":"SPI0.1","pcm_device":"hw:0,0","pcm_slot":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if b.Count(FXS) != 1 || b.Count(FXO) != 1 {
		t.Fatalf("parsed %+v", b)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"name":"pi4","ports":[{"name":"fxs1","kind":"fxs","chip":"si3215","spi_bus":"SPI0.0"}]}`))
	f.Add([]byte(`{"name":"x","sim":true,"ports":[{"name":"a","kind":"fxo","chip":"si3050"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data)
		if err == nil && b.Validate() != nil {
			t.Fatalf("Parse accepted a board that does not validate: %+v", b)
		}
		if err == nil {
			if err := b.Resolve().Validate(); err != nil {
				t.Fatalf("resolving %+v made it invalid: %v", b, err)
			}
		}
	})
}

// hw is a valid one-port hardware description that the table below breaks
// one field at a time.
func hw(port string) string {
	return `{"name":"x","ports":[` + port + `]}`
}

func TestValidateFields(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"no pcm device", hw(`{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"SPI0.0"}`), `port 1 ("a"): pcm_device: missing`},
		{"bad pcm device", hw(`{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"SPI0.0","pcm_device":"default"}`), `port 1 ("a"): pcm_device:`},
		{"bad codec", hw(`{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"S","pcm_device":"hw:0","codec":"g729"}`), `port 1 ("a"): codec: "g729"`},
		{"bad caller id", hw(`{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"S","pcm_device":"hw:0","caller_id":"fsk"}`), `port 1 ("a"): caller_id: "fsk" is not one of bellcore`},
		{"bad country", hw(`{"name":"a","kind":"fxo","chip":"si3050","spi_bus":"S","pcm_device":"hw:0","country":"FR"}`), `port 1 ("a"): country: "FR" is not one of CN, EU, JP, UK, US`},
		{"ring on fxo", hw(`{"name":"a","kind":"fxo","chip":"si3050","spi_bus":"S","pcm_device":"hw:0","ring":"US"}`), `port 1 ("a"): ring: only FXS`},
		{"bad ring", hw(`{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"S","pcm_device":"hw:0","ring":"XX"}`), `port 1 ("a"): ring: "XX"`},
		{"loop too high", hw(`{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"S","pcm_device":"hw:0","loop_ma":60}`), `port 1 ("a"): loop_ma: 60`},
		{"daisy-chained proslic", hw(`{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"S","pcm_device":"hw:0","chip_select":1}`), `port 1 ("a"): chip_select: 1: ProSLIC`},
		{"same chip select", hw(`{"name":"a","kind":"fxo","chip":"si3050","spi_bus":"S","pcm_device":"hw:0"},{"name":"b","kind":"fxo","chip":"si3050","spi_bus":"S","pcm_device":"hw:0","pcm_slot":1}`), `port 2 ("b"): chip_select: S address 0 is already used by "a"`},
		{"slot past highway", `{"name":"x","pcm_slots":8,"pcm_format":"s32le","ports":[{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"S","pcm_device":"hw:0","pcm_slot":7,"codec":"linear"}]}`, `port 1 ("a"): pcm_slot: 7 (linear, 2 timeslots) is outside 0-7`},
		{"linear overlaps next", hw(`{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"S0","pcm_device":"hw:0","codec":"linear"},{"name":"b","kind":"fxs","chip":"si3215","spi_bus":"S1","pcm_device":"hw:0","pcm_slot":1}`), `port 2 ("b"): pcm_slot: 1 is already used by "a"`},
		{"bad format", `{"name":"x","pcm_format":"s24le","ports":[{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"S","pcm_device":"hw:0"}]}`, `board: pcm_format: "s24le"`},
		{"slots not whole channels", `{"name":"x","pcm_format":"s32le","pcm_slots":6,"ports":[{"name":"a","kind":"fxs","chip":"si3215","spi_bus":"S","pcm_device":"hw:0"}]}`, `board: pcm_slots: 6 is not a multiple of 4`},
		{"bad board country", `{"name":"x","country":"FR","sim":true,"ports":[{"name":"a","kind":"fxs","chip":"si3215"}]}`, `board: country: "FR"`},
		{"name with space", `{"name":"x","sim":true,"ports":[{"name":"a b","kind":"fxs","chip":"si3215"}]}`, `name: "a b" contains white space`},
		{"trailing data", `{"name":"x","sim":true,"ports":[{"name":"a","kind":"fxs","chip":"si3215"}]} {}`, `data after the description`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReferenceBoard(t *testing.T) {
	b, err := Load("boards/rpi4-2fxs-2fxo.json")
	if err != nil {
		t.Fatal(err)
	}
	if b.Sim || b.Count(FXS) != 2 || b.Count(FXO) != 2 {
		t.Fatalf("reference board: %+v", b)
	}
	r := b.Resolve()
	if f, err := r.ALSAFormat(); err != nil || f != pcm.S32LE || r.PCMSlots != 8 {
		t.Fatalf("highway %v %v %d, want S32_LE with 8 slots", f, err, r.PCMSlots)
	}
	seen := map[string]bool{}
	for _, p := range r.Ports {
		for _, pin := range []string{p.ResetGPIO, p.IRQGPIO, p.SPIBus} {
			if pin == "" || seen[pin] {
				t.Errorf("port %s: pin %q missing or shared", p.Name, pin)
			}
			seen[pin] = true
		}
		if p.Codec != "alaw" || p.Country != "CN" || p.CallerID != "bellcore" {
			t.Errorf("port %s resolved to %+v", p.Name, p)
		}
	}
}

func TestLoadErrorNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(path, []byte(`{"name":"x","ports":[{"name":"fxs9","kind":"fxs","chip":"si3215","pcm_device":"hw:0"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `port 1 ("fxs9"): spi_bus: missing`) {
		t.Fatalf("error %v", err)
	}
}

func TestResolve(t *testing.T) {
	b := Sim()
	b.Ports[0].Country = "US"
	b.Ports[1].Codec = "linear"
	b.Ports[2].PCMSlot = 10
	b.Ports[5].Country = "uk"
	b.Ports[3].Country = "etsi"
	b.Ports[4].Country = "jp"
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	r := b.Resolve()
	tests := []struct {
		port                      int
		country, codec, cid, ring string
	}{
		{0, "US", "ulaw", "bellcore", "US"},
		{1, "CN", "linear", "bellcore", "CN"},
		{3, "EU", "alaw", "etsi-reversal", "EU"},
		{4, "JP", "ulaw", "bellcore", ""},
		{5, "UK", "alaw", "etsi-dtas", ""},
	}
	for _, tt := range tests {
		p := r.Ports[tt.port]
		if p.Country != tt.country || p.Codec != tt.codec || p.CallerID != tt.cid || p.Ring != tt.ring || p.SPIHz != 1_000_000 {
			t.Errorf("port %s resolved to %+v, want %s %s %s ring %q", p.Name, p, tt.country, tt.codec, tt.cid, tt.ring)
		}
		if _, err := p.PCMCodec(); err != nil {
			t.Error(err)
		}
	}
	if b.Ports[0].Codec != "" {
		t.Fatal("Resolve changed its receiver's ports")
	}
	if _, ok := r.Port("fxo2"); !ok {
		t.Fatal("Port(fxo2) not found")
	}
	if _, ok := r.Port("fxo9"); ok {
		t.Fatal("Port(fxo9) found")
	}
}
