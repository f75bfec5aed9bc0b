package flash

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnvRoundTrip(t *testing.T) {
	for _, offsets := range [][]int64{{0}, {4096, 8192}} {
		s := EnvStore{Path: filepath.Join(t.TempDir(), "env"), Offsets: offsets, Size: 4096}
		if _, err := os.Create(s.Path); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(); !errors.Is(err, ErrNoEnv) {
			t.Fatalf("blank file: err = %v, want ErrNoEnv", err)
		}
		want := Env{"bootcmd": "run distro_bootcmd", "BOOT_ORDER": "A B", "empty": ""}
		for i := range 300 { // wraps the flags counter
			want["n"] = strings.Repeat("x", i%7)
			if err := s.Save(want); err != nil {
				t.Fatal(err)
			}
			got, err := s.Load()
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				t.Fatalf("save %d: loaded %v, want %v", i, got, want)
			}
		}
	}
}

// TestEnvTornSave: a power cut while the new copy is written (a torn
// copy, whatever length of it reached the medium) leaves the previous
// environment in force.
func TestEnvTornSave(t *testing.T) {
	s := EnvStore{Path: filepath.Join(t.TempDir(), "env"), Offsets: []int64{0, 4096}, Size: 4096}
	old := Env{"BOOT_ORDER": "A B", "BOOT_A_LEFT": "3", "BOOT_B_LEFT": "3"}
	if err := s.Create(old); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(s.Path)
	newer := Env{"BOOT_ORDER": "B A", "BOOT_A_LEFT": "3", "BOOT_B_LEFT": "3"}
	if err := s.Save(newer); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(s.Path)
	// The save went to the copy that changed.
	at := 4096
	if !bytes.Equal(before[:4096], after[:4096]) {
		at = 0
	}
	for _, cut := range []int{1, 4, 5, 6, 20, 2000, 4095} {
		// What the medium held there before (here junk) stays past the cut.
		torn := bytes.Clone(before)
		copy(torn[at:at+4096], bytes.Repeat([]byte{0xee}, 4096))
		copy(torn[at:at+cut], after[at:at+cut])
		if err := os.WriteFile(s.Path, torn, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load()
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, old) {
			t.Fatalf("cut after %d bytes: loaded %v, want the previous %v", cut, got, old)
		}
	}
}

func TestEnvTooBig(t *testing.T) {
	if _, err := EncodeEnv(Env{"x": strings.Repeat("y", 100)}, 64); err == nil {
		t.Fatal("oversized environment encoded")
	}
	if _, err := EncodeEnv(Env{"a=b": "c"}, 64); err == nil {
		t.Fatal("name with = encoded")
	}
}

// TestEnvAgainstLibubootenv writes the environment with Go and reads it
// with Debian's fw_printenv, then changes it with fw_setenv and reads it
// with Go, on the same image file: libubootenv is the independent
// reference for the redundant layout, CRC and flags.
func TestEnvAgainstLibubootenv(t *testing.T) {
	if testing.Short() {
		t.Skip("starts fw_printenv and fw_setenv")
	}
	for _, tool := range []string{"fw_printenv", "fw_setenv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install the Debian package libubootenv-tool", tool)
		}
	}
	dir := t.TempDir()
	l, err := LayoutFor("qemu-armv7")
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 8*MiB); err != nil {
		t.Fatal(err)
	}
	s := l.EnvStore(img)
	cfg := filepath.Join(dir, "fw_env.config")
	if err := os.WriteFile(cfg, []byte(s.FWEnvConfig()), 0o644); err != nil {
		t.Fatal(err)
	}
	defenv := filepath.Join(dir, "default.env")
	if err := os.WriteFile(defenv, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	printenv := func() Env {
		t.Helper()
		out, err := exec.Command("fw_printenv", "-c", cfg).CombinedOutput()
		if err != nil {
			t.Fatalf("fw_printenv: %v: %s", err, out)
		}
		env := Env{}
		for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("fw_printenv printed %q", line)
			}
			env[k] = v
		}
		return env
	}
	setenv := func(args ...string) {
		t.Helper()
		out, err := exec.Command("fw_setenv", append([]string{"-c", cfg, "-f", defenv}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("fw_setenv %v: %v: %s", args, err, out)
		}
	}
	// Go writes, libubootenv reads: several saves so both copies and
	// several flags values are exercised.
	env := Env{"bootdelay": "0", "bootcmd": "run callbox_boot; reset"}
	DefaultBootState().Apply(env)
	if err := s.Create(env); err != nil {
		t.Fatal(err)
	}
	for _, slot := range []string{"B", "A", "B"} {
		if err := Activate(s, slot); err != nil {
			t.Fatal(err)
		}
		env, _ = s.Load()
		if got := printenv(); !maps.Equal(got, env) {
			t.Fatalf("fw_printenv read %v, Go wrote %v", got, env)
		}
	}
	// libubootenv writes, Go reads; then Go writes over libubootenv's copy.
	setenv("BOOT_B_LEFT", "1")
	setenv("BOOT_ORDER", "B A")
	setenv("custom", "value with spaces")
	st, err := s.ReadBoot()
	if err != nil {
		t.Fatal(err)
	}
	if st.Left["B"] != 1 || st.Order[0] != "B" {
		t.Fatalf("Go read %+v after fw_setenv", st)
	}
	got, _ := s.Load()
	if got["custom"] != "value with spaces" {
		t.Fatalf("Go read %v", got)
	}
	if err := MarkGood(s, "B"); err != nil {
		t.Fatal(err)
	}
	if pe := printenv(); pe["BOOT_B_LEFT"] != "3" || pe["custom"] != "value with spaces" {
		t.Fatalf("fw_printenv after Go's MarkGood: %v", pe)
	}
	// A corrupted newer copy: both Go and libubootenv fall back to the
	// older one.
	raw, _ := os.ReadFile(img)
	copies, _ := s.readCopies()
	cur := current(copies)
	raw[s.Offsets[cur]+100] ^= 0xff
	if err := os.WriteFile(img, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	goEnv, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if pe := printenv(); !maps.Equal(pe, goEnv) || goEnv["BOOT_B_LEFT"] != "1" {
		t.Fatalf("after corrupting the current copy: fw_printenv %v, Go %v", pe, goEnv)
	}
}
