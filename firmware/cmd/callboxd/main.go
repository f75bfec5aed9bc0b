// Command callboxd is the callbox daemon: the whole box in one process.
// It only parses flags and hands them to firmware/app.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"callbox/firmware/app"
	"callbox/firmware/logbuf"
	"callbox/firmware/version"
)

func main() {
	var (
		cfg        app.Config
		level      slog.Level
		at         string
		showVer    bool
		flags      = flag.NewFlagSet("callboxd", flag.ExitOnError)
		defaultFor = func(sim, hw string) string {
			if at == "sim" {
				return sim
			}
			return hw
		}
	)
	flags.StringVar(&cfg.DataDir, "data", "", "data directory for the store and media files (default ./var in sim, /var/lib/callbox on hardware)")
	flags.StringVar(&at, "board", "sim", `board: "sim" or a board description JSON file`)
	flags.StringVar(&cfg.HTTPAddr, "http", "", "web admin listen address (default 127.0.0.1:8080 in sim, :80 on hardware, where it redirects to HTTPS)")
	flags.StringVar(&cfg.HTTPSAddr, "https", "", `web admin HTTPS listen address, or "none" (default 127.0.0.1:8443 in sim, :443 on hardware)`)
	flags.StringVar(&cfg.EventStreamAddr, "event-stream", "", "TCP event stream listen address (JSON lines after an API token with events:read); empty: off")
	flags.StringVar(&cfg.SIPAddr, "sip", "", "SIP listen address (default 127.0.0.1:5060 in sim, :5060 on hardware)")
	flags.Func("rtp-ports", "RTP port range for SIP calls, MIN-MAX (default 10000-19999)", func(v string) error {
		_, err := fmt.Sscanf(v, "%d-%d", &cfg.RTPMin, &cfg.RTPMax)
		if err == nil && (cfg.RTPMin < 1024 || cfg.RTPMax > 65535 || cfg.RTPMax < cfg.RTPMin+1) {
			err = fmt.Errorf("want MIN-MAX within 1024-65535")
		}
		return err
	})
	flags.StringVar(&cfg.Console, "console", "", `serial console: "pty", a UART device, or "none" (default pty in sim, /dev/ttyS0 on hardware)`)
	flags.TextVar(&level, "log-level", slog.LevelInfo, "log level: debug, info, warn or error")
	flags.BoolVar(&cfg.NoWatchdog, "no-watchdog", false, "do not pet /dev/watchdog")
	flags.StringVar(&cfg.SystemPrompts, "prompts", "", "directory of the system prompts, as callboxctl prompts generate makes them (default DATA/prompts/system in sim, /usr/share/callbox/prompts on hardware)")
	flags.StringVar(&cfg.Import, "import", "", "load this configuration file (JSON, as callboxctl config export writes: the PBX part, the call centre's under \"call_centre\", or both) into the store at boot")
	flags.StringVar(&cfg.OTAKey, "ota-key", "", "update public key file (PEM or base64) instead of the compiled-in one")
	flags.StringVar(&cfg.OTABoard, "ota-board", "", "flash layout of this board for updates (default: callbox.board= on the kernel command line)")
	flags.StringVar(&cfg.OTAFloor, "ota-floor", "", "refuse update bundles older than this version")
	flags.BoolVar(&showVer, "version", false, "print the version and exit")
	_ = flags.Parse(os.Args[1:])
	if showVer {
		fmt.Println(version.String("callboxd"))
		return
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "callboxd: unexpected argument %q\n", flags.Arg(0))
		os.Exit(2)
	}
	cfg.Board = at
	cfg.DataDir = first(cfg.DataDir, defaultFor("./var", "/var/lib/callbox"))
	cfg.HTTPAddr = first(cfg.HTTPAddr, defaultFor("127.0.0.1:8080", ":80"))
	cfg.HTTPSAddr = first(cfg.HTTPSAddr, defaultFor("127.0.0.1:8443", ":443"))
	if cfg.HTTPSAddr == "none" {
		cfg.HTTPSAddr = ""
	}
	cfg.SIPAddr = first(cfg.SIPAddr, defaultFor("127.0.0.1:5060", ":5060"))
	cfg.Console = first(cfg.Console, defaultFor("pty", "/dev/ttyS0"))
	cfg.SystemPrompts = first(cfg.SystemPrompts, defaultFor("", "/usr/share/callbox/prompts"))
	cfg.Out = os.Stdout

	logs := logbuf.New(1000)
	log := slog.New(logbuf.NewTee(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}), logs, level))
	slog.SetDefault(log)

	a, err := app.New(cfg, log, logs)
	if err == nil {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err = a.Run(ctx)
		stop()
	}
	if err != nil {
		log.Error("callboxd failed", "err", err)
		os.Exit(1)
	}
}

func first(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
