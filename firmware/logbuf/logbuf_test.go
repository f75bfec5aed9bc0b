package logbuf

import (
	"bytes"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestLast(t *testing.T) {
	b := New(3)
	if got := b.Last(5); len(got) != 0 {
		t.Fatalf("empty buffer gave %q", got)
	}
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(b, "line %d\n", i)
	}
	tests := []struct {
		n    int
		want []string
	}{
		{0, []string{}},
		{1, []string{"line 5"}},
		{3, []string{"line 3", "line 4", "line 5"}},
		{10, []string{"line 3", "line 4", "line 5"}},
	}
	for _, tt := range tests {
		if got := b.Last(tt.n); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Last(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestTee(t *testing.T) {
	var primary bytes.Buffer
	buf := New(10)
	log := slog.New(NewTee(slog.NewJSONHandler(&primary, nil), buf, slog.LevelInfo))
	log.With("component", "store").Info("opened", "path", "x.db")
	log.Debug("hidden")
	lines := buf.Last(10)
	if len(lines) != 1 || !strings.Contains(lines[0], "component=store") || !strings.Contains(lines[0], "msg=opened") {
		t.Fatalf("ring holds %q", lines)
	}
	if !strings.Contains(primary.String(), `"component":"store"`) {
		t.Fatalf("primary got %q", primary.String())
	}
}
