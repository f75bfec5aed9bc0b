package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type fakeStore []byte

func (s fakeStore) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(s)
	return int64(n), err
}

func box(t *testing.T, db string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, DBName), []byte(db), 0o600)
	os.MkdirAll(filepath.Join(dir, PromptsDir, "zh"), 0o700)
	os.WriteFile(filepath.Join(dir, PromptsDir, "zh", "welcome.wav"), []byte("prompt "+db), 0o600)
	os.MkdirAll(filepath.Join(dir, RecordingDir), 0o700)
	os.WriteFile(filepath.Join(dir, RecordingDir, "call1.wav"), []byte("recording "+db), 0o600)
	return dir
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBackupRestore(t *testing.T) {
	src := box(t, "store one")
	var buf bytes.Buffer
	m, err := Write(&buf, Source{Store: fakeStore("store one"), DataDir: src, Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 2 || m.Recordings {
		t.Fatalf("manifest %+v", m)
	}
	dst := box(t, "store two")
	checked := ""
	if _, err := Restore(bytes.NewReader(buf.Bytes()), dst, func(p string) error { checked = read(t, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if checked != "store one" {
		t.Fatalf("check saw %q", checked)
	}
	// Nothing changes until the next start.
	if read(t, filepath.Join(dst, DBName)) != "store two" || !Pending(dst) {
		t.Fatal("restore changed the live data before the restart")
	}
	applied, err := ApplyPending(dst)
	if err != nil || !applied {
		t.Fatal(applied, err)
	}
	if read(t, filepath.Join(dst, DBName)) != "store one" || read(t, filepath.Join(dst, PromptsDir, "zh", "welcome.wav")) != "prompt store one" {
		t.Fatal("not restored")
	}
	// The backup had no recordings: the box keeps its own.
	if read(t, filepath.Join(dst, RecordingDir, "call1.wav")) != "recording store two" {
		t.Fatal("recordings replaced by a backup without them")
	}
	if read(t, filepath.Join(dst, "restore.previous", DBName)) != "store two" {
		t.Fatal("the replaced store was not kept")
	}
	if applied, _ := ApplyPending(dst); applied || Pending(dst) {
		t.Fatal("applied twice")
	}
}

// TestPendingDescribedAndDiscarded: a staged restore can be described
// (after a restart too: the description is on disk) and discarded, which
// leaves the box as it was and nothing for the next start.
func TestPendingDescribedAndDiscarded(t *testing.T) {
	src := box(t, "store one")
	var buf bytes.Buffer
	if _, err := Write(&buf, Source{Store: fakeStore("store one"), DataDir: src, Recordings: true, Version: "1.2.0"}); err != nil {
		t.Fatal(err)
	}
	dst := box(t, "store two")
	if m, err := PendingManifest(dst); m != nil || err != nil {
		t.Fatalf("nothing staged: %v %v", m, err)
	}
	if _, err := Restore(bytes.NewReader(buf.Bytes()), dst, nil); err != nil {
		t.Fatal(err)
	}
	m, err := PendingManifest(dst)
	if err != nil || m == nil || m.Version != "1.2.0" || !m.Recordings || len(m.Files) != 3 {
		t.Fatalf("pending: %+v %v", m, err)
	}
	if err := Discard(dst); err != nil {
		t.Fatal(err)
	}
	if m, err := PendingManifest(dst); m != nil || err != nil || Pending(dst) {
		t.Fatalf("after discard: %v %v", m, err)
	}
	if applied, err := ApplyPending(dst); applied || err != nil || read(t, filepath.Join(dst, DBName)) != "store two" {
		t.Fatalf("a discarded restore applied: %v %v", applied, err)
	}
	// Staged again and applied: the description goes with it.
	if _, err := Restore(bytes.NewReader(buf.Bytes()), dst, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyPending(dst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, pendingManifest)); err == nil {
		t.Fatal("the description outlived the restore")
	}
}

// TestApplyPendingAfterPowerCut: a start that dies part way through the
// swap is finished by the next one.
func TestApplyPendingAfterPowerCut(t *testing.T) {
	src := box(t, "store one")
	var buf bytes.Buffer
	if _, err := Write(&buf, Source{Store: fakeStore("store one"), DataDir: src, Recordings: true}); err != nil {
		t.Fatal(err)
	}
	dst := box(t, "store two")
	if _, err := Restore(&buf, dst, nil); err != nil {
		t.Fatal(err)
	}
	// The cut: the store moved aside, the restored one not yet in place.
	os.MkdirAll(filepath.Join(dst, "restore.previous"), 0o700)
	os.Rename(filepath.Join(dst, DBName), filepath.Join(dst, "restore.previous", DBName))
	if _, err := ApplyPending(dst); err != nil {
		t.Fatal(err)
	}
	if read(t, filepath.Join(dst, DBName)) != "store one" || read(t, filepath.Join(dst, RecordingDir, "call1.wav")) != "recording store one" ||
		read(t, filepath.Join(dst, "restore.previous", DBName)) != "store two" {
		t.Fatal("the interrupted restore did not finish right")
	}
}

func tarGz(t *testing.T, files map[string]string, order []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range order {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(files[name])), Typeflag: tar.TypeReg})
		tw.Write([]byte(files[name]))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// TestRestoreRefused: every bad file is refused with the reason and the
// box's data as it was.
func TestRestoreRefused(t *testing.T) {
	src := box(t, "store one")
	var good bytes.Buffer
	Write(&good, Source{Store: fakeStore("store one"), DataDir: src})
	gb := good.Bytes()
	// The same archive with a changed store.
	tampered := func() []byte {
		zr, _ := gzip.NewReader(bytes.NewReader(gb))
		raw, _ := io.ReadAll(zr)
		i := bytes.Index(raw, []byte("store one"))
		raw[i] = 'S'
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(raw)
		zw.Close()
		return out.Bytes()
	}()
	tests := []struct {
		name  string
		data  []byte
		check error
		want  string
	}{
		{"not gzip", []byte("hello"), nil, "not gzip"},
		{"truncated", gb[:len(gb)/2], nil, ""},
		{"tampered store", tampered, nil, "does not match the manifest"},
		{"escaping path", tarGz(t, map[string]string{"../etc/passwd": "x"}, []string{"../etc/passwd"}), nil, "not part of a callbox backup"},
		{"unknown file", tarGz(t, map[string]string{"bin/callboxd": "x"}, []string{"bin/callboxd"}), nil, "not part of a callbox backup"},
		{"no manifest", tarGz(t, map[string]string{DBName: "x"}, []string{DBName}), nil, "no manifest"},
		{"store refused", gb, errors.New("schema version 99 is newer than this firmware"), "schema version 99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := box(t, "store two")
			_, err := Restore(bytes.NewReader(tc.data), dst, func(string) error { return tc.check })
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if Pending(dst) || read(t, filepath.Join(dst, DBName)) != "store two" {
				t.Fatal("a refused restore changed something")
			}
			if _, err := os.Stat(filepath.Join(dst, "restore.staging")); err == nil {
				t.Fatal("staging left behind")
			}
		})
	}
}
