package installer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	static := Settings{Network: Network{Mode: "static", Address: "192.168.1.20/24", Gateway: "192.168.1.1", DNS: []string{"192.168.1.1", "223.5.5.5"}},
		Time: Time{Zone: "Asia/Shanghai", NTP: []string{"cn.pool.ntp.org", "192.168.1.1:123"}}}
	if err := static.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := Defaults().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, field string
		mod         func(*Settings)
	}{
		{"mode", "network.mode", func(s *Settings) { s.Network.Mode = "ppp" }},
		{"dhcp with address", "network.mode", func(s *Settings) { s.Network.Mode = "dhcp" }},
		{"no prefix", "network.address", func(s *Settings) { s.Network.Address = "192.168.1.20" }},
		{"network address", "network.address", func(s *Settings) { s.Network.Address = "192.168.1.0/24" }},
		{"ipv6", "network.address", func(s *Settings) { s.Network.Address = "fd00::2/64" }},
		{"gateway elsewhere", "network.gateway", func(s *Settings) { s.Network.Gateway = "10.0.0.1" }},
		{"gateway is the box", "network.gateway", func(s *Settings) { s.Network.Gateway = "192.168.1.20" }},
		{"no dns", "network.dns", func(s *Settings) { s.Network.DNS = nil }},
		{"bad dns", "network.dns", func(s *Settings) { s.Network.DNS = []string{"dns.example"} }},
		{"zone", "time.zone", func(s *Settings) { s.Time.Zone = "Mars/Olympus" }},
		{"zone path", "time.zone", func(s *Settings) { s.Time.Zone = "../../etc/passwd" }},
		{"ntp", "time.ntp", func(s *Settings) { s.Time.NTP = []string{"bad host"} }},
	} {
		s := static
		s.Network.DNS = append([]string(nil), static.Network.DNS...)
		tc.mod(&s)
		var fe *FieldError
		if err := s.Validate(); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: err = %v, want field %s", tc.name, err, tc.field)
			continue
		}
		// The web admin words it from the code (firmware/app's
		// TestSettingReasonsTranslated checks the catalogues).
		if code, _ := fe.ReasonCode(); !strings.HasPrefix(code, "installer.") {
			t.Errorf("%s: reason code %q", tc.name, code)
		}
	}
}

func TestSystemFiles(t *testing.T) {
	s := Settings{Network: Network{Mode: "static", Address: "10.1.2.3/22", Gateway: "10.1.0.1", DNS: []string{"10.1.0.1"}}, Time: Time{Zone: "Asia/Shanghai"}}
	dir := t.TempDir()
	if err := WriteSystemFiles(dir, s); err != nil {
		t.Fatal(err)
	}
	ifs, _ := os.ReadFile(filepath.Join(dir, "interfaces"))
	if !strings.Contains(string(ifs), "address 10.1.2.3\n\tnetmask 255.255.252.0\n\tgateway 10.1.0.1") {
		t.Fatalf("interfaces:\n%s", ifs)
	}
	rc, _ := os.ReadFile(filepath.Join(dir, "resolv.conf"))
	tz, _ := os.ReadFile(filepath.Join(dir, "TZ"))
	if string(rc) != "nameserver 10.1.0.1\n" || string(tz) != "Asia/Shanghai\n" {
		t.Fatalf("resolv.conf %q, TZ %q", rc, tz)
	}
	if !strings.Contains(Defaults().Network.Interfaces(), "iface eth0 inet dhcp") {
		t.Fatal("dhcp stanza")
	}
}

// ntpServer answers NTP requests on loopback with a clock offset by skew,
// as a real server's packet (RFC 5905) looks.
func ntpServer(t *testing.T, skew time.Duration) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ts := func(tm time.Time) uint64 {
		secs := uint64(tm.Unix() + 2208988800)
		frac := uint64(tm.Nanosecond()) << 32 / 1e9
		return secs<<32 | frac
	}
	go func() {
		buf := make([]byte, 128)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 48 {
				continue
			}
			now := time.Now().Add(skew)
			resp := make([]byte, 48)
			resp[0] = 0<<6 | 4<<3 | 4 // no leap warning, version 4, server
			resp[1] = 2               // stratum
			resp[2] = 6
			resp[3] = 0xec
			binary.BigEndian.PutUint32(resp[4:], 1<<10) // root delay
			binary.BigEndian.PutUint32(resp[8:], 1<<10) // root dispersion
			copy(resp[12:16], "LOCL")
			binary.BigEndian.PutUint64(resp[16:], ts(now.Add(-10*time.Second))) // reference
			copy(resp[24:32], buf[40:48])                                       // origin: their transmit
			binary.BigEndian.PutUint64(resp[32:], ts(now))                      // receive
			binary.BigEndian.PutUint64(resp[40:], ts(now))                      // transmit
			c.WriteTo(resp, from)
		}
	}()
	return c.LocalAddr().String()
}

func TestSyncer(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	servers := []string{"127.0.0.1:1", ntpServer(t, 3*time.Second)}
	s := &Syncer{Servers: func() []string { return servers }}
	st := s.SyncOnce(context.Background())
	if !st.Synced() || st.Server != servers[1] || st.Offset < 2900*time.Millisecond || st.Offset > 3100*time.Millisecond || st.Stratum != 2 {
		t.Fatalf("state %+v", st)
	}
	if st.Set {
		t.Fatal("the clock was set without SetClock")
	}
	// The offset is 3 s less the time the answer took (2.99... under load).
	if str := s.State().String(); !strings.Contains(str, "offset 3") && !strings.Contains(str, "offset 2.9") {
		t.Fatalf("%s", s.State())
	}
	servers = nil
	if st := s.SyncOnce(context.Background()); st.Synced() || !strings.Contains(st.String(), "no NTP server") {
		t.Fatalf("%+v", st)
	}
}

func TestPingLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	got := 0
	err := Ping(context.Background(), "127.0.0.1", 2, func(seq int, rtt time.Duration, err error) {
		if err == nil && rtt > 0 {
			got++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != 2 {
		t.Fatalf("%d of 2 answered", got)
	}
}

// TestPingUnprivileged runs ping as a user with no right to ICMP sockets
// (nobody, in a child process when the test runs as root): it either works
// (the host lets nobody's group have unprivileged ICMP sockets) or says
// what is missing. Before, the console printed only "listen ip4:icmp
// 0.0.0.0: socket: operation not permitted".
func TestPingUnprivileged(t *testing.T) {
	if os.Getenv("CALLBOX_PING_CHILD") == "1" {
		err := Ping(context.Background(), "127.0.0.1", 1, func(int, time.Duration, error) {})
		fmt.Printf("ping result: %v\n", err)
		return
	}
	if testing.Short() {
		t.Skip("starts a process and opens sockets")
	}
	var out []byte
	gid := os.Getgid()
	if os.Getuid() == 0 {
		// The test binary sits in a directory only root may enter: nobody
		// runs a copy.
		dir := t.TempDir()
		for _, d := range []string{dir, filepath.Dir(dir)} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(self)
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "installer.test")
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
		const nobody = 65534
		cmd := exec.Command(bin, "-test.run=^TestPingUnprivileged$")
		cmd.Env = append(os.Environ(), "CALLBOX_PING_CHILD=1")
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		if out, err = cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		gid = nobody
	} else {
		err := Ping(context.Background(), "127.0.0.1", 1, func(int, time.Duration, error) {})
		out = fmt.Appendf(nil, "ping result: %v\n", err)
	}
	_, res, ok := strings.Cut(string(out), "ping result: ")
	if !ok {
		t.Fatalf("no result from the child:\n%s", out)
	}
	res, _, _ = strings.Cut(res, "\n")
	allowed := false
	if r, err := os.ReadFile(pingGroupRange); err == nil {
		var lo, hi int
		if _, err := fmt.Sscan(string(r), &lo, &hi); err == nil {
			allowed = lo <= gid && gid <= hi
		}
	}
	switch {
	case allowed && res != "<nil>":
		t.Fatalf("group %d may open ICMP sockets, yet: %s", gid, res)
	case !allowed && os.Getuid() == 0 && !strings.Contains(res, "needs root (or CAP_NET_RAW), or group 65534 in sysctl net.ipv4.ping_group_range"):
		t.Fatalf("nobody's ping says %q, want what it needs", res)
	case !allowed && os.Getuid() != 0 && res != "<nil>" && !strings.Contains(res, "ping_group_range"):
		t.Fatalf("ping says %q, want what it needs", res)
	}
	t.Logf("group %d: %s", gid, res)
}
