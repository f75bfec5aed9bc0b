// Package ota is the daemon's side of updates: it finds which slot the box
// booted, streams bundles (flash's format) into the other slot, activates
// it for the next boot and marks the booted slot good once the box is
// healthy.
//
// On hardware the slots are the partitions of flash's layout for the board
// named on the kernel command line (callbox.board=, callbox.slot= set by
// the boot script), and the U-Boot environment sits on the boot medium.
// In simulation both slots are files in the data directory's ota/
// folder, next to an image file holding the redundant environment, and
// Open plays the bootloader: every start of the daemon (the console's
// restart, a reboot after an update) is a boot that runs the boot
// script's choice (flash.BootState.Choose) on that environment, so the
// box "restarts into" the other slot's version and falls back when a slot
// is not marked good in time, exactly as the hardware does.
//
// What each slot holds is recorded as its manifest in the data directory
// (ota/slot-A.json), written only after a verified install.
package ota

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"callbox/firmware/internal/atomicfile"
	"callbox/flash"
)

// BuildKey is the update public key compiled in: the base64 of a key file
// (PEM, or the raw key in base64), set with
// -ldflags "-X callbox/firmware/ota.BuildKey=...". Empty means the box
// takes no update unless a key file is configured (Config.KeyFile).
var BuildKey string

// SimBoard is the board name of the simulated box; bundles for it list
// "sim" among their compatible boards.
const SimBoard = "sim"

// MaxBundle bounds what an upload may send: two slots' worth of images
// and the header.
const MaxBundle = 1 << 30

// ErrBusy means another install is under way.
var ErrBusy = errors.New("ota: an update is already being installed")

// Config is what the daemon decides.
type Config struct {
	// DataDir holds ota/ (slot manifests; in simulation the slots too).
	DataDir string
	// Sim selects the simulated slots (the simulated board on a machine
	// not booted from a slot).
	Sim bool
	// Board is the layout's board name on hardware; empty takes
	// callbox.board= from the kernel command line.
	Board string
	// Slot is the booted slot on hardware; empty takes callbox.slot= from
	// the kernel command line.
	Slot string
	// Disk overrides the layout's boot medium (tests: an image file).
	Disk string
	// Running is the firmware's version (version.Version).
	Running string
	// Floor is the oldest version this box may install; empty: none. A
	// higher floor stored with SetFloor takes precedence.
	Floor string
	// KeyFile, when set, holds the public key (PEM or base64), instead of
	// BuildKey.
	KeyFile string
	// Log receives what happens; nil discards.
	Log *slog.Logger
}

// SlotInfo is one slot as the installer sees it.
type SlotInfo struct {
	Name    string `json:"name"`
	Booted  bool   `json:"booted"`
	Version string `json:"version,omitempty"` // from its manifest; "" when unknown
	// State: "good" (all attempts), "trying" (attempts counting down),
	// "bad" (no attempts: failed, being written, or installed and not yet
	// activated), "installed" (verified, waiting for Apply), "empty"
	// (nothing installed yet).
	State     string    `json:"state"`
	Left      int       `json:"attempts_left"`
	Installed time.Time `json:"installed,omitzero"`
	Device    string    `json:"device,omitempty"`
}

// Status is the update state shown by the console, callboxctl and the web.
type Status struct {
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"` // why not available
	Board     string `json:"board"`
	Sim       bool   `json:"simulated"`
	Booted    string `json:"booted"`
	Version   string `json:"version"` // of the booted slot
	// Build is the running binary's own version (Config.Running): the
	// same as Version on hardware; in simulation the slots carry the
	// versions of their bundles while the binary stays the one built.
	Build string `json:"build"`
	// Floor is the oldest version the box installs (the higher of
	// --ota-floor and the stored setting); FloorSetting the stored one.
	Floor        string `json:"floor,omitempty"`
	FloorSetting string `json:"floor_setting,omitempty"`
	// Check is the last check of the update URL.
	Check CheckResult `json:"check"`
	Order []string    `json:"boot_order"`
	Slots []SlotInfo  `json:"slots"`
	// Pending is the verified install waiting for Apply, if any.
	Pending *flash.Manifest `json:"pending,omitempty"`
	// Installing and Done/Total show an install in progress.
	Installing bool   `json:"installing"`
	Done       int64  `json:"done"`
	Total      int64  `json:"total"`
	LastError  string `json:"last_error,omitempty"`
	MarkedGood bool   `json:"marked_good"`
}

// slotRecord is what ota/slot-X.json holds.
type slotRecord struct {
	Manifest  flash.Manifest `json:"manifest"`
	Installed time.Time      `json:"installed"`
	Factory   bool           `json:"factory,omitempty"`
}

// Updater is the box's update state. Its methods are safe for concurrent
// use; one install runs at a time.
type Updater struct {
	cfg    Config
	log    *slog.Logger
	key    ed25519.PublicKey
	board  string
	booted string
	env    flash.EnvStore
	files  func(slot, image string) (string, int64, error)
	dir    string
	reason string // not available: why

	installing atomic.Bool
	done       atomic.Int64
	total      atomic.Int64

	mu         sync.Mutex
	pending    *flash.Manifest
	lastErr    string
	markedGood bool
	floor      string      // stored with SetFloor
	check      CheckResult // the last Check
}

// Open finds the booted slot (in simulation: boots, choosing the slot as
// the boot script would) and returns the updater. A box where updates
// cannot work (no slot on the command line, no key) still opens: Status
// says why and Install refuses.
func Open(cfg Config) (*Updater, error) {
	u := &Updater{cfg: cfg, log: cfg.Log, dir: filepath.Join(cfg.DataDir, "ota")}
	if u.log == nil {
		u.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(u.dir, 0o750); err != nil {
		return nil, fmt.Errorf("ota: %w", err)
	}
	var err error
	if u.key, err = loadKey(cfg); err != nil {
		return nil, err
	}
	if cfg.Sim {
		err = u.openSim()
	} else {
		err = u.openDevice()
	}
	if err != nil {
		return nil, err
	}
	if u.reason == "" && u.key == nil {
		u.reason = "no update key in this firmware (build with OTA_PUBKEY, or start with --ota-key)"
	}
	s, err := u.readSettings()
	if err != nil {
		// A damaged settings file must not stop the box; the floor
		// given at start still holds.
		u.log.Error("update settings unreadable; the stored version floor is ignored", "err", err)
	}
	u.floor = s.Floor
	return u, nil
}

func loadKey(cfg Config) (ed25519.PublicKey, error) {
	var data []byte
	switch {
	case cfg.KeyFile != "":
		b, err := os.ReadFile(cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("ota: key: %w", err)
		}
		data = b
	case BuildKey != "":
		b, err := base64.StdEncoding.DecodeString(BuildKey)
		if err != nil {
			return nil, fmt.Errorf("ota: compiled-in key: %w", err)
		}
		data = b
	default:
		return nil, nil
	}
	k, err := flash.ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("ota: %w", err)
	}
	return k, nil
}

// simEnvSize is the simulated environment's copy size (as the layouts').
const simEnvSize = 16 << 10

func (u *Updater) openSim() error {
	u.board = SimBoard
	u.env = flash.EnvStore{Path: filepath.Join(u.dir, "uboot-env.img"), Offsets: []int64{0, simEnvSize}, Size: simEnvSize}
	u.files = func(slot, image string) (string, int64, error) {
		if image != "rootfs" {
			return "", 0, fmt.Errorf("the simulated box has no %q partition", image)
		}
		return filepath.Join(u.dir, "slot-"+slot+".img"), 0, nil
	}
	if _, err := os.Stat(u.env.Path); errors.Is(err, os.ErrNotExist) {
		// A new simulated box: slot A holds this firmware.
		env := flash.Env{"bootdelay": "0"}
		flash.DefaultBootState().Apply(env)
		if err := u.env.Create(env); err != nil {
			return fmt.Errorf("ota: %w", err)
		}
		if err := os.WriteFile(filepath.Join(u.dir, "slot-A.img"), []byte("callbox factory image\n"), 0o644); err != nil {
			return fmt.Errorf("ota: %w", err)
		}
		v := u.cfg.Running
		if _, err := flash.ParseVersion(v); err != nil {
			v = "0.0.0"
		}
		rec := slotRecord{Manifest: flash.Manifest{Format: 1, Version: v, Compatible: []string{SimBoard}, Notes: "factory"},
			Installed: time.Now().UTC(), Factory: true}
		if err := u.writeRecord("A", &rec); err != nil {
			return err
		}
	}
	// The simulated bootloader: the boot script's choice, saved as the
	// script saves it.
	var slot string
	if err := u.env.UpdateBoot(func(s *flash.BootState) { slot = s.Choose() }); err != nil {
		return fmt.Errorf("ota: simulated boot: %w", err)
	}
	if slot == "" {
		// The script resets the board with every count restored; so do we.
		if err := u.env.UpdateBoot(func(s *flash.BootState) { slot = s.Choose() }); err != nil {
			return fmt.Errorf("ota: simulated boot: %w", err)
		}
	}
	u.booted = slot
	u.log.Info("simulated boot", "slot", slot, "version", u.slotVersion(slot))
	return nil
}

// Cmdline returns the board and slot the boot script put on the kernel
// command line (callbox.board=, callbox.slot=); both "" when it did not.
func Cmdline() (board, slot string) {
	cmdline, _ := os.ReadFile("/proc/cmdline")
	for f := range strings.FieldsSeq(string(cmdline)) {
		if v, ok := strings.CutPrefix(f, "callbox.board="); ok {
			board = v
		}
		if v, ok := strings.CutPrefix(f, "callbox.slot="); ok {
			slot = v
		}
	}
	return board, slot
}

func (u *Updater) openDevice() error {
	board, slot := Cmdline()
	if u.cfg.Board != "" {
		board = u.cfg.Board
	}
	if u.cfg.Slot != "" {
		slot = u.cfg.Slot
	}
	u.board = board
	if board == "" || !flash.ValidSlot(slot) {
		u.reason = "not booted from an A/B slot (no callbox.board= and callbox.slot= on the kernel command line)"
		return nil
	}
	l, err := flash.LayoutFor(board)
	if err != nil {
		u.reason = err.Error()
		return nil
	}
	if u.cfg.Disk != "" {
		l.Disk = u.cfg.Disk
	}
	u.booted = slot
	u.env = l.EnvStore(l.Disk)
	u.files = func(s, image string) (string, int64, error) {
		p, err := l.SlotPartition(s, image)
		if err != nil {
			return "", 0, err
		}
		return l.Device(p), p.Size, nil
	}
	if _, err := u.readRecord(slot); errors.Is(err, os.ErrNotExist) {
		v := u.cfg.Running
		if _, err := flash.ParseVersion(v); err != nil {
			v = "0.0.0"
		}
		rec := slotRecord{Manifest: flash.Manifest{Format: 1, Version: v, Compatible: []string{board}, Notes: "as flashed"},
			Installed: time.Now().UTC(), Factory: true}
		if err := u.writeRecord(slot, &rec); err != nil {
			return err
		}
	}
	u.log.Info("booted slot", "board", board, "slot", slot, "version", u.cfg.Running)
	return nil
}

func (u *Updater) recordPath(slot string) string {
	return filepath.Join(u.dir, "slot-"+slot+".json")
}

func (u *Updater) readRecord(slot string) (slotRecord, error) {
	b, err := os.ReadFile(u.recordPath(slot))
	if err != nil {
		return slotRecord{}, err
	}
	var r slotRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return slotRecord{}, fmt.Errorf("ota: %s: %w", u.recordPath(slot), err)
	}
	return r, nil
}

// writeRecord replaces the slot's record atomically; nil removes it.
func (u *Updater) writeRecord(slot string, r *slotRecord) error {
	path := u.recordPath(slot)
	if r == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("ota: %w", err)
		}
		return nil
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("ota: %w", err)
	}
	if err := atomicfile.Write(path, b, 0o640); err != nil {
		return fmt.Errorf("ota: slot %s record: %w", slot, err)
	}
	return nil
}

func (u *Updater) slotVersion(slot string) string {
	r, err := u.readRecord(slot)
	if err != nil {
		return ""
	}
	return r.Manifest.Version
}

// Simulated reports whether the slots are files in the data directory.
func (u *Updater) Simulated() bool { return u.cfg.Sim }

// Booted returns the booted slot ("" when not booted from a slot).
func (u *Updater) Booted() string { return u.booted }

// Version returns the booted slot's version: in simulation the version
// its bundle carried, on hardware the firmware's own.
func (u *Updater) Version() string {
	if u.cfg.Sim {
		if v := u.slotVersion(u.booted); v != "" {
			return v
		}
	}
	return u.cfg.Running
}

// Status returns the update state.
func (u *Updater) Status() Status {
	st := Status{Available: u.reason == "", Reason: u.reason, Board: u.board, Sim: u.cfg.Sim,
		Booted: u.booted, Version: u.Version(), Build: u.cfg.Running, Installing: u.installing.Load(),
		Done: u.done.Load(), Total: u.total.Load()}
	st.Floor, st.FloorSetting = u.Floor()
	u.mu.Lock()
	st.Pending, st.LastError, st.MarkedGood, st.Check = u.pending, u.lastErr, u.markedGood, u.check
	u.mu.Unlock()
	if u.booted == "" {
		return st
	}
	boot, err := u.env.ReadBoot()
	if err != nil {
		st.LastError = err.Error()
		return st
	}
	st.Order = boot.Order
	for _, name := range flash.Slots {
		si := SlotInfo{Name: name, Booted: name == u.booted, Left: boot.Left[name]}
		if path, _, err := u.files(name, "rootfs"); err == nil {
			si.Device = path
		}
		r, err := u.readRecord(name)
		if err == nil {
			si.Version, si.Installed = r.Manifest.Version, r.Installed
		}
		switch {
		case err != nil && !si.Booted && boot.Left[name] > 0:
			si.State = "empty"
		case boot.Left[name] == flash.MaxAttempts:
			si.State = "good"
		case boot.Left[name] > 0:
			si.State = "trying"
		case st.Pending != nil && name != u.booted:
			si.State = "installed"
		default:
			si.State = "bad"
		}
		st.Slots = append(st.Slots, si)
	}
	return st
}

func (u *Updater) usable() error {
	if u.reason != "" {
		return fmt.Errorf("%w: %s", flash.ErrRefused, u.reason)
	}
	return nil
}

// Install streams a bundle from r (size bytes, or -1 when unknown) into
// the slot that is not booted and records its manifest; the slot is
// activated only by Apply. Errors wrap flash.ErrRefused (nothing written),
// flash.ErrDamaged (the slot is left marked bad) or ErrBusy.
func (u *Updater) Install(ctx context.Context, r io.Reader, size int64) (flash.Manifest, error) {
	if err := u.usable(); err != nil {
		return flash.Manifest{}, err
	}
	if !u.installing.CompareAndSwap(false, true) {
		return flash.Manifest{}, ErrBusy
	}
	defer u.installing.Store(false)
	target := flash.Other(u.booted)
	u.done.Store(0)
	u.total.Store(size)
	u.mu.Lock()
	u.pending, u.lastErr = nil, ""
	u.mu.Unlock()
	in := flash.Installer{
		Key:    u.key,
		Policy: u.policy(),
		Boot:   u.env,
		Files:  u.files,
		Progress: func(done, total int64) {
			u.done.Store(done)
			u.total.Store(total)
		},
		// What the slot held is gone from here on.
		Writing: func(flash.Header) error { return u.writeRecord(target, nil) },
	}
	start := time.Now()
	u.log.Info("update: installing", "slot", target)
	h, err := in.Install(ctxReader{ctx, r}, size, target)
	if err == nil {
		rec := slotRecord{Manifest: h.Manifest, Installed: time.Now().UTC()}
		err = u.writeRecord(target, &rec)
	}
	if err != nil {
		u.mu.Lock()
		u.lastErr = err.Error()
		u.mu.Unlock()
		u.log.Error("update: install failed", "slot", target, "err", err)
		return h.Manifest, err
	}
	m := h.Manifest
	u.mu.Lock()
	u.pending = &m
	u.mu.Unlock()
	u.log.Info("update: installed", "slot", target, "version", m.Version, "bytes", h.BundleSize(), "took", time.Since(start).Round(time.Millisecond))
	return m, nil
}

// ctxReader ends a read loop when ctx ends (a client that hangs up).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Pending returns the verified install waiting for Apply, or nil.
func (u *Updater) Pending() *flash.Manifest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.pending
}

// Apply activates the installed slot: the next boot tries it, and falls
// back to the booted one if it does not come up healthy. The caller then
// reboots.
func (u *Updater) Apply() (flash.Manifest, error) {
	if err := u.usable(); err != nil {
		return flash.Manifest{}, err
	}
	u.mu.Lock()
	p := u.pending
	u.mu.Unlock()
	if p == nil || u.installing.Load() {
		return flash.Manifest{}, errors.New("ota: no installed update to apply")
	}
	target := flash.Other(u.booted)
	if err := flash.Activate(u.env, target); err != nil {
		return flash.Manifest{}, fmt.Errorf("ota: %w", err)
	}
	u.log.Warn("update: activated; the next boot tries it", "slot", target, "version", p.Version)
	return *p, nil
}

// MarkGood tells the bootloader that the booted slot is healthy. The
// daemon calls it once the store is open and SIP and the web answer.
func (u *Updater) MarkGood() error {
	if u.booted == "" {
		return nil
	}
	if err := flash.MarkGood(u.env, u.booted); err != nil {
		return fmt.Errorf("ota: %w", err)
	}
	u.mu.Lock()
	u.markedGood = true
	u.mu.Unlock()
	u.log.Info("slot marked good", "slot", u.booted, "version", u.Version())
	return nil
}

// InstallFrom installs from a file path or an http(s) URL.
func (u *Updater) InstallFrom(ctx context.Context, src string) (flash.Manifest, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return flash.Manifest{}, fmt.Errorf("ota: %w", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return flash.Manifest{}, fmt.Errorf("ota: download: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return flash.Manifest{}, fmt.Errorf("ota: download %s: %s", src, resp.Status)
		}
		size := resp.ContentLength
		if size > MaxBundle {
			return flash.Manifest{}, fmt.Errorf("%w: %d bytes, more than %d", flash.ErrRefused, size, MaxBundle)
		}
		return u.Install(ctx, resp.Body, size)
	}
	f, err := os.Open(src)
	if err != nil {
		return flash.Manifest{}, fmt.Errorf("ota: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return flash.Manifest{}, fmt.Errorf("ota: %w", err)
	}
	size := int64(-1)
	if st.Mode().IsRegular() {
		size = st.Size()
	}
	return u.Install(ctx, f, size)
}
