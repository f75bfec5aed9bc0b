// Package installcli is the installer's commands on the serial console and
// the control socket:
//
//	net                                  show the LAN settings and interfaces
//	net dhcp
//	net static ADDR/PREFIX GATEWAY DNS [DNS...]
//	time                                 zone, NTP servers, sync state, the clock
//	time zone ZONE
//	time ntp [SERVER...]                 none: no NTP
//	time sync                            ask the NTP servers now
//	ping HOST [COUNT]
//	factory-reset [CODE]                 erase the box (shows a code first; a wrong code gives a new one)
package installcli

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	"callbox/firmware/cli"
	"callbox/firmware/installer"
)

// Daemon is what the commands reach in the running box.
type Daemon struct {
	Settings func() (installer.Settings, error)
	// Save validates and stores the settings (and on hardware writes the
	// image's files).
	Save    func(installer.Settings) error
	Sync    func() installer.SyncState
	SyncNow func(ctx context.Context) installer.SyncState
	// Interfaces lists the live interfaces.
	Interfaces func() ([]string, error)
	// FactoryReset erases the box's data and restarts it.
	FactoryReset func() error
}

// Live returns the commands.
func Live(d Daemon) []cli.Command {
	r := &resetter{}
	return []cli.Command{
		{Name: "net", Summary: "net | net dhcp | net static ADDR/PREFIX GATEWAY DNS...: the LAN address", Run: func(ctx context.Context, args []string, std cli.IO) int { return runNet(d, args, std) }},
		{Name: "time", Summary: "time | time zone ZONE | time ntp [SERVER...] | time sync: the clock", Run: func(ctx context.Context, args []string, std cli.IO) int { return runTime(ctx, d, args, std) }},
		{Name: "ping", Summary: "ping HOST [COUNT]", Run: runPing},
		{Name: "factory-reset", Summary: "factory-reset: erase the configuration and all data (asks for a code)", Run: func(ctx context.Context, args []string, std cli.IO) int { return r.run(d, args, std) }},
	}
}

func failf(w io.Writer, format string, args ...any) int {
	fmt.Fprintf(w, format+"\n", args...)
	return 1
}

func change(d Daemon, std cli.IO, edit func(*installer.Settings)) int {
	s, err := d.Settings()
	if err != nil {
		return failf(std.Err, "%v", err)
	}
	edit(&s)
	if err := d.Save(s); err != nil {
		return failf(std.Err, "refused, nothing changed: %v", err)
	}
	fmt.Fprintln(std.Out, "saved")
	return 0
}

func runNet(d Daemon, args []string, std cli.IO) int {
	switch {
	case len(args) == 0:
		s, err := d.Settings()
		if err != nil {
			return failf(std.Err, "%v", err)
		}
		n := s.Network
		if n.Mode == "static" {
			fmt.Fprintf(std.Out, "lan: static %s, gateway %s, dns %s\n", n.Address, n.Gateway, strings.Join(n.DNS, " "))
		} else {
			fmt.Fprintln(std.Out, "lan: dhcp")
		}
		if d.Interfaces != nil {
			lines, err := d.Interfaces()
			if err != nil {
				return failf(std.Err, "%v", err)
			}
			for _, l := range lines {
				fmt.Fprintln(std.Out, "  "+l)
			}
		}
		return 0
	case args[0] == "dhcp" && len(args) == 1:
		return change(d, std, func(s *installer.Settings) { s.Network = installer.Network{Mode: "dhcp"} })
	case args[0] == "static" && len(args) >= 4:
		return change(d, std, func(s *installer.Settings) {
			s.Network = installer.Network{Mode: "static", Address: args[1], Gateway: args[2], DNS: args[3:]}
		})
	}
	return failf(std.Err, "usage: net | net dhcp | net static ADDR/PREFIX GATEWAY DNS [DNS...]")
}

func runTime(ctx context.Context, d Daemon, args []string, std cli.IO) int {
	switch {
	case len(args) == 0:
		s, err := d.Settings()
		if err != nil {
			return failf(std.Err, "%v", err)
		}
		now := time.Now()
		if loc, err := time.LoadLocation(s.Time.Zone); err == nil {
			now = now.In(loc)
		}
		ntp := strings.Join(s.Time.NTP, " ")
		if ntp == "" {
			ntp = "none"
		}
		fmt.Fprintf(std.Out, "clock: %s (zone %s)\nntp servers: %s\nntp: %s\n", now.Format("2006-01-02 15:04:05 MST"), s.Time.Zone, ntp, d.Sync())
		return 0
	case args[0] == "zone" && len(args) == 2:
		return change(d, std, func(s *installer.Settings) { s.Time.Zone = args[1] })
	case args[0] == "ntp":
		code := change(d, std, func(s *installer.Settings) { s.Time.NTP = append([]string(nil), args[1:]...) })
		if code == 0 {
			fmt.Fprintf(std.Out, "ntp: %s\n", d.SyncNow(ctx))
		}
		return code
	case args[0] == "sync" && len(args) == 1:
		fmt.Fprintf(std.Out, "ntp: %s\n", d.SyncNow(ctx))
		return 0
	}
	return failf(std.Err, "usage: time | time zone ZONE | time ntp [SERVER...] | time sync")
}

func runPing(ctx context.Context, args []string, std cli.IO) int {
	if len(args) < 1 || len(args) > 2 {
		return failf(std.Err, "usage: ping HOST [COUNT]")
	}
	count := 4
	if len(args) == 2 {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 || n > 100 {
			return failf(std.Err, "ping: COUNT is 1 to 100")
		}
		count = n
	}
	lost := 0
	err := installer.Ping(ctx, args[0], count, func(seq int, rtt time.Duration, err error) {
		if err != nil || rtt == 0 {
			lost++
			fmt.Fprintf(std.Out, "seq %d: no answer\n", seq)
			return
		}
		fmt.Fprintf(std.Out, "seq %d: %v\n", seq, rtt.Round(10*time.Microsecond))
	})
	if err != nil {
		return failf(std.Err, "%v", err)
	}
	fmt.Fprintf(std.Out, "%d sent, %d answered\n", count, count-lost)
	if lost == count {
		return 1
	}
	return 0
}

// resetter holds the factory reset's confirmation code: the first call
// shows one, the same code given within a minute confirms.
type resetter struct {
	mu   sync.Mutex
	code string
	at   time.Time
}

func (r *resetter) run(d Daemon, args []string, std cli.IO) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(args) == 1 && r.code != "" && args[0] == r.code && time.Since(r.at) < time.Minute {
		r.code = ""
		fmt.Fprintln(std.Out, "factory reset: erasing the configuration, users and data; the box restarts with a new setup code")
		if err := d.FactoryReset(); err != nil {
			return failf(std.Err, "factory reset: %v", err)
		}
		return 0
	}
	if len(args) > 1 {
		return failf(std.Err, "usage: factory-reset [CODE]")
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(9000))
	r.code, r.at = strconv.Itoa(1000+int(n.Int64())), time.Now()
	fmt.Fprintf(std.Out, "factory reset erases the configuration, the users, the call records, prompts and recordings.\nTo confirm within a minute: factory-reset %s\n", r.code)
	if len(args) == 1 {
		return 1 // a wrong or stale code
	}
	return 0
}
