// Package installer holds what an installer sets up on a new box: the LAN
// address (DHCP or static, gateway, DNS), the time zone and the NTP
// servers, with their validation, the files the OS image reads them from,
// an NTP client that reports (and on hardware sets) the clock, and ping.
//
// In simulation the settings are stored and shown; on hardware
// WriteSystemFiles puts them where the image's init scripts read them
// (the data partition's system/ folder: interfaces, resolv.conf, TZ).
package installer

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Network is the LAN configuration of eth0.
type Network struct {
	Mode    string   `json:"mode"`              // "dhcp" or "static"
	Address string   `json:"address,omitempty"` // static: "192.168.1.20/24"
	Gateway string   `json:"gateway,omitempty"` // static: in the address's subnet
	DNS     []string `json:"dns,omitempty"`     // static: up to 3 servers
}

// Time is the clock's configuration.
type Time struct {
	Zone string   `json:"zone"` // IANA name, "Asia/Shanghai"
	NTP  []string `json:"ntp"`  // servers, host or host:port; none: no NTP
}

// Settings are the installer's settings.
type Settings struct {
	Network Network `json:"network"`
	Time    Time    `json:"time"`
}

// Defaults are a new box's: DHCP, UTC, no NTP server until the installer
// names one (a box must not reach out to servers nobody chose).
func Defaults() Settings {
	return Settings{Network: Network{Mode: "dhcp"}, Time: Time{Zone: "UTC"}}
}

// FieldError names the setting that was refused and why, with a reason
// code ("installer.CODE") and its values, which the web admin words in
// the user's language.
type FieldError struct {
	Field, Reason string
	Code          string
	Args          []any
}

func (e *FieldError) Error() string { return "installer: " + e.Field + ": " + e.Reason }

// JSONField names the field for the web admin.
func (e *FieldError) JSONField() string { return e.Field }

// ReasonCode is the catalogues' key (reason.installer.CODE) and its
// values; "" when the error has none.
func (e *FieldError) ReasonCode() (string, []any) {
	if e.Code == "" {
		return "", nil
	}
	return "installer." + e.Code, e.Args
}

// bad refuses field; format words the reason with args in English, the
// catalogues' "reason.installer.CODE" in every language.
func bad(field, code, format string, args ...any) error {
	return &FieldError{Field: field, Code: code, Args: args, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks every field; the error is a *FieldError.
func (s Settings) Validate() error {
	n := s.Network
	switch n.Mode {
	case "dhcp":
		if n.Address != "" || n.Gateway != "" || len(n.DNS) > 0 {
			return bad("network.mode", "dhcp.static", "dhcp takes no address, gateway or dns")
		}
	case "static":
		p, err := netip.ParsePrefix(n.Address)
		if err != nil || !p.Addr().Is4() || p.Bits() < 8 || p.Bits() > 30 {
			return bad("network.address", "address.format", "%q: want an IPv4 address with its prefix, such as 192.168.1.20/24", n.Address)
		}
		if p.Addr() == p.Masked().Addr() {
			return bad("network.address", "address.network", "%q is the network's own address", n.Address)
		}
		gw, err := netip.ParseAddr(n.Gateway)
		if err != nil || !gw.Is4() || !p.Contains(gw) || gw == p.Addr() {
			return bad("network.gateway", "gateway", "%q: want an IPv4 address in %s other than the box's", n.Gateway, p.Masked().String())
		}
		if len(n.DNS) == 0 || len(n.DNS) > 3 {
			return bad("network.dns", "dns.count", "want 1 to 3 servers")
		}
		for _, d := range n.DNS {
			if a, err := netip.ParseAddr(d); err != nil || !a.Is4() {
				return bad("network.dns", "dns.format", "%q is not an IPv4 address", d)
			}
		}
	default:
		return bad("network.mode", "mode", "%q: want dhcp or static", n.Mode)
	}
	if s.Time.Zone == "" || strings.HasPrefix(s.Time.Zone, "/") || strings.Contains(s.Time.Zone, "..") {
		return bad("time.zone", "zone.format", "%q is not a time zone name", s.Time.Zone)
	}
	if _, err := time.LoadLocation(s.Time.Zone); err != nil {
		return bad("time.zone", "zone.unknown", "%q: unknown time zone", s.Time.Zone)
	}
	if len(s.Time.NTP) > 4 {
		return bad("time.ntp", "ntp.count", "at most 4 servers")
	}
	for _, h := range s.Time.NTP {
		host := h
		if hh, _, err := splitHostPort(h); err == nil {
			host = hh
		}
		if host == "" || len(host) > 253 || strings.ContainsFunc(host, func(r rune) bool {
			return !(r == '.' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ':')
		}) {
			return bad("time.ntp", "ntp.format", "%q is not a host name or address", h)
		}
	}
	return nil
}

func splitHostPort(s string) (string, string, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.Count(s, ":") > 1 {
		return "", "", errors.New("no port")
	}
	return s[:i], s[i+1:], nil
}

// Interfaces renders eth0's stanza of ifupdown's /etc/network/interfaces
// (busybox ifup reads it).
func (n Network) Interfaces() string {
	var b strings.Builder
	b.WriteString("# written by callboxd from the installer's settings\nauto lo\niface lo inet loopback\n\nauto eth0\n")
	if n.Mode != "static" {
		b.WriteString("iface eth0 inet dhcp\n")
		return b.String()
	}
	p, _ := netip.ParsePrefix(n.Address)
	mask := netip.PrefixFrom(p.Addr(), p.Bits())
	fmt.Fprintf(&b, "iface eth0 inet static\n\taddress %s\n\tnetmask %s\n\tgateway %s\n", p.Addr(), netmask(mask.Bits()), n.Gateway)
	return b.String()
}

func netmask(bits int) string {
	m := ^uint32(0) << (32 - bits)
	return fmt.Sprintf("%d.%d.%d.%d", m>>24, m>>16&0xff, m>>8&0xff, m&0xff)
}

// ResolvConf renders /etc/resolv.conf for a static address ("" with DHCP,
// whose client writes it).
func (n Network) ResolvConf() string {
	if n.Mode != "static" {
		return ""
	}
	var b strings.Builder
	for _, d := range n.DNS {
		fmt.Fprintf(&b, "nameserver %s\n", d)
	}
	return b.String()
}

// WriteSystemFiles writes interfaces, resolv.conf and TZ into dir (each
// through a temporary file renamed into place), for the image's init
// scripts to use at the next boot or network restart.
func WriteSystemFiles(dir string, s Settings) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	files := map[string]string{"interfaces": s.Network.Interfaces(), "resolv.conf": s.Network.ResolvConf(), "TZ": s.Time.Zone + "\n"}
	for name, content := range files {
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			return fmt.Errorf("installer: %w", err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("installer: %w", err)
		}
	}
	return nil
}
