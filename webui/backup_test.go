package webui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type memBackups struct {
	restored  string
	pending   *BackupInfo
	restarts  int
	discarded bool
}

func (m *memBackups) WriteBackup(ctx context.Context, w io.Writer, recordings bool) error {
	_, err := fmt.Fprintf(w, "backup recordings=%v", recordings)
	return err
}

func (m *memBackups) RestoreBackup(ctx context.Context, r io.Reader, restart bool) (BackupInfo, error) {
	b, _ := io.ReadAll(r)
	if string(b) != "good backup" {
		return BackupInfo{}, fmt.Errorf("%w: backup: refused: not gzip; nothing was changed", ErrInvalid)
	}
	m.restored = string(b)
	info := BackupInfo{Created: time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC), Version: "1.0.0", Files: 42, Bytes: 3 << 20,
		StoreBytes: 1 << 20, Prompts: 40, Recordings: true, RecordingFiles: 1}
	m.pending = &info
	if restart {
		m.restarts++
	}
	return info, nil
}

func (m *memBackups) PendingRestore(ctx context.Context) (*BackupInfo, error) { return m.pending, nil }

func (m *memBackups) DiscardRestore(ctx context.Context) error {
	m.pending, m.discarded = nil, true
	return nil
}

func (m *memBackups) ApplyRestore(ctx context.Context) error {
	if m.pending == nil {
		return fmt.Errorf("%w: no restore is waiting", ErrNotFound)
	}
	m.restarts++
	return nil
}

func TestBackupRoutes(t *testing.T) {
	mb := &memBackups{}
	e := newEnv(t, Config{Backups: mb})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "sup", RoleSupervisor, "sup-password")
	sup := e.client(t)
	sup.login("sup", "sup-password")
	if rec := sup.get("/api/v1/backup"); rec.Code != http.StatusForbidden {
		t.Fatalf("supervisor download: %d", rec.Code)
	}
	c := e.client(t)
	c.login("root", "root-password")
	rec := c.getURL("/api/v1/backup?recordings=true")
	if rec.Code != http.StatusOK || rec.Body.String() != "backup recordings=true" || rec.Header().Get("Content-Type") != "application/gzip" {
		t.Fatalf("download: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	restore := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "http://callbox.test"+restorePath, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set(csrfHeader, c.csrf)
		return c.do(req)
	}
	if rec := restore("junk"); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "nothing was changed") {
		t.Fatalf("bad restore: %d %s", rec.Code, rec.Body)
	}
	if rec := restore("good backup"); rec.Code != http.StatusOK || mb.restored == "" {
		t.Fatalf("restore: %d %s", rec.Code, rec.Body)
	}
	// Restores above the form limit get through as octet-stream only.
	req := httptest.NewRequest(http.MethodPost, "http://callbox.test"+restorePath, nil)
	req.Header.Set("Content-Type", "application/octet-stream")
	if bodyLimit(req) != MaxUpdateBytes {
		t.Fatal("restore upload limited to the form size")
	}
	u := newEnv(t, Config{})
	u.users.add(t, "root", RoleAdmin, "root-password")
	c2 := u.client(t)
	c2.login("root", "root-password")
	if rec := c2.get("/api/v1/backup"); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("no backups: %d", rec.Code)
	}
}
