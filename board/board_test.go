package board

import (
	"strings"
	"testing"
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
	b, err := Parse([]byte(`{"name":"pi4","ports":[{"name":"fxs1","kind":"fxs","chip":"si3215","spi_bus":"SPI0.0"},{"name":"fxo1","kind":"fxo","chip":"si3050","spi_bus":"SPI0.1","pcm_slot":1}]}`))
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
	})
}
