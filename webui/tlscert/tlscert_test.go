package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func boxNames() Names {
	return Names{DNS: []string{"localhost", "callbox", "callbox.local"},
		IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.ParseIP("192.168.1.20")}}
}

func TestFirstBootAndReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	c := &clock{time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	s, err := Open(dir, boxNames, c.now)
	if err != nil {
		t.Fatal(err)
	}
	info := s.Info()
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(info.Fingerprint) {
		t.Fatalf("fingerprint %q", info.Fingerprint)
	}
	if !info.SelfMade || !slices.Contains(info.DNSNames, "callbox") || !slices.Contains(info.IPs, "192.168.1.20") ||
		!slices.Contains(info.IPs, "127.0.0.1") || !slices.Contains(info.DNSNames, "localhost") {
		t.Fatalf("info %+v", info)
	}
	if d := info.NotAfter.Sub(c.t); d < Validity-time.Minute || d > Validity {
		t.Fatalf("valid for %v", d)
	}
	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st.Mode(), err)
	}
	cert, _ := s.GetCertificate(nil)
	if _, ok := cert.PrivateKey.(*ecdsa.PrivateKey); !ok || cert.Leaf.PublicKeyAlgorithm != x509.ECDSA {
		t.Fatalf("key %T", cert.PrivateKey)
	}
	// The certificate verifies for the box's names against itself.
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	for _, name := range []string{"localhost", "127.0.0.1", "192.168.1.20", "callbox.local"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: c.t}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	// A reboot serves the same certificate.
	s2, err := Open(dir, boxNames, c.now)
	if err != nil || s2.Info().Fingerprint != info.Fingerprint {
		t.Fatalf("after reopen: %v, %q vs %q", err, s2.Info().Fingerprint, info.Fingerprint)
	}
}

// TestRenewKeepsKey: renewal before the end and on new addresses makes a
// new certificate with the same key, so key pins survive.
func TestRenewKeepsKey(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	names := boxNames()
	s, err := Open(dir, func() Names { return names }, c.now)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := s.GetCertificate(nil)
	if renewed, err := s.Renew(); renewed || err != nil {
		t.Fatalf("fresh certificate renewed: %v %v", renewed, err)
	}
	check := func(what string) {
		t.Helper()
		cur, _ := s.GetCertificate(nil)
		if cur.Leaf.Equal(old.Leaf) || !cur.Leaf.NotAfter.After(old.Leaf.NotAfter) {
			t.Fatalf("%s: not renewed", what)
		}
		if !cur.Leaf.PublicKey.(*ecdsa.PublicKey).Equal(old.Leaf.PublicKey) {
			t.Fatalf("%s: key changed", what)
		}
		roots := x509.NewCertPool()
		roots.AddCert(cur.Leaf)
		if _, err := cur.Leaf.Verify(x509.VerifyOptions{DNSName: "callbox", Roots: roots, CurrentTime: c.t}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	c.t = c.t.Add(Validity - RenewBefore + time.Hour)
	if renewed, err := s.Renew(); !renewed || err != nil {
		t.Fatalf("due certificate: %v %v", renewed, err)
	}
	check("due")
	old, _ = s.GetCertificate(nil)
	c.t = c.t.Add(time.Hour)
	names.IPs = append(names.IPs, net.ParseIP("10.0.0.9"))
	if renewed, err := s.Renew(); !renewed || err != nil {
		t.Fatalf("new address: %v %v", renewed, err)
	}
	check("new address")
	if !slices.Contains(s.Info().IPs, "10.0.0.9") {
		t.Fatal("new address not in the certificate")
	}
	// A reboot after the end renews at Open.
	c.t = c.t.Add(2 * Validity)
	s2, err := Open(dir, func() Names { return names }, c.now)
	if err != nil || !s2.Info().NotAfter.After(c.t) {
		t.Fatalf("expired at boot: %v %+v", err, s2.Info())
	}
}

// ca makes a little CA and a leaf it signs, as an administrator's upload.
func ca(t *testing.T, now time.Time, leafTmpl *x509.Certificate) (certPEM, keyPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Office CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * Validity), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	certPEM = append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

func TestInstall(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	s, err := Open(dir, boxNames, c.now)
	if err != nil {
		t.Fatal(err)
	}
	self := s.Info()
	leaf := func(from, to time.Time, eku ...x509.ExtKeyUsage) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "pbx.office.example"},
			DNSNames: []string{"pbx.office.example"}, NotBefore: from, NotAfter: to, ExtKeyUsage: eku,
			KeyUsage: x509.KeyUsageDigitalSignature}
	}
	good, goodKey := ca(t, c.t, leaf(c.t.Add(-time.Hour), c.t.Add(90*24*time.Hour), x509.ExtKeyUsageServerAuth))
	_, otherKey := ca(t, c.t, leaf(c.t.Add(-time.Hour), c.t.Add(90*24*time.Hour)))
	expired, expiredKey := ca(t, c.t, leaf(c.t.Add(-100*24*time.Hour), c.t.Add(-time.Hour)))
	future, futureKey := ca(t, c.t, leaf(c.t.Add(time.Hour), c.t.Add(90*24*time.Hour)))
	client, clientKey := ca(t, c.t, leaf(c.t.Add(-time.Hour), c.t.Add(90*24*time.Hour), x509.ExtKeyUsageClientAuth))
	for _, tc := range []struct {
		name      string
		cert, key []byte
		want      error
	}{
		{"garbage certificate", []byte("hello"), goodKey, ErrCertificate},
		{"no key", good, nil, ErrKey},
		{"garbage key", good, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), ErrKey},
		{"another key", good, otherKey, ErrMismatch},
		{"expired", expired, expiredKey, ErrValidity},
		{"not yet valid", future, futureKey, ErrValidity},
		{"client only", client, clientKey, ErrCertificate},
		{"too large", append(good, make([]byte, MaxPEM)...), goodKey, ErrCertificate},
	} {
		if _, err := s.Install(tc.cert, tc.key); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if s.Info().Fingerprint != self.Fingerprint {
			t.Fatalf("%s: a refused upload changed the certificate", tc.name)
		}
	}
	info, err := s.Install(good, goodKey)
	if err != nil || info.SelfMade || info.Subject != "CN=pbx.office.example" || info.Issuer != "CN=Office CA" {
		t.Fatalf("install: %+v %v", info, err)
	}
	cur, _ := s.GetCertificate(nil)
	if len(cur.Certificate) != 2 {
		t.Fatalf("chain of %d", len(cur.Certificate))
	}
	// Kept over a reboot, never renewed by the box, even when due.
	c.t = c.t.Add(80 * 24 * time.Hour)
	s2, err := Open(dir, boxNames, c.now)
	if err != nil || s2.Info().Fingerprint != info.Fingerprint {
		t.Fatalf("after reboot: %v %+v", err, s2.Info())
	}
	if renewed, _ := s2.Renew(); renewed {
		t.Fatal("the box renewed an uploaded certificate")
	}
	// Reset goes back to a self-made one with a new key.
	back, err := s2.Reset()
	if err != nil || !back.SelfMade || back.Fingerprint == self.Fingerprint {
		t.Fatalf("reset: %+v %v", back, err)
	}
}

// TestUnusableFileSetAside: a damaged file (or an upload that has since
// expired) does not keep HTTPS down: it is kept aside and replaced.
func TestUnusableFileSetAside(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("-----BEGIN CERTIFICATE-----\nnope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, boxNames, nil)
	if err != nil || !s.Info().SelfMade {
		t.Fatalf("open over a damaged file: %v %+v", err, s.Info())
	}
	aside, _ := filepath.Glob(filepath.Join(dir, FileName+".bad-*"))
	if len(aside) != 1 {
		t.Fatalf("damaged file not kept aside: %v", aside)
	}
	if b, _ := os.ReadFile(aside[0]); !strings.Contains(string(b), "nope") {
		t.Fatal("the kept file lost its content")
	}
}

func TestLocalNames(t *testing.T) {
	n := LocalNames()
	if !slices.Contains(n.DNS, "localhost") || !slices.ContainsFunc(n.IPs, func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) }) {
		t.Fatalf("LocalNames = %+v", n)
	}
	for _, ip := range n.IPs {
		if ip.IsLinkLocalUnicast() {
			t.Errorf("link-local %s in the names", ip)
		}
	}
}
