package flash

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
)

// Boot changes the slot selection where the bootloader reads it.
type Boot interface {
	// UpdateBoot applies fn to the stored BootState and stores the result
	// durably before returning.
	UpdateBoot(fn func(*BootState)) error
}

// UpdateBoot loads the environment (starting from an empty one when no
// copy is valid), applies fn to its slot variables and saves it; other
// variables are kept as they are. EnvStore is thus a Boot.
func (s EnvStore) UpdateBoot(fn func(*BootState)) error {
	env, err := s.Load()
	if errors.Is(err, ErrNoEnv) {
		env, err = Env{}, nil
	}
	if err != nil {
		return err
	}
	st := ParseBootState(env)
	fn(&st)
	st.Apply(env)
	return s.Save(env)
}

// ReadBoot returns the stored BootState (the defaults when no copy of the
// environment is valid).
func (s EnvStore) ReadBoot() (BootState, error) {
	env, err := s.Load()
	if errors.Is(err, ErrNoEnv) {
		return DefaultBootState(), nil
	}
	if err != nil {
		return BootState{}, err
	}
	return ParseBootState(env), nil
}

// Installer streams bundles into a slot.
type Installer struct {
	// Key verifies bundle signatures.
	Key ed25519.PublicKey
	// Policy refuses bundles for another board or of a refused version.
	Policy Policy
	// Boot marks the slot bad while it is written.
	Boot Boot
	// Files gives the file or device that receives image in slot, and how
	// many bytes it holds (0: no limit, for simulated slots).
	Files func(slot, image string) (path string, capacity int64, err error)
	// Progress, when set, hears how many of the bundle's bytes are done.
	Progress func(done, total int64)
	// Writing, when set, is called once the slot is marked bad, before the
	// first byte is written (the caller forgets what the slot held); an
	// error stops the install there.
	Writing func(Header) error
}

// Install reads a bundle from r into slot; size is the bundle's length
// when known (a file, an upload's Content-Length), or -1.
//
// It refuses the bundle before anything is written (ErrRefused) when the
// header, signature or manifest is wrong, the policy refuses it, an image
// does not fit its partition, or size differs from what the manifest
// describes (a truncated file). Otherwise it marks slot bad, then streams
// each image into place through a fixed buffer while hashing it. A hash
// that does not match, a stream that ends early (ErrDamaged) or a write
// error leaves slot marked bad; the running slot is never written. On
// success slot stays marked bad until Activate: the caller decides when
// the next boot tries it.
func (in Installer) Install(r io.Reader, size int64, slot string) (Header, error) {
	if !ValidSlot(slot) {
		return Header{}, refused("slot %q", slot)
	}
	h, err := ReadHeader(r, in.Key)
	if err != nil {
		return Header{}, err
	}
	if err := in.Policy.Check(h.Manifest); err != nil {
		return h, err
	}
	total := h.BundleSize()
	if size >= 0 && size != total {
		return h, refused("the bundle is %d bytes, its manifest describes %d (truncated or padded)", size, total)
	}
	paths := make([]string, len(h.Manifest.Images))
	for i, im := range h.Manifest.Images {
		path, capacity, err := in.Files(slot, im.Name)
		if err != nil {
			return h, refused("image %s: %v", im.Name, err)
		}
		if capacity > 0 && im.Size > capacity {
			return h, refused("image %s: %d bytes do not fit slot %s's %d", im.Name, im.Size, slot, capacity)
		}
		paths[i] = path
	}
	if err := in.Boot.UpdateBoot(func(s *BootState) { s.MarkBad(slot) }); err != nil {
		return h, fmt.Errorf("flash: mark slot %s bad before writing: %w", slot, err)
	}
	if in.Writing != nil {
		if err := in.Writing(h); err != nil {
			return h, err
		}
	}
	done := h.Size
	progress := func(n int64) {
		done += n
		if in.Progress != nil {
			in.Progress(done, total)
		}
	}
	progress(0)
	for i, im := range h.Manifest.Images {
		if err := writeImage(paths[i], r, im, progress); err != nil {
			return h, err
		}
	}
	if size < 0 {
		var one [1]byte
		if n, _ := io.ReadFull(r, one[:]); n > 0 {
			return h, fmt.Errorf("%w: data after the last image", ErrDamaged)
		}
	}
	return h, nil
}

// writeImage streams one image into path: a regular file is truncated to
// the image, a device is written from its start; both are synced.
func writeImage(path string, r io.Reader, im Image, progress func(int64)) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("flash: image %s: %w", im.Name, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("flash: image %s: %w", im.Name, err)
		}
	}
	if err := copyImage(f, r, im, progress); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("flash: image %s: sync: %w", im.Name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("flash: image %s: %w", im.Name, err)
	}
	return nil
}

// Activate makes slot the next one booted, with all its attempts; the
// other slot stays the fallback.
func Activate(b Boot, slot string) error {
	if !ValidSlot(slot) {
		return fmt.Errorf("flash: slot %q", slot)
	}
	return b.UpdateBoot(func(s *BootState) { s.Activate(slot) })
}

// MarkGood tells the bootloader that slot booted and is healthy.
func MarkGood(b Boot, slot string) error {
	if !ValidSlot(slot) {
		return fmt.Errorf("flash: slot %q", slot)
	}
	return b.UpdateBoot(func(s *BootState) { s.MarkGood(slot) })
}
