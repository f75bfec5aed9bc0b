// Package otacli implements the update commands:
//
//	callboxctl update [--data DIR | --socket PATH] status
//	callboxctl update [--data DIR | --socket PATH] [--no-reboot] FILE|URL
//	callboxctl update [--data DIR | --socket PATH] apply
//	callboxctl update [--data DIR | --socket PATH] check [URL]
//	callboxctl update [--data DIR | --socket PATH] [--no-reboot] fetch
//	callboxctl update [--data DIR | --socket PATH] schedule [off | URL [HOURS]]
//	callboxctl update [--data DIR | --socket PATH] floor [VERSION | none]
//	callboxctl bundle keygen PREFIX
//	callboxctl bundle create --key KEY --version V --compatible B1,B2 [--min-version V] [--notes TEXT] -o OUT rootfs=IMAGE
//	callboxctl bundle verify --key PUB FILE
//
// update runs in the daemon, through its control socket; the daemon serves
// the same command (Live) on the serial console. bundle runs locally: it
// makes keys and signed bundles (flash's format) and checks them.
package otacli

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"callbox/firmware/cli"
	"callbox/firmware/control"
	"callbox/firmware/ota"
	"callbox/flash"
)

const updateUsage = `usage: update [--data DIR | --socket PATH] status
       update [--data DIR | --socket PATH] [--no-reboot] FILE|URL
       update [--data DIR | --socket PATH] apply
       update [--data DIR | --socket PATH] check [URL]
       update [--data DIR | --socket PATH] [--no-reboot] fetch
       update [--data DIR | --socket PATH] schedule [off | URL [HOURS]]
       update [--data DIR | --socket PATH] floor [VERSION | none]
status shows the slots, their versions and the boot order. FILE|URL
installs a signed bundle into the slot that is not running, then activates
it and reboots into it (unless --no-reboot; then "update apply" does).
The new slot is marked good once it runs healthy; if it does not come up
the box falls back to the running one by itself.
check reads only the signed header of the bundle at URL (default: the
scheduled check's) and says whether it is an update for this box; fetch
installs what the last check found, as FILE|URL does. schedule turns the
check of URL every HOURS (default 24) on or off; nothing is installed
without fetch. floor refuses bundles older than VERSION from now on.
`

// Update is callboxctl's update: it runs the daemon's update command over
// the control socket.
var Update = cli.Command{Name: "update", Summary: "install a signed update bundle (FILE|URL), apply it, show the slots (through the daemon)", Run: runUpdate}

func runUpdate(ctx context.Context, args []string, std cli.IO) int {
	fs := flag.NewFlagSet("update", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	fs.Usage = func() { fmt.Fprint(std.Err, updateUsage) }
	dataDir := fs.String("data", "./var", "the daemon's data directory (its control socket)")
	socket := fs.String("socket", "", "the daemon's control socket (overrides --data)")
	noReboot := fs.Bool("no-reboot", false, "install and stop there")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	path := *socket
	if path == "" {
		path = control.Path(*dataDir)
	}
	fwd := []string{"update"}
	if *noReboot {
		fwd = append(fwd, "--no-reboot")
	}
	if fs.NArg() < 1 {
		fmt.Fprint(std.Err, updateUsage)
		return 2
	}
	src := fs.Arg(0)
	if fs.NArg() == 1 && !daemonVerbs[src] && !isURL(src) {
		// The daemon opens the file itself: give it the full path.
		abs, err := filepath.Abs(src)
		if err != nil {
			fmt.Fprintf(std.Err, "callboxctl: update: %v\n", err)
			return 1
		}
		if _, err := os.Stat(abs); err != nil {
			fmt.Fprintf(std.Err, "callboxctl: update: %v\n", err)
			return 1
		}
		src = abs
	}
	code, err := control.Run(ctx, path, append(append(fwd, src), fs.Args()[1:]...), std)
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl: update: %v\n", err)
		return 1
	}
	return code
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// daemonVerbs are the update command's words that are not a bundle file.
var daemonVerbs = map[string]bool{"status": true, "apply": true, "check": true, "fetch": true, "schedule": true, "floor": true}

// Daemon is what the daemon's update command reaches.
type Daemon struct {
	// Updater returns the running updater, or nil while none runs.
	Updater func() *ota.Updater
	// Reboot restarts the box (in simulation, in process) into the
	// activated slot.
	Reboot func()
	// CheckSettings and SaveCheckSettings read and store the scheduled
	// check of an update URL (SaveCheckSettings validates and applies).
	CheckSettings     func() (ota.CheckSettings, error)
	SaveCheckSettings func(ota.CheckSettings) error
}

// Live is the update command the daemon serves on its control socket and
// serial console.
func Live(d Daemon) cli.Command {
	return cli.Command{Name: "update", Summary: "update status | [--no-reboot] FILE|URL | apply | check [URL] | fetch | schedule | floor: signed A/B updates",
		Run: func(ctx context.Context, args []string, std cli.IO) int { return runLive(ctx, d, args, std) }}
}

func runLive(ctx context.Context, d Daemon, args []string, std cli.IO) int {
	fs := flag.NewFlagSet("update", flag.ContinueOnError)
	fs.SetOutput(std.Err)
	fs.Usage = func() { fmt.Fprint(std.Err, updateUsage) }
	noReboot := fs.Bool("no-reboot", false, "install and stop there")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	u := d.Updater()
	if u == nil {
		fmt.Fprintln(std.Err, "update: the updater is not running")
		return 1
	}
	rest := fs.Args()
	if len(rest) > 1 && rest[0] != "check" && rest[0] != "schedule" && rest[0] != "floor" {
		fmt.Fprint(std.Err, updateUsage)
		return 2
	}
	switch arg := fs.Arg(0); arg {
	case "", "status":
		PrintStatus(std.Out, u.Status())
		return 0
	case "apply":
		return apply(u, d, std)
	case "check":
		return check(ctx, u, d, rest[1:], std)
	case "schedule":
		return schedule(d, rest[1:], std)
	case "floor":
		return floor(u, rest[1:], std)
	default:
		stop := progress(ctx, u, std.Out)
		var m flash.Manifest
		var err error
		if arg == "fetch" {
			m, err = u.InstallChecked(ctx)
		} else {
			m, err = u.InstallFrom(ctx, arg)
		}
		stop()
		if err != nil {
			fmt.Fprintf(std.Err, "update: %v\n", err)
			if errors.Is(err, flash.ErrRefused) {
				fmt.Fprintln(std.Err, "update: nothing was written; the box runs on as it was")
			} else {
				fmt.Fprintf(std.Err, "update: slot %s is marked bad; the box runs on slot %s as it was\n", flash.Other(u.Booted()), u.Booted())
			}
			return 1
		}
		fmt.Fprintf(std.Out, "update: installed into slot %s:\n", flash.Other(u.Booted()))
		PrintManifest(std.Out, m)
		if *noReboot {
			fmt.Fprintln(std.Out, `update: "update apply" activates it and reboots`)
			return 0
		}
		return apply(u, d, std)
	}
}

func check(ctx context.Context, u *ota.Updater, d Daemon, args []string, std cli.IO) int {
	if len(args) > 1 {
		fmt.Fprint(std.Err, updateUsage)
		return 2
	}
	url := ""
	if len(args) == 1 {
		url = args[0]
	} else if d.CheckSettings != nil {
		s, err := d.CheckSettings()
		if err != nil {
			fmt.Fprintf(std.Err, "update: %v\n", err)
			return 1
		}
		url = s.URL
	}
	if url == "" {
		fmt.Fprintln(std.Err, "update: no update URL: update check URL, or set one with update schedule URL")
		return 1
	}
	r := u.Check(ctx, url)
	fmt.Fprintln(std.Out, "update: "+r.String())
	if r.Manifest != nil {
		PrintManifest(std.Out, *r.Manifest)
	}
	if r.Available {
		fmt.Fprintln(std.Out, `update: "update fetch" downloads and installs it`)
	}
	if r.Err != "" {
		return 1
	}
	return 0
}

func schedule(d Daemon, args []string, std cli.IO) int {
	if d.CheckSettings == nil || d.SaveCheckSettings == nil {
		fmt.Fprintln(std.Err, "update: the scheduled check is not available")
		return 1
	}
	s, err := d.CheckSettings()
	if err != nil {
		fmt.Fprintf(std.Err, "update: %v\n", err)
		return 1
	}
	switch {
	case len(args) == 0:
		printSchedule(std.Out, s)
		return 0
	case len(args) == 1 && args[0] == "off":
		s.Enabled = false
	case len(args) <= 2:
		s.Enabled, s.URL = true, args[0]
		if len(args) == 2 {
			h, err := strconv.Atoi(args[1])
			if err != nil {
				fmt.Fprintf(std.Err, "update: HOURS: %q is not a number\n", args[1])
				return 2
			}
			s.IntervalHours = h
		}
	default:
		fmt.Fprint(std.Err, updateUsage)
		return 2
	}
	if err := d.SaveCheckSettings(s); err != nil {
		fmt.Fprintf(std.Err, "update: refused, nothing changed: %v\n", err)
		return 1
	}
	printSchedule(std.Out, s)
	return 0
}

func printSchedule(w io.Writer, s ota.CheckSettings) {
	switch {
	case !s.Enabled && s.URL == "":
		fmt.Fprintln(w, "update check: off")
		return
	case !s.Enabled:
		fmt.Fprintf(w, "update check: off (%s)\n", s.URL)
		return
	}
	fmt.Fprintf(w, "update check: %s every %d hours; installs only with update fetch\n", s.URL, s.IntervalHours)
}

func floor(u *ota.Updater, args []string, std cli.IO) int {
	switch {
	case len(args) == 1:
		v := args[0]
		if v == "none" {
			v = ""
		}
		if err := u.SetFloor(v); err != nil {
			fmt.Fprintf(std.Err, "update: refused, nothing changed: %v\n", err)
			return 1
		}
	case len(args) > 1:
		fmt.Fprint(std.Err, updateUsage)
		return 2
	}
	eff, stored := u.Floor()
	switch {
	case eff == "":
		fmt.Fprintln(std.Out, "version floor: none (any version this box's key signed installs)")
	case eff != stored:
		fmt.Fprintf(std.Out, "version floor: %s (given at start with --ota-floor; the setting is %q)\n", eff, stored)
	default:
		fmt.Fprintf(std.Out, "version floor: %s (older bundles are refused)\n", eff)
	}
	return 0
}

func apply(u *ota.Updater, d Daemon, std cli.IO) int {
	m, err := u.Apply()
	if err != nil {
		fmt.Fprintf(std.Err, "update: %v\n", err)
		return 1
	}
	fmt.Fprintf(std.Out, "update: slot %s (%s) activated; rebooting into it\n", flash.Other(u.Booted()), m.Version)
	d.Reboot()
	return 0
}

// progress prints the install's progress every 10% until stop is called.
func progress(ctx context.Context, u *ota.Updater, w io.Writer) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		last := -1
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			st := u.Status()
			if !st.Installing || st.Total <= 0 {
				continue
			}
			if pct := int(st.Done * 100 / st.Total); pct/10 > last/10 {
				last = pct
				fmt.Fprintf(w, "update: %d%% (%d of %d bytes)\n", pct, st.Done, st.Total)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// PrintStatus writes the slots as the console and callboxctl show them.
func PrintStatus(w io.Writer, st ota.Status) {
	if !st.Available {
		fmt.Fprintf(w, "updates: not available: %s\n", st.Reason)
	}
	if st.Booted == "" {
		return
	}
	sim := ""
	if st.Sim {
		sim = " (simulated slots)"
	}
	fmt.Fprintf(w, "board %s%s: running slot %s, version %s; boot order %s\n", st.Board, sim, st.Booted, st.Version, strings.Join(st.Order, " "))
	if st.Build != st.Version {
		fmt.Fprintf(w, "build: %s (the binary's own version; slot %s runs the version its bundle carried)\n", st.Build, st.Booted)
	}
	if st.Floor != "" {
		fmt.Fprintf(w, "version floor: %s\n", st.Floor)
	}
	if !st.Check.At.IsZero() {
		fmt.Fprintf(w, "update check: %s\n", st.Check)
	}
	for _, s := range st.Slots {
		mark := " "
		if s.Booted {
			mark = "*"
		}
		v := s.Version
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(w, "%s slot %s  %-12s %-9s attempts left %d  %s\n", mark, s.Name, v, s.State, s.Left, s.Device)
	}
	if st.Installing {
		fmt.Fprintf(w, "installing: %d of %d bytes\n", st.Done, st.Total)
	}
	if st.Pending != nil {
		fmt.Fprintf(w, "installed, waiting for apply: %s\n", st.Pending.Version)
	}
	if st.LastError != "" {
		fmt.Fprintf(w, "last error: %s\n", st.LastError)
	}
}

// PrintManifest writes a manifest for a person.
func PrintManifest(w io.Writer, m flash.Manifest) {
	fmt.Fprintf(w, "  version     %s\n", m.Version)
	if m.MinVersion != "" {
		fmt.Fprintf(w, "  min version %s\n", m.MinVersion)
	}
	fmt.Fprintf(w, "  boards      %s\n", strings.Join(m.Compatible, ", "))
	if !m.Created.IsZero() {
		fmt.Fprintf(w, "  created     %s\n", m.Created.Format(time.RFC3339))
	}
	for _, im := range m.Images {
		fmt.Fprintf(w, "  image       %s, %d bytes, sha256 %s\n", im.Name, im.Size, im.SHA256)
	}
	if m.Notes != "" {
		fmt.Fprintf(w, "  notes       %s\n", m.Notes)
	}
}

const bundleUsage = `usage: bundle keygen PREFIX
       bundle create --key KEY --version V --compatible BOARD[,BOARD] [--min-version V] [--notes TEXT] -o OUT NAME=IMAGE...
       bundle verify --key PUB [--json] FILE
keygen writes an ed25519 signing key PREFIX.key (mode 0600) and its public
half PREFIX.pub (PEM; openssl makes compatible ones). create signs a bundle
of the images (NAME is the slot partition, "rootfs"); verify checks the
signature and every image's hash and prints the manifest.
`

// Bundle is callboxctl's bundle: keys and signed bundles, locally.
var Bundle = cli.Command{Name: "bundle", Summary: "update bundles: keygen PREFIX, create ... -o OUT rootfs=IMAGE, verify --key PUB FILE", Run: runBundle}

func runBundle(ctx context.Context, args []string, std cli.IO) int {
	if len(args) == 0 {
		fmt.Fprint(std.Err, bundleUsage)
		return 2
	}
	fs := flag.NewFlagSet("bundle "+args[0], flag.ContinueOnError)
	fs.SetOutput(std.Err)
	fs.Usage = func() { fmt.Fprint(std.Err, bundleUsage) }
	key := fs.String("key", "", "signing key (create) or public key (verify), PEM")
	ver := fs.String("version", "", "the bundle's version")
	minVer := fs.String("min-version", "", "the oldest running version allowed to install it")
	compat := fs.String("compatible", "", "boards it is for, comma-separated (sim, qemu-armv7, rpi4-callbox)")
	notes := fs.String("notes", "", "release notes shown before it is applied")
	out := fs.String("o", "", "the bundle file to write")
	asJSON := fs.Bool("json", false, "verify: print the manifest as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(std.Err, "callboxctl: bundle %s: %v\n", args[0], err)
		return 1
	}
	switch {
	case args[0] == "keygen" && fs.NArg() == 1:
		if err := keygen(fs.Arg(0)); err != nil {
			return fail(err)
		}
		fmt.Fprintf(std.Out, "bundle: wrote %s.key (keep it secret) and %s.pub\n", fs.Arg(0), fs.Arg(0))
		return 0
	case args[0] == "create" && fs.NArg() > 0 && *key != "" && *out != "":
		m := flash.Manifest{Version: *ver, MinVersion: *minVer, Notes: *notes, Created: time.Now().UTC().Truncate(time.Second)}
		for b := range strings.SplitSeq(*compat, ",") {
			if b = strings.TrimSpace(b); b != "" {
				m.Compatible = append(m.Compatible, b)
			}
		}
		m, err := create(*key, *out, m, fs.Args())
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(std.Out, "bundle: wrote %s\n", *out)
		PrintManifest(std.Out, m)
		return 0
	case args[0] == "verify" && fs.NArg() == 1 && *key != "":
		h, err := verify(*key, fs.Arg(0))
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			b, _ := json.MarshalIndent(h.Manifest, "", "  ")
			fmt.Fprintf(std.Out, "%s\n", b)
			return 0
		}
		fmt.Fprintf(std.Out, "bundle: %s: signature and images verified (%d bytes)\n", fs.Arg(0), h.BundleSize())
		PrintManifest(std.Out, h.Manifest)
		return 0
	}
	fmt.Fprint(std.Err, bundleUsage)
	return 2
}

func keygen(prefix string) error {
	priv, pub, err := flash.GenerateKey()
	if err != nil {
		return err
	}
	if _, err := os.Stat(prefix + ".key"); err == nil {
		return fmt.Errorf("%s.key exists; not overwriting a key", prefix)
	}
	if err := os.WriteFile(prefix+".key", priv, 0o600); err != nil {
		return err
	}
	return os.WriteFile(prefix+".pub", pub, 0o644)
}

func create(keyPath, out string, m flash.Manifest, images []string) (flash.Manifest, error) {
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return m, err
	}
	key, err := flash.ParsePrivateKey(kb)
	if err != nil {
		return m, err
	}
	var srcs []flash.ImageSource
	for _, arg := range images {
		name, path, ok := strings.Cut(arg, "=")
		if !ok {
			return m, fmt.Errorf("image %q: want NAME=FILE", arg)
		}
		srcs = append(srcs, flash.ImageSource{Name: name, Open: func() (io.ReadCloser, error) { return os.Open(path) }})
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return m, err
	}
	defer os.Remove(tmp.Name())
	m, err = flash.WriteBundle(tmp, key, m, srcs)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	return m, err
}

func verify(keyPath, file string) (flash.Header, error) {
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return flash.Header{}, err
	}
	key, err := flash.ParsePublicKey(kb)
	if err != nil {
		return flash.Header{}, err
	}
	if len(key) != ed25519.PublicKeySize {
		return flash.Header{}, errors.New("not an ed25519 public key")
	}
	f, err := os.Open(file)
	if err != nil {
		return flash.Header{}, err
	}
	defer f.Close()
	return flash.Verify(f, key)
}
