package flash

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// Env is a U-Boot environment: variable names and values.
type Env map[string]string

// ErrNoEnv means no copy of the environment has a valid CRC (a blank or
// erased device): the caller starts from defaults, as U-Boot does.
var ErrNoEnv = errors.New("flash: no valid u-boot environment")

// EncodeEnv lays env out as U-Boot stores its data area: "name=value\0"
// sorted by name (as libubootenv writes it), a final "\0", zero padding to
// size bytes.
func EncodeEnv(env Env, size int) ([]byte, error) {
	out := make([]byte, 0, size)
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v := env[k]
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("flash: env: variable %q: name or value not storable", k)
		}
		out = append(append(append(append(out, k...), '='), v...), 0)
	}
	out = append(out, 0)
	if len(out) > size {
		return nil, fmt.Errorf("flash: env: %d bytes of variables, room for %d", len(out), size)
	}
	return append(out, make([]byte, size-len(out))...), nil
}

// DecodeEnv parses a data area: "name=value\0" entries up to an empty one
// (or the end). A malformed entry is an error; an empty area is an empty
// environment.
func DecodeEnv(data []byte) (Env, error) {
	env := Env{}
	for len(data) > 0 && data[0] != 0 {
		entry, rest, ok := bytes.Cut(data, []byte{0})
		if !ok {
			return nil, errors.New("flash: env: last variable not terminated")
		}
		k, v, ok := strings.Cut(string(entry), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("flash: env: entry %q has no name=value", clip(string(entry)))
		}
		env[k] = v
		data = rest
	}
	return env, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// EnvStore is the environment on a device or image file: one copy, or two
// (redundant) at two offsets, each Size bytes. With two, each copy is
// CRC32 (little-endian, of the data area), a flags byte counting up with
// every save, then the data; the valid copy with the newer flags wins, and
// a save overwrites the other one, so a power cut during a save leaves the
// previous environment in place. With one copy there is no flags byte.
// This is U-Boot's CONFIG_SYS_REDUNDAND_ENVIRONMENT layout for block
// devices, which libubootenv's fw_printenv and fw_setenv read too.
type EnvStore struct {
	Path    string
	Offsets []int64 // one or two
	Size    int64
}

// envCopy is one copy as read.
type envCopy struct {
	valid bool
	flags byte
	data  []byte
}

func (s EnvStore) check() error {
	if len(s.Offsets) != 1 && len(s.Offsets) != 2 {
		return fmt.Errorf("flash: env %s: %d copies, want 1 or 2", s.Path, len(s.Offsets))
	}
	if s.Size < 16 || s.Size > 1<<20 {
		return fmt.Errorf("flash: env %s: size %d, want 16 bytes to 1 MiB", s.Path, s.Size)
	}
	return nil
}

func (s EnvStore) header() int {
	if len(s.Offsets) == 2 {
		return 5
	}
	return 4
}

// ParseEnvCopy checks one stored copy (CRC, then flags if redundant) and
// returns its data area; it is what Load does to each copy.
func ParseEnvCopy(b []byte, redundant bool) (data []byte, flags byte, err error) {
	hdr := 4
	if redundant {
		hdr = 5
	}
	if len(b) <= hdr {
		return nil, 0, errors.New("flash: env: copy too short")
	}
	data = b[hdr:]
	if binary.LittleEndian.Uint32(b) != crc32.ChecksumIEEE(data) {
		return nil, 0, errors.New("flash: env: bad crc")
	}
	if redundant {
		flags = b[4]
	}
	return data, flags, nil
}

func (s EnvStore) readCopies() ([]envCopy, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, fmt.Errorf("flash: env: %w", err)
	}
	defer f.Close()
	copies := make([]envCopy, len(s.Offsets))
	for i, off := range s.Offsets {
		b := make([]byte, s.Size)
		if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("flash: env %s copy %d: %w", s.Path, i+1, err)
		}
		data, flags, err := ParseEnvCopy(b, len(s.Offsets) == 2)
		copies[i] = envCopy{valid: err == nil, flags: flags, data: data}
	}
	return copies, nil
}

// current picks the copy U-Boot would use, or -1 when none is valid.
func current(c []envCopy) int {
	switch {
	case len(c) == 1 || !c[1].valid:
		if c[0].valid {
			return 0
		}
		if len(c) == 2 && c[1].valid {
			return 1
		}
		return -1
	case !c[0].valid:
		return 1
	}
	// Both valid: the flags count up and wrap at 255.
	a, b := c[0].flags, c[1].flags
	switch {
	case a == 255 && b == 0:
		return 1
	case b == 255 && a == 0:
		return 0
	case b > a:
		return 1
	}
	return 0
}

// Load returns the current environment, or ErrNoEnv when no copy is
// valid.
func (s EnvStore) Load() (Env, error) {
	copies, err := s.readCopies()
	if err != nil {
		return nil, err
	}
	i := current(copies)
	if i < 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoEnv, s.Path)
	}
	env, err := DecodeEnv(copies[i].data)
	if err != nil {
		return nil, fmt.Errorf("flash: env %s copy %d: %w", s.Path, i+1, err)
	}
	return env, nil
}

// Save writes env over the copy that is not current (with flags one
// higher) and syncs it, leaving the current copy as it was until the new
// one is on the device.
func (s EnvStore) Save(env Env) error {
	copies, err := s.readCopies()
	if err != nil {
		return err
	}
	hdr := s.header()
	data, err := EncodeEnv(env, int(s.Size)-hdr)
	if err != nil {
		return err
	}
	b := make([]byte, hdr, s.Size)
	binary.LittleEndian.PutUint32(b, crc32.ChecksumIEEE(data))
	target := 0
	if len(copies) == 2 {
		cur := current(copies)
		flags := byte(1)
		if cur >= 0 {
			flags = copies[cur].flags + 1
			target = 1 - cur
		}
		b[4] = flags
	}
	b = append(b, data...)
	f, err := os.OpenFile(s.Path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("flash: env: %w", err)
	}
	_, err = f.WriteAt(b, s.Offsets[target])
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("flash: env %s: save: %w", s.Path, err)
	}
	return nil
}

// Create writes a fresh environment into both copies (a new image or a
// blank device): the file is created or extended as needed.
func (s EnvStore) Create(env Env) error {
	if err := s.check(); err != nil {
		return err
	}
	f, err := os.OpenFile(s.Path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("flash: env: %w", err)
	}
	blank := make([]byte, s.Size)
	for _, off := range s.Offsets {
		if _, err = f.WriteAt(blank, off); err != nil {
			break
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("flash: env %s: %w", s.Path, err)
	}
	return s.Save(env)
}

// FWEnvConfig is the fw_env.config text for libubootenv's fw_printenv and
// fw_setenv describing the same copies.
func (s EnvStore) FWEnvConfig() string {
	var b strings.Builder
	for _, off := range s.Offsets {
		fmt.Fprintf(&b, "%s 0x%x 0x%x\n", s.Path, off, s.Size)
	}
	return b.String()
}
