package console

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzSplitArgs checks that splitting agrees with strings.FieldsFunc when
// there are no quotes, and that quoting the result and splitting it again
// gives the same words.
func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{"", "a b", `a "b c" 'd'`, `x"y z"w`, `"open`, "\t a\t", `'it"s' "it's"`, "中文 名"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args, err := splitArgs(line)
		quoted := strings.ContainsAny(line, `"'`)
		if !quoted {
			want := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
			if err != nil || !slices.Equal(args, want) {
				t.Fatalf("splitArgs(%q) = %q, %v; want %q", line, args, err, want)
			}
		}
		if err != nil {
			return
		}
		var again []string
		for _, a := range args {
			q := `"`
			if strings.Contains(a, `"`) {
				q = "'"
			}
			if strings.Contains(a, `"`) && strings.Contains(a, "'") {
				return // not representable with one quote kind; fine
			}
			again = append(again, q+a+q)
		}
		back, err := splitArgs(strings.Join(again, " "))
		if err != nil || !slices.Equal(back, args) || len(back) != len(args) {
			t.Fatalf("re-split of %q = %q, %v; want %q", again, back, err, args)
		}
	})
}

// FuzzShell types arbitrary bytes at the shell. Invariants: Serve ends at
// EOF without error, never emits a bare LF, and runs a host action only
// if its command name was typed.
func FuzzShell(f *testing.F) {
	for _, s := range []string{"help\r", "logs 3\r\nrestart\n", "ver\x7fsion\r\x03\x04", "\x1b[", "\x1b[1;", "\x1bO", "\r\n\r\n\n\r",
		"passwd-reset\r", strings.Repeat("x", 600) + "\r", "版本\x08\r", "echo 'a b\r"} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("pw\rwrong\r\x04status\r"), true)
	f.Fuzz(func(t *testing.T, keys []byte, password bool) {
		host := &fakeHost{}
		cfg := Config{RequirePassword: password, FailDelay: time.Nanosecond,
			CheckPassword: func(pw string) bool { return pw == "pw" }}
		c, err := newConsole(cfg, host, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		rw := struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(keys), &out}
		if err := c.Serve(context.Background(), rw); err != nil {
			t.Fatalf("Serve: %v", err)
		}
		if strings.Contains(strings.ReplaceAll(out.String(), "\r\n", ""), "\n") {
			t.Fatalf("bare LF in %q", out.String())
		}
		typed := string(keys)
		if host.restarts > 0 && !strings.Contains(typed, "re") ||
			host.resets > 0 && !strings.Contains(typed, "passwd-reset") ||
			len(host.logsN) > 0 && !strings.Contains(typed, "l") {
			t.Fatalf("host action without its command in %q", typed)
		}
		if password && !strings.Contains(typed, "pw") && (host.restarts > 0 || len(host.logsN) > 0) {
			t.Fatalf("command ran without the password: %q", typed)
		}
	})
}
