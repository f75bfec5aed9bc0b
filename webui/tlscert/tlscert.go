// Package tlscert keeps the web admin's TLS certificate: one PEM file (the
// private key and the certificate chain) in a directory of the box's data
// partition, read at boot, made at first boot, renewed before it expires
// and replaced by an administrator's upload.
//
// The certificate the box makes itself is self-signed, ECDSA P-256, valid
// for 397 days, for the box's host name, its LAN addresses, localhost and
// 127.0.0.1. An installer checks it by its SHA-256 fingerprint, which the
// console and the boot log show. Renewal (30 days before the end, or when
// the box's names or addresses are no longer all in it) keeps the key, so a
// client that pins the key (SPKI) keeps working; the certificate's
// fingerprint changes, and the console shows the new one. An uploaded
// certificate is never renewed by the box; Reset goes back to a self-made
// one.
package tlscert

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// FileName is the PEM file in the store's directory.
const FileName = "server.pem"

// Validity of a self-made certificate, and how long before its end the box
// makes the next one. 397 days is the most browsers accept for a server
// certificate.
const (
	Validity    = 397 * 24 * time.Hour
	RenewBefore = 30 * 24 * time.Hour
)

// selfOU marks the certificates the box made, so it renews only those.
const selfOU = "callbox self-signed"

// MaxPEM bounds an uploaded certificate and key together.
const MaxPEM = 64 << 10

// Names are what a self-made certificate covers.
type Names struct {
	DNS []string
	IPs []net.IP
}

// LocalNames returns the box's names: its host name (and host.local when
// it has no dot), localhost, and the addresses of its up interfaces
// except link-local ones, which a browser cannot use in a URL without a
// zone.
func LocalNames() Names {
	n := Names{DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		n.DNS = append(n.DNS, h)
		if !strings.Contains(h, ".") {
			n.DNS = append(n.DNS, h+".local")
		}
	}
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsLinkLocalMulticast() {
				continue
			}
			n.IPs = append(n.IPs, ipn.IP)
		}
	}
	return n
}

// Info describes the certificate being served.
type Info struct {
	// Fingerprint is the SHA-256 of the certificate, as browsers show it:
	// upper-case hex pairs joined by ':'.
	Fingerprint string
	Subject     string
	Issuer      string
	DNSNames    []string
	IPs         []string
	NotBefore   time.Time
	NotAfter    time.Time
	// SelfMade: the box made it (and renews it); false for an upload.
	SelfMade bool
}

// Store holds the certificate served. It is safe for concurrent use.
type Store struct {
	path  string
	names func() Names
	now   func() time.Time

	mu   sync.RWMutex
	cert *tls.Certificate
	info Info
}

// Open loads the certificate kept in dir, making the directory and a
// self-made certificate when there is none, and renewing a self-made one
// that is due. A file that cannot be used (damaged, expired upload, key
// not matching) is kept aside as server.pem.bad-TIME and replaced by a
// self-made certificate, so HTTPS always comes up; names nil means
// LocalNames, now nil time.Now.
func Open(dir string, names func() Names, now func() time.Time) (*Store, error) {
	if names == nil {
		names = LocalNames
	}
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	s := &Store{path: filepath.Join(dir, FileName), names: names, now: now}
	data, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, s.makeSelf(nil)
	case err != nil:
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	cert, info, err := parse(data, now())
	if err != nil {
		aside := fmt.Sprintf("%s.bad-%s", s.path, now().UTC().Format("20060102T150405Z"))
		if rerr := os.Rename(s.path, aside); rerr != nil {
			return nil, fmt.Errorf("tlscert: %s unusable (%w) and cannot be moved aside: %w", s.path, err, rerr)
		}
		return s, s.makeSelf(nil)
	}
	s.set(cert, info)
	_, err = s.Renew()
	return s, err
}

// GetCertificate serves the current certificate; it fits
// tls.Config.GetCertificate.
func (s *Store) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cert, nil
}

// Info describes the current certificate.
func (s *Store) Info() Info {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.info
}

func (s *Store) set(cert *tls.Certificate, info Info) {
	s.mu.Lock()
	s.cert, s.info = cert, info
	s.mu.Unlock()
}

// Renew makes a new self-made certificate, with the same key, when the current one is self-made and ends within RenewBefore or no
// longer covers all the box's names. It reports whether it did. An
// uploaded certificate is left alone.
func (s *Store) Renew() (bool, error) {
	s.mu.RLock()
	cert, info := s.cert, s.info
	s.mu.RUnlock()
	if !info.SelfMade {
		return false, nil
	}
	if s.now().Add(RenewBefore).Before(info.NotAfter) && covers(info, s.names()) {
		return false, nil
	}
	return true, s.makeSelf(cert.PrivateKey)
}

// Reset replaces the certificate by a new self-made one with a new key.
func (s *Store) Reset() (Info, error) {
	if err := s.makeSelf(nil); err != nil {
		return Info{}, err
	}
	return s.Info(), nil
}

// covers reports whether the certificate names every name in n.
func covers(info Info, n Names) bool {
	for _, d := range n.DNS {
		if !slices.Contains(info.DNSNames, d) {
			return false
		}
	}
	for _, ip := range n.IPs {
		if !slices.Contains(info.IPs, ip.String()) {
			return false
		}
	}
	return true
}

// makeSelf makes, stores and serves a self-signed certificate for the
// box's names, with key (a new ECDSA P-256 key when nil).
func (s *Store) makeSelf(key crypto.PrivateKey) error {
	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return fmt.Errorf("tlscert: %w", err)
		}
		key = k
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return errors.New("tlscert: the key cannot sign")
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	names := s.names()
	now := s.now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "callbox", Organization: []string{"callbox"}, OrganizationalUnit: []string{selfOU}},
		NotBefore:             now.Add(-time.Hour), // a box whose clock is a little behind
		NotAfter:              now.Add(Validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // as openssl req -x509 makes them: importable as an authority
		DNSNames:              names.DNS,
		IPAddresses:           names.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	return s.store(data)
}

// Install validates an uploaded certificate chain and key (PEM) and, when
// they are good, stores and serves them. The leaf comes first; the key
// must match it, and it must be valid now and for server authentication.
// Errors wrap ErrCertificate, ErrKey, ErrMismatch or ErrValidity.
func (s *Store) Install(certPEM, keyPEM []byte) (Info, error) {
	if len(certPEM)+len(keyPEM) > MaxPEM {
		return Info{}, fmt.Errorf("%w: larger than %d bytes", ErrCertificate, MaxPEM)
	}
	data := append(append(bytes.TrimSpace(keyPEM), '\n'), append(bytes.TrimSpace(certPEM), '\n')...)
	if _, _, err := parse(data, s.now()); err != nil {
		return Info{}, err
	}
	if err := s.store(data); err != nil {
		return Info{}, err
	}
	return s.Info(), nil
}

// Errors of Install (and of a stored file Open puts aside).
var (
	ErrCertificate = errors.New("tlscert: not a usable certificate")
	ErrKey         = errors.New("tlscert: not a usable private key")
	ErrMismatch    = errors.New("tlscert: the key does not belong to the certificate")
	ErrValidity    = errors.New("tlscert: the certificate is not valid now")
)

// store writes data atomically (a temporary file synced, then renamed) and
// serves it.
func (s *Store) store(data []byte) error {
	cert, info, err := parse(data, s.now())
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.path)
	tmp, err := os.CreateTemp(dir, "."+FileName+".*")
	if err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path)
	}
	if err == nil {
		if d, derr := os.Open(dir); derr == nil {
			err = d.Sync()
			d.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	s.set(cert, info)
	return nil
}

// parse reads a key and a chain from PEM and checks them at now.
func parse(data []byte, now time.Time) (*tls.Certificate, Info, error) {
	var certs [][]byte
	var key crypto.PrivateKey
	var keyErr error
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			certs = append(certs, b.Bytes)
		case strings.HasSuffix(b.Type, "PRIVATE KEY") && key == nil:
			key, keyErr = parseKey(b.Bytes)
		}
	}
	if len(certs) == 0 {
		return nil, Info{}, fmt.Errorf("%w: no PEM CERTIFICATE block", ErrCertificate)
	}
	if key == nil {
		if keyErr == nil {
			keyErr = errors.New("no PEM PRIVATE KEY block")
		}
		return nil, Info{}, fmt.Errorf("%w: %w", ErrKey, keyErr)
	}
	leaf, err := x509.ParseCertificate(certs[0])
	if err != nil {
		return nil, Info{}, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	pub, ok := key.(crypto.Signer)
	if !ok {
		return nil, Info{}, fmt.Errorf("%w: unsupported key type %T", ErrKey, key)
	}
	if eq, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub.Public()) {
		return nil, Info{}, ErrMismatch
	}
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return nil, Info{}, fmt.Errorf("%w: valid from %s to %s", ErrValidity,
			leaf.NotBefore.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	if len(leaf.ExtKeyUsage) > 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) &&
		!slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return nil, Info{}, fmt.Errorf("%w: not for server authentication", ErrCertificate)
	}
	sum := sha256.Sum256(leaf.Raw)
	info := Info{Fingerprint: Fingerprint(sum[:]), Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(),
		DNSNames: leaf.DNSNames, NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter,
		SelfMade: slices.Contains(leaf.Subject.OrganizationalUnit, selfOU) && bytes.Equal(leaf.RawIssuer, leaf.RawSubject)}
	for _, ip := range leaf.IPAddresses {
		info.IPs = append(info.IPs, ip.String())
	}
	return &tls.Certificate{Certificate: certs, PrivateKey: key, Leaf: leaf}, info, nil
}

func parseKey(der []byte) (crypto.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		switch k.(type) {
		case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
			return k, nil
		}
		return nil, fmt.Errorf("unsupported key type %T", k)
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		return nil, errors.New("not a PKCS#8, EC or PKCS#1 private key")
	}
	return k, nil
}

// Fingerprint formats a digest as browsers show certificate fingerprints:
// "AB:CD:...".
func Fingerprint(sum []byte) string {
	h := strings.ToUpper(hex.EncodeToString(sum))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
