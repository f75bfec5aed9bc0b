// Package backup saves and restores the whole box as one file: the store
// (configuration, users, PBX and call-centre configuration and records),
// the prompts and, optionally, the recordings.
//
// A backup is a gzip-compressed tar: callbox.db (a consistent copy of the
// store), prompts/... and recordings/..., then backup.json last, listing
// every file with its size and SHA-256, the firmware version and the time.
//
// A restore is all or nothing. Restore unpacks the file into a staging
// folder of the data directory while hashing it, refuses anything the
// manifest does not account for (unknown or escaping paths, a changed or
// missing file, a store that does not open), runs the caller's check on
// the staged store, and only then renames the folder to restore.pending.
// ApplyPending, run before the store opens at the next start, swaps the
// staged files in (the replaced ones go to restore.previous) by renames
// that can be repeated after a power cut until they are done.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"callbox/firmware/internal/atomicfile"
)

// Names in the data directory and in the archive.
const (
	DBName       = "callbox.db"
	PromptsDir   = "prompts"
	RecordingDir = "recordings"
	manifestName = "backup.json"
	stagingDir   = "restore.staging"
	pendingDir   = "restore.pending"
	previousDir  = "restore.previous"
	// pendingManifest describes the pending restore, beside its folder
	// (whose every entry ApplyPending moves into the data directory).
	pendingManifest = "restore.pending.json"
)

// Limits of what a restore accepts.
const (
	MaxFiles = 100_000
	MaxFile  = 4 << 30
)

// ErrInvalid means the file was refused; nothing was changed.
var ErrInvalid = errors.New("backup: refused")

// Manifest is backup.json.
type Manifest struct {
	Format     int       `json:"format"`
	Version    string    `json:"version"`
	Created    time.Time `json:"created"`
	Recordings bool      `json:"recordings"`
	Files      []File    `json:"files"`
}

// File is one file of a backup.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Source is what a backup reads.
type Source struct {
	// Store writes a consistent copy of the store.
	Store interface {
		WriteTo(io.Writer) (int64, error)
	}
	DataDir    string
	Recordings bool
	Version    string
}

// Write writes a backup of src to w and returns its manifest.
func Write(w io.Writer, src Source) (Manifest, error) {
	m := Manifest{Format: 1, Version: src.Version, Created: time.Now().UTC().Truncate(time.Second), Recordings: src.Recordings}
	// The store goes through a temporary file: tar needs its size first.
	tmp, err := os.CreateTemp(src.DataDir, ".backup-*.db")
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := src.Store.WriteTo(tmp); err != nil {
		return m, err
	}
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	add := func(name, from string) error {
		f, err := os.Open(from)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(tw, h), f)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, File{Path: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
		return nil
	}
	if err := add(DBName, tmp.Name()); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	dirs := []string{PromptsDir}
	if src.Recordings {
		dirs = append(dirs, RecordingDir)
	}
	for _, d := range dirs {
		root := filepath.Join(src.DataDir, d)
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return fs.SkipDir
			}
			if err != nil || !e.Type().IsRegular() {
				return err
			}
			rel, _ := filepath.Rel(src.DataDir, p)
			return add(filepath.ToSlash(rel), p)
		})
		if err != nil {
			return m, fmt.Errorf("backup: %w", err)
		}
	}
	doc, _ := json.MarshalIndent(m, "", "  ")
	if err := tw.WriteHeader(&tar.Header{Name: manifestName, Mode: 0o600, Size: int64(len(doc)), ModTime: m.Created, Typeflag: tar.TypeReg}); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if _, err := tw.Write(doc); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := tw.Close(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := zw.Close(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s; nothing was changed", ErrInvalid, fmt.Sprintf(format, args...))
}

// allowed reports whether an archive path may be restored.
func allowed(name string) bool {
	if name == DBName || name == manifestName {
		return true
	}
	if !fs.ValidPath(name) || path.Clean(name) != name {
		return false
	}
	return strings.HasPrefix(name, PromptsDir+"/") || strings.HasPrefix(name, RecordingDir+"/")
}

// Restore reads a backup from r into the data directory's staging folder,
// checks it completely (check is given the staged store's path), and marks
// it pending for ApplyPending at the next start. Any failure wraps
// ErrInvalid or is an I/O error, and leaves the box as it was.
func Restore(r io.Reader, dataDir string, check func(dbPath string) error) (Manifest, error) {
	staging := filepath.Join(dataDir, stagingDir)
	if err := os.RemoveAll(staging); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(staging)
		}
	}()
	if err := os.MkdirAll(staging, 0o700); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Manifest{}, refuse("not a callbox backup (not gzip): %v", err)
	}
	tr := tar.NewReader(zr)
	got := map[string]File{}
	var m *Manifest
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Manifest{}, refuse("damaged archive: %v", err)
		}
		if m != nil {
			return Manifest{}, refuse("%q after the manifest", h.Name)
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		if h.Typeflag != tar.TypeReg || !allowed(h.Name) {
			return Manifest{}, refuse("%q is not part of a callbox backup", h.Name)
		}
		if h.Size < 0 || h.Size > MaxFile || len(got) >= MaxFiles {
			return Manifest{}, refuse("%q: too large, or too many files", h.Name)
		}
		if h.Name == manifestName {
			if h.Size > 64<<20 {
				return Manifest{}, refuse("manifest too large")
			}
			var mm Manifest
			dec := json.NewDecoder(tr)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&mm); err != nil {
				return Manifest{}, refuse("manifest: %v", err)
			}
			m = &mm
			continue
		}
		if _, dup := got[h.Name]; dup {
			return Manifest{}, refuse("%q twice", h.Name)
		}
		dst := filepath.Join(staging, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return Manifest{}, fmt.Errorf("backup: %w", err)
		}
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return Manifest{}, fmt.Errorf("backup: %w", err)
		}
		hs := sha256.New()
		n, err := io.Copy(io.MultiWriter(f, hs), tr)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return Manifest{}, refuse("%q: %v", h.Name, err)
		}
		got[h.Name] = File{Path: h.Name, Size: n, SHA256: hex.EncodeToString(hs.Sum(nil))}
	}
	if m == nil {
		return Manifest{}, refuse("no manifest (truncated?)")
	}
	if m.Format != 1 {
		return Manifest{}, refuse("format %d, this firmware reads 1", m.Format)
	}
	if len(m.Files) != len(got) {
		return Manifest{}, refuse("the manifest lists %d files, the archive holds %d", len(m.Files), len(got))
	}
	for _, f := range m.Files {
		if g, ok := got[f.Path]; !ok || g != f {
			return Manifest{}, refuse("%q does not match the manifest", f.Path)
		}
	}
	if _, ok := got[DBName]; !ok {
		return Manifest{}, refuse("no %s in the backup", DBName)
	}
	if check != nil {
		if err := check(filepath.Join(staging, DBName)); err != nil {
			return Manifest{}, refuse("the store in the backup: %v", err)
		}
	}
	// The recordings stay as they are when the backup has none.
	if !m.Recordings {
		if slices.ContainsFunc(m.Files, func(f File) bool { return strings.HasPrefix(f.Path, RecordingDir+"/") }) {
			return Manifest{}, refuse("recordings in a backup that says it has none")
		}
	} else if err := os.MkdirAll(filepath.Join(staging, RecordingDir), 0o700); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(staging, PromptsDir), 0o700); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	pending := filepath.Join(dataDir, pendingDir)
	if err := os.RemoveAll(pending); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	// The description first: a pending folder always has one (a power
	// cut between the two leaves a stale description, which Pending
	// ignores without its folder).
	mb, _ := json.Marshal(m)
	if err := atomicfile.Write(filepath.Join(dataDir, pendingManifest), mb, 0o600); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(staging, pending); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	syncDir(dataDir)
	ok = true
	return *m, nil
}

// PendingManifest describes the restore waiting for the next start; nil
// when none waits.
func PendingManifest(dataDir string) (*Manifest, error) {
	if !Pending(dataDir) {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(dataDir, pendingManifest))
	var m Manifest
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		return nil, fmt.Errorf("backup: the pending restore: %w", err)
	}
	return &m, nil
}

// Discard drops the restore waiting for the next start, if any.
func Discard(dataDir string) error {
	if err := os.RemoveAll(filepath.Join(dataDir, pendingDir)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	syncDir(dataDir)
	if err := os.Remove(filepath.Join(dataDir, pendingManifest)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Pending reports whether a restore waits for the next start.
func Pending(dataDir string) bool {
	_, err := os.Stat(filepath.Join(dataDir, pendingDir))
	return err == nil
}

// ApplyPending swaps a pending restore in: for each of callbox.db,
// prompts/ and recordings/ it holds, the box's current one moves to
// restore.previous/ and the restored one takes its place. Every step is a
// rename that is skipped when already done, so after a power cut the next
// start finishes it. It reports whether it applied one.
func ApplyPending(dataDir string) (bool, error) {
	pending := filepath.Join(dataDir, pendingDir)
	items, err := os.ReadDir(pending)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("backup: %w", err)
	}
	previous := filepath.Join(dataDir, previousDir)
	if err := os.MkdirAll(previous, 0o700); err != nil {
		return false, fmt.Errorf("backup: %w", err)
	}
	for _, it := range items {
		name := it.Name()
		cur, old := filepath.Join(dataDir, name), filepath.Join(previous, name)
		if _, err := os.Stat(cur); err == nil {
			os.RemoveAll(old)
			if err := os.Rename(cur, old); err != nil {
				return false, fmt.Errorf("backup: %w", err)
			}
		}
		syncDir(dataDir)
		if err := os.Rename(filepath.Join(pending, name), cur); err != nil {
			return false, fmt.Errorf("backup: %w", err)
		}
		syncDir(dataDir)
	}
	if err := os.Remove(pending); err != nil {
		return false, fmt.Errorf("backup: %w", err)
	}
	syncDir(dataDir)
	if err := os.Remove(filepath.Join(dataDir, pendingManifest)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("backup: %w", err)
	}
	return true, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
