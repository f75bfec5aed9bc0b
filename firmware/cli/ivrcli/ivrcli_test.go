package ivrcli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callbox/dsp/wav/wavtest"
	"callbox/firmware/cli"
)

const testdata = "../../../telephony/ivr/testdata"

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Command.Run(context.Background(), args, cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestCheckExamples(t *testing.T) {
	// An independent prompt catalogue: the English prompts Debian ships
	// for Asterisk.
	asteriskSounds := wavtest.NeedDir(t)
	files, err := filepath.Glob(filepath.Join(testdata, "*.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("example flows: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, out, stderr := runCmd("check", "--prompts", asteriskSounds, f)
			if code != 0 || !strings.HasPrefix(out, f+": ok: flow ") || stderr != "" {
				t.Fatalf("exit %d\n%s%s", code, out, stderr)
			}
		})
	}
}

func TestCheckInvalid(t *testing.T) {
	f := filepath.Join(testdata, "invalid", "broken.json")
	code, out, _ := runCmd("check", f, "--prompts", wavtest.NeedDir(t))
	want := []string{
		`node "typo": unknown node type "plya"`,
		`node "start": prompt: prompt "no-such-prompt" is not in the prompt catalogue`,
		`node "menu": options: key "22" is not one DTMF key (0-9, *, #, A-D)`,
		`node "menu": timeout: 2m0s is out of range 1s..1m0s`,
		`node "menu": options.22: target "support" is not a node`,
		`node "orphan": unreachable from the entry "start"`,
		`node "sales": loop that never waits for the caller: sales -> retry -> sales`,
	}
	for i := range want {
		want[i] = f + ": " + want[i]
	}
	if code != 1 || out != strings.Join(want, "\n")+"\n" {
		t.Fatalf("exit %d, output:\n%s\nwant:\n%s", code, out, strings.Join(want, "\n"))
	}
}

func TestCheckCases(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caller := write("caller.json", `{"id":"main","entry":"a","nodes":[
		{"id":"a","type":"call","flow":"sub","next":"b"},{"id":"b","type":"hangup"}]}`)
	sub := write("sub.json", `{"id":"sub","entry":"a","nodes":[{"id":"a","type":"return"}]}`)
	dup := write("dup.json", `{"id":"sub","entry":"a","nodes":[{"id":"a","type":"return"}]}`)
	notJSON := write("bad.json", `{"id":`)
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"sub-flow found among the files", []string{"check", caller, sub}, 0, ""},
		{"sub-flow missing", []string{"check", caller}, 1,
			caller + `: node "a": flow: sub-flow "sub" version 0: ivr: no such flow: "sub" is not among the files checked`},
		{"same flow id twice", []string{"check", sub, dup}, 1, dup + `: flow: id: flow "sub" is also in another file`},
		{"not JSON", []string{"check", notJSON}, 1, notJSON + ": ivr: flow: unexpected EOF"},
		{"no such file", []string{"check", filepath.Join(dir, "none.json")}, 1, "no such file"},
		{"no file", []string{"check"}, 2, ""},
		{"bad prompt dir", []string{"check", "--prompts", filepath.Join(dir, "none"), sub}, 2, ""},
		{"unknown flag", []string{"check", "--bogus", sub}, 2, ""},
		{"unknown subcommand", []string{"lint"}, 2, ""},
		{"help", []string{"help"}, 0, "usage: callboxctl ivr check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCmd(tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, out, stderr)
			}
		})
	}
}

func TestRun(t *testing.T) {
	daynight := filepath.Join(testdata, "daynight.json")
	verify := filepath.Join(testdata, "verify.json")
	survey := filepath.Join(testdata, "survey.json")
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"night caller leaves a message", []string{"--at", "2026-11-18T21:00:00+08:00", "--keys", "1", daynight}, 0,
			"say \"现在是非工作时间。留言请按1, 查询账户余额请按2。\"\nkeys: 1\nvoicemail box 8000\nhang up\nend: voicemail (8000) after 3 nodes\n"},
		{"day caller picks sales, nobody answers", []string{"--at", "2026-11-18T10:00:00+08:00", "--keys", "1",
			"--queue", "unserved", "--caller", "139", daynight}, 0,
			"http GET http://127.0.0.1:8088/crm/customer?phone=139\nplay hello\nplay basic-pbx-ivr-main\nkeys: 1\n" +
				"play queue-thankyou\nqueue group 1\nvoicemail box 8000\nhang up\nend: voicemail (8000) after 6 nodes\n"},
		{"missing prompt falls back to its text", []string{"--at", "2026-11-18T10:00:00+08:00", "--keys", "!",
			"--prompts", t.TempDir(), daynight}, 1, "prompt \"hello\" is not in the prompt catalogue"},
		{"agent's caller comes back", []string{"--agent", "1001", "--keys", "123456", verify}, 0,
			"back to agent 1001\nend: returned after 3 nodes\n"},
		{"survey answer", []string{"--keys", "4", survey}, 0, "survey: satisfaction = 4\n"},
		{"caller hangs up", []string{"--keys", "!", survey}, 0, "caller hangs up\nend: caller-gone"},
		{"invalid flow is not run", []string{filepath.Join(testdata, "invalid", "broken.json")}, 1, "unknown node type"},
		{"bad time", []string{"--at", "tomorrow", survey}, 2, ""},
		{"bad queue outcome", []string{"--queue", "maybe", survey}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCmd(append([]string{"run"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.out) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr: %s\nwant in stdout:\n%s", code, tt.code, out, stderr, tt.out)
			}
		})
	}
}
