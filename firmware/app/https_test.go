package app

import (
	"crypto/sha256"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callbox/webui/tlscert"
)

// TestHTTPSFingerprintShown: the box serves HTTPS with a certificate kept
// in the data directory, and the boot output and the console's status show
// the fingerprint a TLS client is served; a restart keeps the certificate.
func TestHTTPSFingerprintShown(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	dir := t.TempDir()
	served := func(a *App) string {
		t.Helper()
		a.mu.Lock()
		addr := a.webTLSAddr
		a.mu.Unlock()
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("TLS to %s: %v", addr, err)
		}
		defer conn.Close()
		sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
		return tlscert.Fingerprint(sum[:])
	}
	a, out := newApp(t, Config{Board: "sim", DataDir: dir, HTTPSAddr: "127.0.0.1:0"})
	stop := start(t, a)
	fp := served(a)
	if !strings.Contains(out.String(), "(certificate SHA-256 "+fp+")") {
		t.Fatalf("boot output lacks the fingerprint %s:\n%s", fp, out)
	}
	status := strings.Join(consoleHost{a}.Status(), "\n")
	if !strings.Contains(status, "certificate SHA-256 "+fp) {
		t.Fatalf("console status lacks the fingerprint %s:\n%s", fp, status)
	}
	if st, err := os.Stat(filepath.Join(dir, "tls", tlscert.FileName)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("certificate file: %v %v", st, err)
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	a2, _ := newApp(t, Config{Board: "sim", DataDir: dir, HTTPSAddr: "127.0.0.1:0"})
	start(t, a2)
	if again := served(a2); again != fp {
		t.Fatalf("after a restart the certificate changed: %s -> %s", fp, again)
	}
}
