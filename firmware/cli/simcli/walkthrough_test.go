package simcli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeSections are the README's walkthrough, whose console blocks the
// test runs in order: the first call, then the call centre's.
var readmeSections = []string{"### A first call, by hand", "### The call centre"}

// TestREADMEWalkthrough builds callboxd and callboxctl, starts the box in
// simulation as `make run` does (on free ports, in a data directory of its
// own), and runs the console blocks of the README's first-call walkthrough
// exactly as written, from the directory holding var/: each "$ " command
// must exit 0 and print the lines shown ("..." alone stands for any lines,
// within a line for any text).
func TestREADMEWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("simcli: builds and runs the daemon")
	}
	blocks, err := walkthrough(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, prog := range []string{"callboxd", "callboxctl"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(bin, prog), "callbox/firmware/cmd/"+prog).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", prog, err, out)
		}
	}
	work := t.TempDir()
	if err := os.Mkdir(filepath.Join(work, "var"), 0o700); err != nil {
		t.Fatal(err)
	}
	daemon := exec.Command(filepath.Join(bin, "callboxd"), "--board", "sim", "--data", "var",
		"--http", freeAddr(t), "--https", "none", "--sip", "127.0.0.1:0", "--console", "none", "--no-watchdog")
	daemon.Dir = work
	var logs bytes.Buffer
	daemon.Stdout, daemon.Stderr = &logs, &logs
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed when the daemon has exited, with its error in waitErr,
	// so that both the boot loop and the cleanup can see it.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = daemon.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = daemon.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = daemon.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("callboxd output:\n%s", logs.String())
		}
	})
	ctl := filepath.Join(bin, "callboxctl")
	ready := false
	for end := time.Now().Add(15 * time.Second); !ready && time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("callboxd exited during boot: %v", waitErr)
		default:
		}
		c := exec.Command(ctl, "sim", "status")
		c.Dir = work
		ready = c.Run() == nil
	}
	if !ready {
		t.Fatal("callboxd did not answer on its control socket within 15 s")
	}

	for _, b := range blocks {
		for _, step := range b {
			if step.file != "" {
				if err := os.WriteFile(filepath.Join(work, step.file), []byte(step.content), 0o600); err != nil {
					t.Fatal(err)
				}
				continue
			}
			args, err := splitCommand(step.cmd)
			if err != nil {
				t.Fatal(err)
			}
			if args[0] != "bin/callboxctl" {
				t.Fatalf("README command %q: the walkthrough runs bin/callboxctl only", step.cmd)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			c := exec.CommandContext(ctx, ctl, args[1:]...)
			c.Dir = work
			var out, errb bytes.Buffer
			c.Stdout, c.Stderr = &out, &errb
			t0 := time.Now()
			err = c.Run()
			cancel()
			got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if err != nil || !matchLines(step.want, got) {
				t.Fatalf("$ %s\n(exit: %v, took %v)\ngot:\n%s\nstderr:\n%s\nthe README shows:\n%s",
					step.cmd, err, time.Since(t0).Round(time.Millisecond), out.String(), errb.String(), strings.Join(step.want, "\n"))
			}
			t.Logf("$ %s (%v)", step.cmd, time.Since(t0).Round(time.Millisecond))
		}
	}
}

// step is one command of a console block and the output shown after it,
// or a file the block writes with cat and a here-document.
type step struct {
	cmd  string
	want []string
	// file and content: "$ cat > file <<'EOF'" up to "EOF".
	file, content string
}

// walkthrough reads the console blocks of the README's walkthrough.
func walkthrough(readme string) ([][]step, error) {
	f, err := os.Open(readme)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var blocks [][]step
	var cur []step
	in, inBlock := false, false
	heredoc := regexp.MustCompile(`^\$ cat > (\S+) <<'EOF'$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !inBlock && strings.HasPrefix(line, "#"):
			in = slices.Contains(readmeSections, line)
		case !in:
		case !inBlock && line == "```console":
			inBlock, cur = true, nil
		case inBlock && line == "```":
			inBlock = false
			blocks = append(blocks, cur)
		case inBlock && len(cur) > 0 && cur[len(cur)-1].file != "" && !strings.HasSuffix(cur[len(cur)-1].content, "EOF\n"):
			cur[len(cur)-1].content += line + "\n"
		case inBlock && heredoc.MatchString(line):
			cur = append(cur, step{file: heredoc.FindStringSubmatch(line)[1]})
		case inBlock && strings.HasPrefix(line, "$ "):
			cur = append(cur, step{cmd: strings.TrimPrefix(line, "$ ")})
		case inBlock && len(cur) > 0:
			cur[len(cur)-1].want = append(cur[len(cur)-1].want, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, b := range blocks {
		for i := range b {
			b[i].content = strings.TrimSuffix(b[i].content, "EOF\n")
		}
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("%s: no console blocks under %q", readme, readmeSections)
	}
	return blocks, nil
}

// splitCommand splits a shell command line at spaces, keeping double-quoted
// words whole.
func splitCommand(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	quoted, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, have = !quoted, true
		case r == ' ' && !quoted:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if quoted {
		return nil, errors.New("unbalanced quotes in " + s)
	}
	if have {
		args = append(args, cur.String())
	}
	return args, nil
}

// matchLines reports whether got matches want: a want line "..." matches
// any number of lines, "..." inside a line any text; other text is exact.
func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0 || len(got) == 1 && got[0] == ""
	}
	if want[0] == "..." {
		for i := 0; i <= len(got); i++ {
			if matchLines(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	if len(got) == 0 || !matchLine(want[0], got[0]) {
		return false
	}
	return matchLines(want[1:], got[1:])
}

func matchLine(want, got string) bool {
	parts := strings.Split(want, "...")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(got)
}

func TestMatchLines(t *testing.T) {
	tests := []struct {
		want, got string
		ok        bool
	}{
		{"a\nb", "a\nb", true},
		{"a\nb", "a\nc", false},
		{"a\n...", "a\nb\nc", true},
		{"a\n...", "a", true},
		{"...\nc", "a\nb\nc", true},
		{"x ...: 4", "x /tmp/var/p.json: 4", true},
		{"x ...: 4", "y /tmp: 4", false},
		{"a", "a\nb", false},
	}
	for _, tt := range tests {
		if got := matchLines(strings.Split(tt.want, "\n"), strings.Split(tt.got, "\n")); got != tt.ok {
			t.Errorf("matchLines(%q, %q) = %v", tt.want, tt.got, got)
		}
	}
	args, err := splitCommand(`bin/callboxctl sim fxo1 ring --name "ZHANG SAN"  --from 1`)
	if err != nil || strings.Join(args, "|") != "bin/callboxctl|sim|fxo1|ring|--name|ZHANG SAN|--from|1" {
		t.Errorf("splitCommand: %q %v", args, err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
