package otacli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callbox/firmware/cli"
)

func run(t *testing.T, cmd cli.Command, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cmd.Run(context.Background(), args, cli.IO{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

// TestBundleCommands: keygen, create and verify work together; verify
// refuses a bundle under another key and a bundle with a flipped byte;
// keygen never overwrites a key.
func TestBundleCommands(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "rootfs.ext4")
	os.WriteFile(img, bytes.Repeat([]byte("ext4"), 50_000), 0o644)
	k := filepath.Join(dir, "dev")
	if code, _, e := run(t, Bundle, "keygen", k); code != 0 {
		t.Fatal(e)
	}
	if st, _ := os.Stat(k + ".key"); st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", st.Mode())
	}
	if code, _, e := run(t, Bundle, "keygen", k); code == 0 || !strings.Contains(e, "not overwriting") {
		t.Fatalf("keygen over a key: %d %s", code, e)
	}
	out := filepath.Join(dir, "u.cbx")
	code, o, e := run(t, Bundle, "create", "--key", k+".key", "--version", "1.3.0", "--compatible", "sim, qemu-armv7",
		"--notes", "fixes", "-o", out, "rootfs="+img)
	if code != 0 || !strings.Contains(o, "version     1.3.0") {
		t.Fatalf("create: %d %s %s", code, o, e)
	}
	code, o, e = run(t, Bundle, "verify", "--key", k+".pub", out)
	if code != 0 || !strings.Contains(o, "signature and images verified") || !strings.Contains(o, "sim, qemu-armv7") {
		t.Fatalf("verify: %d %s %s", code, o, e)
	}
	run(t, Bundle, "keygen", filepath.Join(dir, "other"))
	if code, _, e := run(t, Bundle, "verify", "--key", filepath.Join(dir, "other.pub"), out); code == 0 || !strings.Contains(e, "signature does not verify") {
		t.Fatalf("verify with another key: %d %s", code, e)
	}
	b, _ := os.ReadFile(out)
	b[len(b)-10] ^= 1
	os.WriteFile(out, b, 0o644)
	if code, _, e := run(t, Bundle, "verify", "--key", k+".pub", out); code == 0 || !strings.Contains(e, "sha256") {
		t.Fatalf("verify a flipped byte: %d %s", code, e)
	}
	if code, _, e := run(t, Bundle, "create", "--key", k+".key", "--version", "x", "--compatible", "sim", "-o", out, "rootfs="+img); code == 0 || !strings.Contains(e, "version") {
		t.Fatalf("create with a bad version: %d %s", code, e)
	}
	if code, _, _ := run(t, Bundle, "frobnicate"); code != 2 {
		t.Fatal("unknown verb accepted")
	}
}

func TestUpdateNeedsDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("dials a unix socket")
	}
	code, _, e := run(t, Update, "--data", t.TempDir(), "status")
	if code == 0 || !strings.Contains(e, "no daemon answers") {
		t.Fatalf("%d %s", code, e)
	}
}
