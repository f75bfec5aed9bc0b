package cli_test

import (
	"slices"
	"testing"

	"callbox/firmware/cli"
)

func TestHoistFlags(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"probe", "--data", "/d"}, []string{"--data", "/d", "probe"}},
		{[]string{"ring", "fxs1", "--cycles", "3", "--socket=/s"}, []string{"--socket=/s", "ring", "fxs1", "--cycles", "3"}},
		{[]string{"--board", "sim", "diag"}, []string{"--board", "sim", "diag"}},
		{[]string{"diag", "fxs1"}, []string{"diag", "fxs1"}},
	}
	for _, tt := range tests {
		if got := cli.HoistFlags(tt.in, "data", "socket", "board"); !slices.Equal(got, tt.want) {
			t.Errorf("cli.HoistFlags(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
