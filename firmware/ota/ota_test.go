package ota

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"callbox/flash"
)

var testPriv = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))

func keyFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ota.pub")
	if err := os.WriteFile(p, []byte(base64.StdEncoding.EncodeToString(testPriv.Public().(ed25519.PublicKey))), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func bundle(t *testing.T, version string, boards []string, rootfs []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	m := flash.Manifest{Version: version, Compatible: boards, Created: time.Now().UTC()}
	src := flash.ImageSource{Name: "rootfs", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(rootfs)), nil }}
	if _, err := flash.WriteBundle(&buf, testPriv, m, []flash.ImageSource{src}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func openSim(t *testing.T, cfg Config) *Updater {
	t.Helper()
	u, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSimUpdateCycle: the simulated box boots A with the running version,
// installs a bundle into B, restarts into B's version, marks it good and
// stays there; an update that never becomes healthy is tried three times
// and the box comes back on the good slot by itself.
func TestSimUpdateCycle(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Sim: true, Running: "1.0.0", KeyFile: keyFile(t)}
	u := openSim(t, cfg)
	if u.Booted() != "A" || u.Version() != "1.0.0" {
		t.Fatalf("first boot: slot %s version %s", u.Booted(), u.Version())
	}
	if err := u.MarkGood(); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Apply(); err == nil {
		t.Fatal("Apply with nothing installed")
	}
	b := bundle(t, "1.1.0", []string{"sim"}, []byte("rootfs 1.1.0"))
	m, err := u.Install(context.Background(), bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	st := u.Status()
	if m.Version != "1.1.0" || st.Pending == nil || st.Slots[1].State != "installed" || st.Slots[1].Version != "1.1.0" {
		t.Fatalf("after install: %+v", st)
	}
	if _, err := u.Apply(); err != nil {
		t.Fatal(err)
	}
	// Reboot.
	u = openSim(t, cfg)
	if u.Booted() != "B" || u.Version() != "1.1.0" {
		t.Fatalf("after the update: slot %s version %s", u.Booted(), u.Version())
	}
	if st := u.Status(); st.Slots[1].State != "trying" {
		t.Fatalf("B before mark good: %+v", st.Slots[1])
	}
	if err := u.MarkGood(); err != nil {
		t.Fatal(err)
	}
	u = openSim(t, cfg)
	if u.Booted() != "B" {
		t.Fatalf("B marked good, next boot %s", u.Booted())
	}
	u.MarkGood()
	// A broken update into A: it never reports healthy.
	b = bundle(t, "1.2.0", []string{"sim"}, []byte("a rootfs whose daemon exits at start"))
	if _, err := u.Install(context.Background(), bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Apply(); err != nil {
		t.Fatal(err)
	}
	var boots []string
	for range flash.MaxAttempts + 1 {
		u = openSim(t, cfg)
		boots = append(boots, u.Booted()+" "+u.Version())
	}
	if want := []string{"A 1.2.0", "A 1.2.0", "A 1.2.0", "B 1.1.0"}; !slices.Equal(boots, want) {
		t.Fatalf("boots %v, want %v", boots, want)
	}
}

func TestSimRefusals(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Sim: true, Running: "1.0.0", KeyFile: keyFile(t), Floor: "0.9"}
	u := openSim(t, cfg)
	for _, tc := range []struct {
		name   string
		bundle []byte
		want   string
	}{
		{"board", bundle(t, "1.1.0", []string{"rpi4-callbox"}, []byte("x")), "this box is \"sim\""},
		{"floor", bundle(t, "0.8.0", []string{"sim"}, []byte("x")), "older than 0.9"},
	} {
		_, err := u.Install(context.Background(), bytes.NewReader(tc.bundle), int64(len(tc.bundle)))
		if !errors.Is(err, flash.ErrRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "ota", "slot-B.img")); err == nil {
			t.Errorf("%s: slot B written", tc.name)
		}
	}
	if st := u.Status(); st.LastError == "" || st.Pending != nil {
		t.Fatalf("status after refusals: %+v", st)
	}
}

func TestNoKey(t *testing.T) {
	u := openSim(t, Config{DataDir: t.TempDir(), Sim: true, Running: "1.0.0"})
	if st := u.Status(); st.Available || !strings.Contains(st.Reason, "no update key") {
		t.Fatalf("%+v", st)
	}
	if _, err := u.Install(context.Background(), strings.NewReader("x"), 1); !errors.Is(err, flash.ErrRefused) {
		t.Fatalf("err = %v", err)
	}
}

// TestDeviceMode runs the hardware path on an image file: the layout's
// environment offsets in the "disk", the slot partitions beside it.
func TestDeviceMode(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 8<<20); err != nil {
		t.Fatal(err)
	}
	cfg := Config{DataDir: filepath.Join(dir, "data"), Board: "qemu-armv7", Slot: "A", Disk: disk, Running: "2.0.0", KeyFile: keyFile(t)}
	u := openSim(t, cfg)
	if st := u.Status(); !st.Available || st.Booted != "A" {
		t.Fatalf("%+v", st)
	}
	b := bundle(t, "2.1.0", []string{"qemu-armv7"}, bytes.Repeat([]byte("r"), 1<<20))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(b) }))
	defer srv.Close()
	if testing.Short() {
		_, err := u.Install(context.Background(), bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
	} else if _, err := u.InstallFrom(context.Background(), srv.URL+"/bundle"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(disk + "3")
	if !bytes.Equal(got, bytes.Repeat([]byte("r"), 1<<20)) {
		t.Fatal("partition 3 (slot B) does not hold the image")
	}
	if _, err := u.Apply(); err != nil {
		t.Fatal(err)
	}
	st, err := flash.LayoutFor("qemu-armv7")
	if err != nil {
		t.Fatal(err)
	}
	boot, err := st.EnvStore(disk).ReadBoot()
	if err != nil {
		t.Fatal(err)
	}
	if boot.Order[0] != "B" || boot.Left["B"] != flash.MaxAttempts {
		t.Fatalf("environment after Apply: %+v", boot)
	}
	if _, err := os.Stat(disk + "2"); err == nil {
		t.Fatal("the booted slot A's partition was written")
	}
}
