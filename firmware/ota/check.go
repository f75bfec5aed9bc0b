package ota

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"callbox/firmware/internal/atomicfile"
	"callbox/flash"
)

// CheckSettings is the optional check of an update URL on a schedule: the
// box fetches only the bundle's signed header, says when it offers a
// version newer than the running one, and installs it only when an
// administrator asks.
type CheckSettings struct {
	Enabled bool `json:"enabled"`
	// URL is the bundle's address (http or https), typically a "latest"
	// link the vendor keeps pointing at the newest bundle.
	URL           string `json:"url"`
	IntervalHours int    `json:"interval_hours"`
}

// Bounds of the check interval.
const (
	DefaultCheckHours = 24
	MaxCheckHours     = 30 * 24
)

// DefaultCheckSettings is a new box's: off (a box must not reach out to
// servers nobody chose), once a day when turned on.
func DefaultCheckSettings() CheckSettings { return CheckSettings{IntervalHours: DefaultCheckHours} }

// SettingError names the update setting that was refused and why, with a
// reason code ("ota.CODE") the web admin words in the user's language.
type SettingError struct {
	Field  string
	Code   string
	Args   []any
	Reason string
}

func (e *SettingError) Error() string { return "ota: " + e.Field + ": " + e.Reason }

// JSONField names the field for the web admin.
func (e *SettingError) JSONField() string { return e.Field }

// ReasonCode is the catalogues' key (reason.ota.CODE) and its values.
func (e *SettingError) ReasonCode() (string, []any) { return "ota." + e.Code, e.Args }

func badSetting(field, code string, args []any, format string) error {
	return &SettingError{Field: field, Code: code, Args: args, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks the settings; the error is a *SettingError.
func (s CheckSettings) Validate() error {
	if s.IntervalHours < 1 || s.IntervalHours > MaxCheckHours {
		return badSetting("interval_hours", "interval", []any{MaxCheckHours}, "want 1 to %d hours")
	}
	if s.URL == "" {
		if s.Enabled {
			return badSetting("url", "url.missing", nil, "give the address of the update bundle")
		}
		return nil
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(s.URL) > 2048 {
		return badSetting("url", "url.format", []any{s.URL}, "%q: want an http:// or https:// address")
	}
	return nil
}

// CheckResult is what the last check of the update URL found.
type CheckResult struct {
	URL string    `json:"url,omitempty"`
	At  time.Time `json:"at,omitzero"`
	// Manifest is the verified manifest of the bundle at URL; nil when
	// the check failed.
	Manifest *flash.Manifest `json:"manifest,omitempty"`
	// Available: the bundle is newer than the running version and this
	// box may install it.
	Available bool `json:"available"`
	// Refused says why a newer bundle may not be installed here (board,
	// version floor, min_version).
	Refused string `json:"refused,omitempty"`
	Err     string `json:"error,omitempty"`
}

// String is the console's line.
func (r CheckResult) String() string {
	at := r.At.Local().Format("2006-01-02 15:04")
	switch {
	case r.At.IsZero():
		return "not checked yet"
	case r.Err != "":
		return fmt.Sprintf("check of %s failed at %s: %s", r.URL, at, r.Err)
	case r.Available:
		return fmt.Sprintf("update available: version %s (checked %s)", r.Manifest.Version, at)
	case r.Refused != "":
		return fmt.Sprintf("version %s is offered but not installable here: %s (checked %s)", r.Manifest.Version, r.Refused, at)
	}
	return fmt.Sprintf("up to date: %s offers %s (checked %s)", r.URL, r.Manifest.Version, at)
}

// checkClient bounds a check: the header is small.
var checkClient = &http.Client{Timeout: time.Minute}

// headerMax is the longest bundle header: what a check reads at most.
const headerMax = len(flash.Magic) + 4 + flash.MaxManifest + ed25519.SignatureSize

// Check fetches the beginning of the bundle at rawURL, only its signed
// header (asked with a Range request and cut there when the server sends
// more), verifies it with the box's key and records whether it offers an
// update this box may install. Nothing is written to a slot.
func (u *Updater) Check(ctx context.Context, rawURL string) CheckResult {
	r := CheckResult{URL: rawURL, At: time.Now()}
	m, err := u.fetchManifest(ctx, rawURL)
	if err != nil {
		r.Err = err.Error()
	} else {
		r.Manifest = &m
		newer := versionOf(m.Version).Compare(versionOf(u.Version())) > 0
		if err := u.policy().Check(m); err != nil {
			if newer {
				r.Refused = err.Error()
			}
		} else {
			r.Available = newer
		}
	}
	u.mu.Lock()
	u.check = r
	u.mu.Unlock()
	u.log.Info("update check", "url", rawURL, "result", r.String())
	return r
}

func (u *Updater) fetchManifest(ctx context.Context, rawURL string) (flash.Manifest, error) {
	if err := u.usable(); err != nil {
		return flash.Manifest{}, err
	}
	if err := (CheckSettings{URL: rawURL, IntervalHours: 1}).Validate(); err != nil {
		return flash.Manifest{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return flash.Manifest{}, fmt.Errorf("ota: %w", err)
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=0-%d", headerMax-1))
	resp, err := checkClient.Do(req)
	if err != nil {
		return flash.Manifest{}, fmt.Errorf("ota: check: %w", err)
	}
	// Closing the body unread ends a full download the server may have
	// started anyway.
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		return flash.Manifest{}, fmt.Errorf("ota: check %s: %s", rawURL, resp.Status)
	}
	h, err := flash.ReadHeader(io.LimitReader(resp.Body, int64(headerMax)), u.key)
	if err != nil {
		return flash.Manifest{}, err
	}
	return h.Manifest, nil
}

// versionOf parses v; a version that does not parse (a development
// build) counts as 0, as flash.Policy counts it.
func versionOf(v string) flash.Version {
	p, err := flash.ParseVersion(v)
	if err != nil {
		p, _ = flash.ParseVersion("0")
	}
	return p
}

// LastCheck returns the last check's result.
func (u *Updater) LastCheck() CheckResult {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.check
}

// InstallChecked downloads and installs the bundle the last check found
// available, as InstallFrom does; the caller then applies it.
func (u *Updater) InstallChecked(ctx context.Context) (flash.Manifest, error) {
	r := u.LastCheck()
	if !r.Available {
		return flash.Manifest{}, fmt.Errorf("%w: no update was found available; check first", flash.ErrRefused)
	}
	return u.InstallFrom(ctx, r.URL)
}

// settingsFile keeps the update settings the firmware owns with the
// slots (the version floor): a factory reset and a restored backup leave
// them as they are, so neither can reopen the way to older firmware.
const settingsFile = "settings.json"

type otaSettings struct {
	Floor string `json:"floor,omitempty"`
}

func (u *Updater) readSettings() (otaSettings, error) {
	var s otaSettings
	b, err := os.ReadFile(filepath.Join(u.dir, settingsFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		return s, fmt.Errorf("ota: %s: %w", settingsFile, err)
	}
	return s, nil
}

// Floor returns the oldest version this box installs: the higher of the
// stored setting and the one the daemon was started with (--ota-floor),
// and the stored setting alone.
func (u *Updater) Floor() (effective, stored string) {
	u.mu.Lock()
	stored = u.floor
	u.mu.Unlock()
	effective = u.cfg.Floor
	if stored != "" && (effective == "" || versionOf(stored).Compare(versionOf(effective)) > 0) {
		effective = stored
	}
	return effective, stored
}

// SetFloor stores the oldest version this box may install ("" for none;
// the daemon's --ota-floor still applies). The error is a *SettingError.
func (u *Updater) SetFloor(v string) error {
	if v != "" {
		if _, err := flash.ParseVersion(v); err != nil {
			return badSetting("floor", "floor", []any{v}, "%q is not a version such as 1.4.0")
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	b, _ := json.MarshalIndent(otaSettings{Floor: v}, "", "  ")
	if err := atomicfile.Write(filepath.Join(u.dir, settingsFile), b, 0o640); err != nil {
		return fmt.Errorf("ota: %w", err)
	}
	u.log.Warn("update version floor set", "floor", v)
	u.floor = v
	return nil
}

func (u *Updater) policy() flash.Policy {
	floor, _ := u.Floor()
	return flash.Policy{Board: u.board, Running: u.Version(), Floor: floor}
}

// Checker runs the scheduled check. Its owner starts Run(ctx) in one
// goroutine; it ends with ctx.
type Checker struct {
	Updater *Updater
	// Settings returns the check's settings, read again every round.
	Settings func() (CheckSettings, error)
	// Delay is the wait before the first check after the start, while
	// the network comes up (default a minute).
	Delay time.Duration
	// Retry is the wait after a failed check, if shorter than the
	// interval (default an hour).
	Retry time.Duration
	Log   *slog.Logger

	once sync.Once
	kick chan struct{}
}

func (c *Checker) init() {
	c.once.Do(func() {
		c.kick = make(chan struct{}, 1)
		if c.Delay <= 0 {
			c.Delay = time.Minute
		}
		if c.Retry <= 0 {
			c.Retry = time.Hour
		}
		if c.Log == nil {
			c.Log = slog.New(slog.DiscardHandler)
		}
	})
}

// Kick asks Run to check now (settings changed, or someone asked).
func (c *Checker) Kick() {
	c.init()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Run checks after Delay and then every interval while the check is
// enabled, and whenever kicked, until ctx ends.
func (c *Checker) Run(ctx context.Context) {
	c.init()
	t := time.NewTimer(c.Delay)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
		}
		next := time.Hour // disabled: look at the settings again later
		s, err := c.Settings()
		switch {
		case err != nil:
			c.Log.Error("update check: settings", "err", err)
		case s.Enabled && s.URL != "":
			next = time.Duration(s.IntervalHours) * time.Hour
			if r := c.Updater.Check(ctx, s.URL); r.Err != "" {
				next = min(next, c.Retry)
			}
		}
		t.Reset(next)
	}
}
