package webui

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"callbox/webui/tlscert"
)

func testNames() tlscert.Names {
	return tlscert.Names{DNS: []string{"localhost", "callbox.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
}

// startHTTPS runs a server with HTTPS on loopback and returns its plain
// and HTTPS base URLs.
func startHTTPS(t *testing.T, cfg Config) (*env, string, string) {
	t.Helper()
	cfg.Addr, cfg.HTTPSAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.TLSDir = filepath.Join(t.TempDir(), "tls")
	cfg.TLSNames = testNames
	e := newEnv(t, cfg)
	e.users.add(t, "root", RoleAdmin, "root-password")
	plain := startServer(t, e)
	return e, plain, "https://" + e.s.TLSAddr()
}

// tlsClient trusts exactly the certificate the server serves now, the way
// an installer who checked the fingerprint would.
func tlsClient(t *testing.T, e *env) *http.Client {
	t.Helper()
	cert, _ := e.s.certs.GetCertificate(nil)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func call(t *testing.T, c *http.Client, method, url, csrf string, body any) (*http.Response, map[string]any) {
	t.Helper()
	var r *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set(csrfHeader, csrf)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	m := map[string]any{}
	json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}

func setCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestHTTPS: a real TLS client gets the box's certificate (valid for its
// names), Secure __Host- cookies and HSTS; plain HTTP redirects to HTTPS
// (the hardware setting); openssl sees the fingerprint the console shows;
// an administrator's upload is checked and then served.
func TestHTTPS(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets and runs openssl")
	}
	e, plain, secure := startHTTPS(t, Config{RedirectHTTP: true, HSTS: true})
	c := tlsClient(t, e)
	resp, _ := call(t, c, http.MethodGet, secure+"/api/v1/health", "", nil)
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("health over HTTPS: %d %+v", resp.StatusCode, resp.TLS)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Fatalf("HSTS %q", hsts)
	}
	// Cookies: Secure, __Host-, HttpOnly, SameSite=Strict.
	resp, m := call(t, c, http.MethodGet, secure+"/api/v1/session", "", nil)
	if ck := setCookie(resp, "__Host-"+csrfCookie); ck == nil || !ck.Secure || !ck.HttpOnly || ck.Path != "/" {
		t.Fatalf("csrf cookie over HTTPS: %+v", resp.Cookies())
	}
	resp, m = call(t, c, http.MethodPost, secure+"/api/v1/login", m["csrf_token"].(string), map[string]string{"login": "root", "password": "root-password"})
	ck := setCookie(resp, "__Host-"+sessionCookie)
	if resp.StatusCode != http.StatusOK || ck == nil || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login over HTTPS: %d %v %+v", resp.StatusCode, m, resp.Cookies())
	}
	csrf := m["csrf_token"].(string)
	resp, m = call(t, c, http.MethodGet, secure+"/api/v1/system", "", nil)
	if resp.StatusCode != http.StatusOK || m["tls"].(map[string]any)["sha256"] != e.s.certs.Info().Fingerprint {
		t.Fatalf("system over HTTPS: %d %v", resp.StatusCode, m)
	}
	// Plain HTTP: only redirects.
	for method, want := range map[string]int{http.MethodGet: 301, http.MethodPost: 308} {
		resp, _ := call(t, c, method, plain+"/login?next=%2Fusers", "", nil)
		if resp.StatusCode != want || resp.Header.Get("Location") != secure+"/login?next=%2Fusers" {
			t.Fatalf("%s over HTTP: %d %q", method, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// TLS 1.1 is refused.
	if conn, err := tls.Dial("tcp", e.s.TLSAddr(), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		conn.Close()
		t.Fatal("TLS 1.1 accepted")
	}
	// openssl, an independent TLS client, sees the fingerprint we show.
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not found: install the Debian package openssl")
	}
	if got := opensslFingerprint(t, e.s.TLSAddr()); got != e.s.certs.Info().Fingerprint {
		t.Fatalf("openssl sees %s, the box shows %s", got, e.s.certs.Info().Fingerprint)
	}

	// Upload: refused when wrong, served at once when right.
	certPEM, keyPEM := officeCert(t)
	_, otherKey := officeCert(t)
	for _, tc := range []struct {
		cert, key []byte
		code      string
		field     string
	}{
		{[]byte("nope"), keyPEM, "err.tls.certificate", "certificate"},
		{certPEM, []byte("nope"), "err.tls.key", "key"},
		{certPEM, otherKey, "err.tls.mismatch", "key"},
	} {
		resp, m := call(t, c, http.MethodPut, secure+"/api/v1/tls", csrf, map[string]string{"certificate": string(tc.cert), "key": string(tc.key)})
		if resp.StatusCode != http.StatusBadRequest || m["code"] != tc.code || m["field"] != tc.field {
			t.Errorf("bad upload: %d %v, want %s on %s", resp.StatusCode, m, tc.code, tc.field)
		}
	}
	resp, m = call(t, c, http.MethodPut, secure+"/api/v1/tls", csrf, map[string]string{"certificate": string(certPEM), "key": string(keyPEM)})
	if resp.StatusCode != http.StatusOK || m["self_made"] != false || m["subject"] != "CN=pbx.office.example" {
		t.Fatalf("upload: %d %v", resp.StatusCode, m)
	}
	if got := opensslFingerprint(t, e.s.TLSAddr()); got != m["sha256"] {
		t.Fatalf("after the upload openssl sees %s, the API said %v", got, m["sha256"])
	}
	resp, _ = call(t, tlsClient(t, e), http.MethodGet, secure+"/api/v1/health", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health with the uploaded certificate: %d", resp.StatusCode)
	}
}

// TestHTTPSimulation: without the hardware settings plain HTTP serves the
// admin and HTTPS sends no HSTS.
func TestHTTPSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	e, plain, secure := startHTTPS(t, Config{})
	jar, _ := cookiejar.New(nil)
	resp, _ := call(t, &http.Client{Jar: jar}, http.MethodGet, plain+"/api/v1/session", "", nil)
	if resp.StatusCode != http.StatusOK || setCookie(resp, csrfCookie) == nil || setCookie(resp, csrfCookie).Secure {
		t.Fatalf("plain HTTP in simulation: %d %+v", resp.StatusCode, resp.Cookies())
	}
	resp, _ = call(t, tlsClient(t, e), http.MethodGet, secure+"/api/v1/health", "", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Fatalf("HTTPS in simulation: %d %v", resp.StatusCode, resp.Header)
	}
}

// opensslFingerprint asks openssl s_client for the certificate at addr.
func opensslFingerprint(t *testing.T, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sc := exec.CommandContext(ctx, "openssl", "s_client", "-connect", addr, "-servername", "localhost")
	sc.Stdin = strings.NewReader("")
	out, err := sc.Output()
	if err != nil {
		t.Fatalf("openssl s_client: %v\n%s", err, out)
	}
	x := exec.CommandContext(ctx, "openssl", "x509", "-noout", "-fingerprint", "-sha256")
	x.Stdin = bytes.NewReader(out)
	fp, err := x.Output()
	if err != nil {
		t.Fatalf("openssl x509: %v", err)
	}
	_, v, ok := strings.Cut(strings.TrimSpace(string(fp)), "=")
	if !ok {
		t.Fatalf("openssl x509 said %q", fp)
	}
	return v
}

// officeCert makes a certificate for pbx.office.example signed by a test
// CA, with its key, as an administrator would upload.
func officeCert(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Office CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "pbx.office.example"},
		DNSNames: []string{"pbx.office.example", "localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(12 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}

// TestBrowserHTTPS logs in through Chromium over HTTPS, trusting the box's
// key the way an installer does after checking the fingerprint (by its
// SPKI hash), and checks the session cookie the browser keeps is Secure.
func TestBrowserHTTPS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium and opens sockets")
	}
	e, _, secure := startHTTPS(t, Config{RedirectHTTP: true, HSTS: true})
	cert, _ := e.s.certs.GetCertificate(nil)
	spki := sha256.Sum256(cert.Leaf.RawSubjectPublicKeyInfo)
	b := startBrowser(t, "--ignore-certificate-errors-spki-list="+base64.StdEncoding.EncodeToString(spki[:]))
	b.navigate(secure + "/login?next=%2Fusers")
	b.submitForm("/login", map[string]string{"login": "root", "password": "root-password"})
	got, _ := url.Parse(b.evalString("location.href"))
	if got.Scheme != "https" || got.Host != e.s.TLSAddr() || got.Path != "/users" {
		t.Fatalf("after login the browser is at %s", got)
	}
	var session *cookie
	for _, ck := range b.cookies(secure + "/") {
		if ck.Name == "__Host-"+sessionCookie {
			session = &ck
		}
	}
	if session == nil || !session.Secure || !session.HTTPOnly || session.SameSite != "Strict" {
		t.Fatalf("browser's session cookie: %+v (all: %+v)", session, b.cookies(secure+"/"))
	}
	if proto := b.evalString("location.protocol"); proto != "https:" {
		t.Fatalf("protocol %s", proto)
	}
}
