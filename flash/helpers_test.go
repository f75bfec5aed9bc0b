package flash

import (
	"bytes"
	"crypto/ed25519"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testKey is one key per test binary: generating is cheap, but fixed bytes
// keep fuzz seeds valid across runs.
var testPriv = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
var testPub = testPriv.Public().(ed25519.PublicKey)

func bytesSource(name string, b []byte) ImageSource {
	return ImageSource{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

func testManifest(version string) Manifest {
	return Manifest{Version: version, Compatible: []string{"qemu-armv7", "rpi4-callbox"},
		Created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Notes: "test"}
}

// makeBundle builds a bundle of one rootfs image in memory.
func makeBundle(t testing.TB, key ed25519.PrivateKey, m Manifest, rootfs []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := WriteBundle(&buf, key, m, []ImageSource{bytesSource("rootfs", rootfs)}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// simBox is a box on files: the environment and both slots in a directory.
type simBox struct {
	dir   string
	env   EnvStore
	slots map[string]string
}

func newSimBox(t testing.TB) *simBox {
	t.Helper()
	dir := t.TempDir()
	b := &simBox{dir: dir, env: EnvStore{Path: filepath.Join(dir, "env.img"), Offsets: []int64{0, 16 << 10}, Size: 16 << 10},
		slots: map[string]string{"A": filepath.Join(dir, "rootfs-a.img"), "B": filepath.Join(dir, "rootfs-b.img")}}
	env := Env{"bootdelay": "0"}
	DefaultBootState().Apply(env)
	if err := b.env.Create(env); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.slots["A"], []byte("running system A"), 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *simBox) installer(board, running string) Installer {
	return Installer{Key: testPub, Policy: Policy{Board: board, Running: running}, Boot: b.env,
		Files: func(slot, image string) (string, int64, error) { return b.slots[slot], 64 << 20, nil }}
}

func (b *simBox) boot(t testing.TB) BootState {
	t.Helper()
	st, err := b.env.ReadBoot()
	if err != nil {
		t.Fatal(err)
	}
	return st
}
