package flash

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestBundleRoundTrip(t *testing.T) {
	rootfs := bytes.Repeat([]byte("callbox rootfs "), 100_000)
	b := makeBundle(t, testPriv, testManifest("1.2.0"), rootfs)
	h, err := Verify(bytes.NewReader(b), testPub)
	if err != nil {
		t.Fatal(err)
	}
	if h.BundleSize() != int64(len(b)) || h.Manifest.Images[0].Size != int64(len(rootfs)) || h.Manifest.Version != "1.2.0" {
		t.Fatalf("header %+v for a bundle of %d bytes", h, len(b))
	}
	box := newSimBox(t)
	if _, err := box.installer("qemu-armv7", "1.1.0").Install(bytes.NewReader(b), int64(len(b)), "B"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(box.slots["B"])
	if !bytes.Equal(got, rootfs) {
		t.Fatal("slot B does not hold the image")
	}
	st := box.boot(t)
	if st.Left["B"] != 0 {
		t.Fatalf("slot B has %d attempts before Activate, want 0", st.Left["B"])
	}
	if err := Activate(box.env, "B"); err != nil {
		t.Fatal(err)
	}
	st = box.boot(t)
	if st.Order[0] != "B" || st.Left["B"] != MaxAttempts {
		t.Fatalf("after Activate: %+v", st)
	}
}

// TestBundleRefused: every bad bundle the issue names is refused with a
// clear message; those refused before writing leave both slots and the
// environment as they were, those found bad while writing leave slot B
// marked bad and slot A untouched.
func TestBundleRefused(t *testing.T) {
	rootfs := bytes.Repeat([]byte{0x5a}, 300_000)
	good := makeBundle(t, testPriv, testManifest("1.2.0"), rootfs)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	hdr, err := ReadHeader(bytes.NewReader(good), testPub)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(at int64) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0x01
		return b
	}
	minv := testManifest("1.3.0")
	minv.MinVersion = "1.2.5"
	other := testManifest("1.2.0")
	other.Compatible = []string{"some-other-box"}
	tests := []struct {
		name      string
		bundle    []byte
		size      int64 // -1: stream of unknown length
		floor     string
		sentinel  error
		message   string
		writtenTo bool // slot B was written (and is marked bad)
	}{
		{name: "another key", bundle: makeBundle(t, otherKey, testManifest("1.2.0"), rootfs), sentinel: ErrRefused, message: "signature does not verify"},
		{name: "another board", bundle: makeBundle(t, testPriv, other, rootfs), sentinel: ErrRefused, message: `this box is "qemu-armv7"`},
		{name: "older than the floor", bundle: makeBundle(t, testPriv, testManifest("1.0.9"), rootfs), floor: "1.1.0", sentinel: ErrRefused, message: "older than 1.1.0"},
		{name: "needs a newer running version", bundle: makeBundle(t, testPriv, minv, rootfs), sentinel: ErrRefused, message: "installs only over 1.2.5"},
		{name: "truncated, length known", bundle: good[:len(good)-1000], sentinel: ErrRefused, message: "truncated or padded"},
		{name: "truncated in the header", bundle: good[:40], sentinel: ErrRefused, message: "truncated"},
		{name: "truncated, streamed", bundle: good[:len(good)-1000], size: -1, sentinel: ErrDamaged, message: "truncated", writtenTo: true},
		{name: "flipped byte in the magic", bundle: flip(2), sentinel: ErrRefused, message: "not a callbox bundle"},
		{name: "flipped byte in the manifest", bundle: flip(int64(headerFixed) + 30), sentinel: ErrRefused, message: "signature does not verify"},
		{name: "flipped byte in the signature", bundle: flip(hdr.Size - 3), sentinel: ErrRefused, message: "signature does not verify"},
		{name: "flipped byte in the image", bundle: flip(hdr.Size + 200_000), sentinel: ErrDamaged, message: "sha256", writtenTo: true},
		{name: "not a bundle", bundle: []byte("PK\x03\x04 a zip file"), sentinel: ErrRefused, message: "not a callbox bundle"},
		{name: "trailing data, streamed", bundle: append(bytes.Clone(good), 0), size: -1, sentinel: ErrDamaged, message: "data after the last image", writtenTo: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			box := newSimBox(t)
			envBefore, _ := os.ReadFile(box.env.Path)
			in := box.installer("qemu-armv7", "1.1.0")
			in.Policy.Floor = tc.floor
			size := int64(len(tc.bundle))
			if tc.size == -1 {
				size = -1
			}
			_, err := in.Install(bytes.NewReader(tc.bundle), size, "B")
			if !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("err = %v, want %v with %q", err, tc.sentinel, tc.message)
			}
			a, _ := os.ReadFile(box.slots["A"])
			if string(a) != "running system A" {
				t.Fatal("the running slot A was written")
			}
			_, statErr := os.Stat(box.slots["B"])
			envAfter, _ := os.ReadFile(box.env.Path)
			if !tc.writtenTo {
				if statErr == nil || !bytes.Equal(envBefore, envAfter) {
					t.Fatal("refused bundle wrote slot B or the environment")
				}
				return
			}
			st := box.boot(t)
			if st.Left["B"] != 0 || st.Order[0] != "A" {
				t.Fatalf("damaged install left %+v, want B marked bad and A first", st)
			}
			// The bootloader's choice is still A, whatever B holds.
			if got := st.Choose(); got != "A" {
				t.Fatalf("boot chooses %q after a damaged install", got)
			}
		})
	}
}

func TestImageTooBigForSlot(t *testing.T) {
	box := newSimBox(t)
	b := makeBundle(t, testPriv, testManifest("1.2.0"), make([]byte, 5000))
	in := box.installer("qemu-armv7", "1.1.0")
	in.Files = func(slot, image string) (string, int64, error) { return box.slots[slot], 4096, nil }
	_, err := in.Install(bytes.NewReader(b), int64(len(b)), "B")
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "do not fit") {
		t.Fatalf("err = %v", err)
	}
}

// patternReader yields n bytes of a repeating pattern without holding them.
type patternReader struct{ left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.left))
	for i := range n {
		b[i] = byte(i * 7)
	}
	p.left -= int64(n)
	return n, nil
}

// TestInstallMemoryFlat streams a 96 MiB image through WriteBundle and
// Install with pipes: the heap must not grow with the image.
func TestInstallMemoryFlat(t *testing.T) {
	const size = 96 << 20
	src := ImageSource{Name: "rootfs", Open: func() (io.ReadCloser, error) { return io.NopCloser(&patternReader{left: size}), nil }}
	pr, pw := io.Pipe()
	go func() {
		_, err := WriteBundle(pw, testPriv, testManifest("2.0.0"), []ImageSource{src})
		pw.CloseWithError(err)
	}()
	box := newSimBox(t)
	in := box.installer("qemu-armv7", "1.0.0")
	in.Files = func(slot, image string) (string, int64, error) { return box.slots[slot], 0, nil }
	var peak uint64
	var ms runtime.MemStats
	calls := 0
	in.Progress = func(done, total int64) {
		if calls++; calls%64 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	if _, err := in.Install(pr, -1, "B"); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(box.slots["B"])
	if st.Size() != size {
		t.Fatalf("slot B holds %d bytes", st.Size())
	}
	if grow := int64(peak) - int64(base); grow > 8<<20 {
		t.Fatalf("heap grew by %d bytes while installing %d", grow, size)
	}
	t.Logf("heap in use: %d before, %d at most while installing %d MiB", base, peak, size>>20)
}

func TestManifestValidate(t *testing.T) {
	ok := Manifest{Format: 1, Version: "1.0", Compatible: []string{"qemu-armv7"},
		Images: []Image{{Name: "rootfs", Size: 1, SHA256: strings.Repeat("ab", 32)}}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(*Manifest)
		want string
	}{
		{"format", func(m *Manifest) { m.Format = 2 }, "format 2"},
		{"version", func(m *Manifest) { m.Version = "one" }, "version"},
		{"min_version", func(m *Manifest) { m.MinVersion = "1.x" }, "min_version"},
		{"no board", func(m *Manifest) { m.Compatible = nil }, "compatible"},
		{"bad board", func(m *Manifest) { m.Compatible = []string{"../x"} }, "compatible"},
		{"no image", func(m *Manifest) { m.Images = nil }, "images"},
		{"twice", func(m *Manifest) { m.Images = append(m.Images, m.Images[0]) }, "twice"},
		{"size", func(m *Manifest) { m.Images[0].Size = 0 }, "size"},
		{"hash", func(m *Manifest) { m.Images[0].SHA256 = "abc" }, "sha256"},
	}
	for _, tc := range tests {
		m := ok
		m.Images = append([]Image(nil), ok.Images...)
		tc.mod(&m)
		if err := m.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestKeys(t *testing.T) {
	priv, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Equal(k.Public()) {
		t.Fatal("public key does not match")
	}
	if _, err := ParsePublicKey([]byte("AAAA")); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := ParsePrivateKey(pub); err == nil {
		t.Fatal("public key accepted as private")
	}
}
