// Package dsptest holds what dsp's tests share: running independent signal
// sources (sox, espeak-ng, spandsp helpers) and reading their output.
//
// Tests that start child processes skip under `go test -short`, which is how
// `make test` runs the ARM test binaries under qemu. Without -short a missing
// tool fails the test: `make test` installs every tool it needs, so a silent
// skip would hide a broken setup.
package dsptest

import (
	"bytes"
	"encoding/binary"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// NeedTool returns the path of the named program, skipping in -short mode
// and failing (with the Debian package to install) when it is missing.
func NeedTool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("dsptest: %s: child processes are not run in -short mode", name)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("dsptest: %s not found (apt-get install %s, or run make test which installs it): %v", name, debianPackage, err)
	}
	return p
}

// Run runs a program and returns its standard output, failing the test with
// its standard error on a non-zero exit.
func Run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dsptest: %s %v: %v\n%s", name, args, err, stderr.String())
	}
	return stdout.Bytes()
}

// Sox runs sox with the given arguments, which must write raw signed 16-bit
// little-endian samples to standard output ("-t raw -e signed -b 16 -"
// or use SoxOut), and returns the samples.
func Sox(t testing.TB, args ...string) []int16 {
	t.Helper()
	NeedTool(t, "sox", "sox")
	return Int16s(Run(t, "sox", args...))
}

// SoxOut is the output specification for Sox: 8 kHz mono raw int16 on stdout.
var SoxOut = []string{"-t", "raw", "-r", "8000", "-c", "1", "-e", "signed-integer", "-b", "16", "-L", "-"}

// Int16s decodes little-endian int16 samples.
func Int16s(b []byte) []int16 {
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// Bytes encodes int16 samples little-endian, for feeding a child process.
func Bytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// BuildSpandsp compiles a C reference program (a file under the test's
// testdata) against Debian's libspandsp into a temporary directory and
// returns the binary's path. spandsp is the DSP library Asterisk and
// FreeSWITCH use: the independent implementation our packages are checked
// and timed against.
func BuildSpandsp(t testing.TB, source string) string {
	t.Helper()
	cc := NeedTool(t, "cc", "gcc")
	bin := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(source), ".c"))
	out, err := exec.Command(cc, "-O2", "-Wall", "-o", bin, source, "-lspandsp", "-lm").CombinedOutput()
	if err != nil {
		t.Fatalf("dsptest: building %s against libspandsp (apt-get install libspandsp-dev gcc): %v\n%s", source, err, out)
	}
	return bin
}
