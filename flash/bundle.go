package flash

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
)

// Magic opens every bundle (format 1).
const Magic = "CBXOTA01"

// Limits of a bundle's header: a manifest is a few hundred bytes, and the
// bound keeps a hostile upload from growing memory.
const (
	MaxManifest = 64 << 10
	MaxImages   = 8
	MaxImage    = 4 << 30
)

// signedPrefix separates bundle signatures from any other use of the key.
const signedPrefix = "callbox bundle v1\n"

// headerFixed is the magic and the manifest length before the manifest;
// the signature follows the manifest.
const headerFixed = len(Magic) + 4

// Sentinels the installers' callers branch on. The text after them says
// why, e.g. "flash: bundle refused: signature does not verify with this
// box's key".
var (
	// ErrRefused: the bundle was refused before anything was written
	// (format, signature, board, version, size).
	ErrRefused = errors.New("flash: bundle refused")
	// ErrDamaged: an image did not match its manifest while being written
	// (a flipped byte, a truncated stream); the slot was left marked bad.
	ErrDamaged = errors.New("flash: bundle damaged")
)

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// Manifest describes a bundle: what it installs and where it may go. It is
// the signed part; images are bound to it by their SHA-256.
type Manifest struct {
	Format     int       `json:"format"`
	Version    string    `json:"version"`
	MinVersion string    `json:"min_version,omitempty"` // the oldest running version allowed to install it
	Compatible []string  `json:"compatible"`            // board names (Layout.Board)
	Created    time.Time `json:"created"`
	Notes      string    `json:"notes,omitempty"`
	Images     []Image   `json:"images"`
}

// Image is one image of a bundle, written to the slot partition of the
// same name ("rootfs").
type Image struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// Validate checks the manifest's own consistency (not the box's policy).
func (m Manifest) Validate() error {
	if m.Format != 1 {
		return fmt.Errorf("format %d: this box reads format 1", m.Format)
	}
	if _, err := ParseVersion(m.Version); err != nil {
		return fmt.Errorf("version: %w", err)
	}
	if m.MinVersion != "" {
		if _, err := ParseVersion(m.MinVersion); err != nil {
			return fmt.Errorf("min_version: %w", err)
		}
	}
	if len(m.Compatible) == 0 {
		return errors.New("compatible: no board named")
	}
	for _, b := range m.Compatible {
		if !nameRE.MatchString(b) {
			return fmt.Errorf("compatible: %q is not a board name", b)
		}
	}
	if len(m.Images) == 0 || len(m.Images) > MaxImages {
		return fmt.Errorf("images: %d, want 1 to %d", len(m.Images), MaxImages)
	}
	seen := map[string]bool{}
	for i, im := range m.Images {
		switch {
		case !nameRE.MatchString(im.Name):
			return fmt.Errorf("images[%d].name: %q is not an image name", i, im.Name)
		case seen[im.Name]:
			return fmt.Errorf("images[%d].name: %q twice", i, im.Name)
		case im.Size <= 0 || im.Size > MaxImage:
			return fmt.Errorf("images[%d].size: %d, want 1 to %d", i, im.Size, int64(MaxImage))
		}
		if b, err := hex.DecodeString(im.SHA256); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("images[%d].sha256: want 64 hex digits", i)
		}
		seen[im.Name] = true
	}
	return nil
}

// ImagesSize is the total size of the images.
func (m Manifest) ImagesSize() int64 {
	var n int64
	for _, im := range m.Images {
		n += im.Size
	}
	return n
}

// Header is a bundle's verified beginning.
type Header struct {
	Manifest Manifest
	// Raw is the signed manifest as it was in the bundle.
	Raw []byte
	// Size is the header's length in bytes; the images follow.
	Size int64
}

// BundleSize is the whole bundle's length: header and images.
func (h Header) BundleSize() int64 { return h.Size + h.Manifest.ImagesSize() }

// ReadHeader reads a bundle's header from r and checks its signature with
// key and the manifest's consistency. It reads nothing past the header, so
// r is left at the first image. Every failure wraps ErrRefused.
func ReadHeader(r io.Reader, key ed25519.PublicKey) (Header, error) {
	var fixed [headerFixed]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return Header{}, refused("not a callbox bundle: %v", shortRead(err))
	}
	if string(fixed[:len(Magic)]) != Magic {
		return Header{}, refused("not a callbox bundle (no %s at the start)", Magic)
	}
	n := binary.BigEndian.Uint32(fixed[len(Magic):])
	if n == 0 || n > MaxManifest {
		return Header{}, refused("manifest of %d bytes, want 1 to %d", n, MaxManifest)
	}
	buf := make([]byte, int(n)+ed25519.SignatureSize)
	if _, err := io.ReadFull(r, buf); err != nil {
		return Header{}, refused("header: %v", shortRead(err))
	}
	raw, sig := buf[:n], buf[n:]
	if len(key) != ed25519.PublicKeySize {
		return Header{}, refused("this box has no update key")
	}
	if !ed25519.Verify(key, signedMessage(raw), sig) {
		return Header{}, refused("signature does not verify with this box's key")
	}
	m, err := parseManifest(raw)
	if err != nil {
		return Header{}, refused("manifest: %v", err)
	}
	return Header{Manifest: m, Raw: raw, Size: int64(headerFixed + len(buf))}, nil
}

func parseManifest(raw []byte) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, err
	}
	if dec.More() {
		return Manifest{}, errors.New("data after the manifest")
	}
	return m, m.Validate()
}

func shortRead(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("truncated")
	}
	return err
}

func signedMessage(manifest []byte) []byte {
	return append([]byte(signedPrefix), manifest...)
}

// ImageSource is one image to put into a bundle: Open is called twice,
// once to hash and once to copy, so a file is read twice and never held
// in memory.
type ImageSource struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// WriteBundle hashes the images, completes m (its Images), signs it with
// key and writes the bundle to w. An image that changes between the two
// reads fails the write. It returns the manifest as written.
func WriteBundle(w io.Writer, key ed25519.PrivateKey, m Manifest, images []ImageSource) (Manifest, error) {
	m.Images = nil
	for _, src := range images {
		size, sum, err := hashSource(src)
		if err != nil {
			return Manifest{}, err
		}
		m.Images = append(m.Images, Image{Name: src.Name, Size: size, SHA256: hex.EncodeToString(sum)})
	}
	if m.Format == 0 {
		m.Format = 1
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, fmt.Errorf("flash: manifest: %w", err)
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, fmt.Errorf("flash: manifest: %w", err)
	}
	if len(raw) > MaxManifest {
		return Manifest{}, fmt.Errorf("flash: manifest: %d bytes, more than %d", len(raw), MaxManifest)
	}
	hdr := make([]byte, 0, headerFixed+len(raw)+ed25519.SignatureSize)
	hdr = append(hdr, Magic...)
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(len(raw)))
	hdr = append(hdr, raw...)
	hdr = append(hdr, ed25519.Sign(key, signedMessage(raw))...)
	if _, err := w.Write(hdr); err != nil {
		return Manifest{}, fmt.Errorf("flash: write bundle: %w", err)
	}
	for i, src := range images {
		rc, err := src.Open()
		if err != nil {
			return Manifest{}, fmt.Errorf("flash: image %s: %w", src.Name, err)
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), rc)
		rc.Close()
		if err != nil {
			return Manifest{}, fmt.Errorf("flash: image %s: %w", src.Name, err)
		}
		if n != m.Images[i].Size || hex.EncodeToString(h.Sum(nil)) != m.Images[i].SHA256 {
			return Manifest{}, fmt.Errorf("flash: image %s changed while the bundle was written", src.Name)
		}
	}
	return m, nil
}

func hashSource(src ImageSource) (int64, []byte, error) {
	rc, err := src.Open()
	if err != nil {
		return 0, nil, fmt.Errorf("flash: image %s: %w", src.Name, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return 0, nil, fmt.Errorf("flash: image %s: %w", src.Name, err)
	}
	return n, h.Sum(nil), nil
}

// Verify reads a whole bundle from r, checking the signature and every
// image's hash without writing anything, and returns its header.
func Verify(r io.Reader, key ed25519.PublicKey) (Header, error) {
	h, err := ReadHeader(r, key)
	if err != nil {
		return Header{}, err
	}
	for _, im := range h.Manifest.Images {
		if err := copyImage(io.Discard, r, im, nil); err != nil {
			return h, err
		}
	}
	var one [1]byte
	if n, _ := io.ReadFull(r, one[:]); n > 0 {
		return h, fmt.Errorf("%w: data after the last image", ErrDamaged)
	}
	return h, nil
}

// copyImage copies im's bytes from r to w through a fixed buffer, hashing
// them, and checks size and hash; progress (if set) hears each chunk.
func copyImage(w io.Writer, r io.Reader, im Image, progress func(int64)) error {
	h := sha256.New()
	buf := make([]byte, 256<<10)
	left := im.Size
	for left > 0 {
		n, err := io.ReadFull(r, buf[:min(int64(len(buf)), left)])
		if n > 0 {
			h.Write(buf[:n])
			if _, werr := w.Write(buf[:n]); werr != nil {
				return fmt.Errorf("flash: image %s: write: %w", im.Name, werr)
			}
			left -= int64(n)
			if progress != nil {
				progress(int64(n))
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("%w: image %s: truncated, %d of %d bytes", ErrDamaged, im.Name, im.Size-left, im.Size)
			}
			return fmt.Errorf("flash: image %s: read: %w", im.Name, err)
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != im.SHA256 {
		return fmt.Errorf("%w: image %s: sha256 %s, manifest says %s", ErrDamaged, im.Name, got, im.SHA256)
	}
	return nil
}
