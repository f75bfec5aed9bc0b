package app

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"callbox/webui"
)

// TestBackupRestore: a backup taken over the control socket restores the
// box as it was, through a restart; a damaged backup over the web API is
// refused and changes nothing.
func TestBackupRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	dir := t.TempDir()
	a, _ := newApp(t, Config{Board: "sim", DataDir: filepath.Join(dir, "data")})
	stop := start(t, a)
	w := newWebAdmin(t, a)
	w.do("POST", "/api/v1/extensions", "application/json", strings.NewReader(`{"number":"250","name":"kept","kind":"sip","secret":"kept-in-backup-q7x"}`), http.StatusCreated, nil)
	file := filepath.Join(dir, "box.tar.gz")
	if out := ctl(t, a, "backup", file); !strings.Contains(out, "backup: wrote") {
		t.Fatal(out)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v", st.Mode())
	}
	// Change the box after the backup: the restore must undo it.
	w.do("DELETE", "/api/v1/extensions/250", "", nil, http.StatusNoContent, nil)
	// A damaged backup over the web: refused, nothing changes.
	good, _ := os.ReadFile(file)
	bad := bytes.Clone(good[:len(good)-40])
	var refused map[string]any
	w.do("POST", "/api/v1/backup/restore", "application/octet-stream", bytes.NewReader(bad), http.StatusBadRequest, &refused)
	if !strings.Contains(refused["error"].(string), "nothing was changed") {
		t.Fatalf("refusal: %v", refused)
	}
	// Staged from the web page's upload (no restart), described, discarded.
	var staged struct {
		Restored   webui.BackupInfo `json:"restored"`
		Restarting bool             `json:"restarting"`
	}
	w.do("POST", "/api/v1/backup/restore?restart=false", "application/octet-stream", bytes.NewReader(good), http.StatusOK, &staged)
	if staged.Restarting || staged.Restored.StoreBytes == 0 || staged.Restored.Files < 1 {
		t.Fatalf("staged: %+v", staged)
	}
	var pending struct {
		Pending *webui.BackupInfo `json:"pending"`
	}
	w.do("GET", "/api/v1/backup/restore", "", nil, http.StatusOK, &pending)
	if pending.Pending == nil || *pending.Pending != staged.Restored {
		t.Fatalf("pending: %+v, staged %+v", pending.Pending, staged.Restored)
	}
	w.do("DELETE", "/api/v1/backup/restore", "", nil, http.StatusNoContent, nil)
	w.do("GET", "/api/v1/backup/restore", "", nil, http.StatusOK, &pending)
	w.do("POST", "/api/v1/backup/restore/apply", "application/json", nil, http.StatusConflict, nil)
	if pending.Pending != nil {
		t.Fatalf("discarded, still pending: %+v", pending.Pending)
	}
	first := a.WebAddr()
	if out := ctl(t, a, "restore", file); !strings.Contains(out, "restarting") {
		t.Fatal(out)
	}
	waitFor(t, "the restart", 10*time.Second, func() bool { return a.WebAddr() != "" && a.WebAddr() != first })
	w.relogin(a)
	var ext map[string]any
	w.do("GET", "/api/v1/extensions/250", "", nil, http.StatusOK, &ext)
	if ext["name"] != "kept" {
		t.Fatalf("after the restore: %v", ext)
	}
	if _, err := os.Stat(filepath.Join(a.cfg.DataDir, "restore.previous", "callbox.db")); err != nil {
		t.Fatal("the replaced store was not kept")
	}
	// The web download is a backup too.
	req, _ := http.NewRequest("GET", w.base+"/api/v1/backup", nil)
	resp, err := w.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("download: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
}
