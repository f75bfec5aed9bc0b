// Package webui is the appliance's web admin: a gin server with embedded
// pages, sessions, CSRF protection, first-boot setup and a JSON API under
// /api/v1. It consumes the interfaces it defines here (Users, System); the
// firmware wires them to the store and the board, so webui never imports
// either.
//
// HTTPS: with Config.HTTPSAddr the server also serves TLS with the
// certificate of webui/tlscert (made at first boot, renewed before it
// expires, replaceable by an upload under /api/v1/tls); cookies are Secure
// and __Host- prefixed over HTTPS. RedirectHTTP and HSTS are for hardware;
// the simulation keeps plain HTTP usable.
//
// Pages (server-rendered, usable without JavaScript): /setup, /login,
// /logout (POST), / (dashboard; agents and supervisors see what their role
// may use), /desk (the agent workbench over Desk, desk.go), /users and
// /users/:login (administrators only), /lang/:lang (the language switch, a
// cookie).
//
// API: GET /api/v1/health (no auth), GET /api/v1/session (who am I and
// the CSRF token), POST /api/v1/login, /logout, /setup,
// GET /api/v1/system (any user; with the raised alarms and the HTTPS
// certificate's fingerprint), and for administrators /api/v1/users[/:login]
// (GET, POST, PUT, DELETE), the PBX configuration (pbx.go), /api/v1/tls
// (tls.go); /api/v1/cdr for supervisors too (cdr.go); /api/v1/prompts
// (prompts.go, supervisors list and play). Errors are {"error":
// text in the request's language, "code": catalogue key, "field":
// offending field, "reason": a reason code when the implementation gave
// one}; a full disk answers 507.
//
// Every POST, PUT, PATCH and DELETE needs a CSRF token in the X-CSRF-Token
// header or the csrf_token form field, including login and setup: a
// client first GETs /api/v1/session (or a page) for it. A logged-in user's
// token belongs to the session; an anonymous visitor's is signed and sent
// back in a cookie too, so no server state exists before a login (csrf.go).
//
// Abuse limits: requests without a session are rate-limited per source
// address (IPv6 per /64); failed logins are throttled per address and per
// account (a delay the account's usual addresses skip, see login); setup
// codes per address, with a guess budget per code.
package webui

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"callbox/webui/tlscert"
)

// Roles a user may have.
const (
	RoleAdmin      = "admin"
	RoleSupervisor = "supervisor"
	RoleAgent      = "agent"
)

// Roles lists the valid roles, most privileged first.
var Roles = []string{RoleAdmin, RoleSupervisor, RoleAgent}

// User is an account of the web admin. PasswordHash is a passwd.Hash string;
// webui never sends it to a client.
type User struct {
	Login        string
	DisplayName  string
	Role         string
	PasswordHash string
	Disabled     bool
	// Lang is the language the user chose ("zh-CN", "en"); empty: the
	// browser's, then zh-CN.
	Lang string
	// Agent is the work number (工号, 1-8 digits) of the call-centre agent
	// this user is, if any: the live event stream shows an agent its own
	// calls by it.
	Agent string
	// Permissions grant (true) or revoke (false) permissions against the
	// role's defaults (see Permission); nil: the defaults.
	Permissions map[string]bool
	Created     time.Time
	Updated     time.Time
}

// Users is the user storage webui consumes. Implementations wrap the
// sentinels below so callers can branch with errors.Is; the text after the
// sentinel names the offending field, e.g.
//
//	fmt.Errorf("%w: login: already taken", webui.ErrConflict)
//	fmt.Errorf("%w: display_name: too long", webui.ErrInvalid)
type Users interface {
	Count(ctx context.Context) (int, error)
	Get(ctx context.Context, login string) (User, error)
	List(ctx context.Context) ([]User, error)
	Create(ctx context.Context, u User) error
	Update(ctx context.Context, u User) error
	Delete(ctx context.Context, login string) error
}

// Sentinel errors a Users implementation wraps.
var (
	// ErrNotFound: no user with that login.
	ErrNotFound = errors.New("webui: not found")
	// ErrConflict: the login is taken (Create).
	ErrConflict = errors.New("webui: conflict")
	// ErrInvalid: a field was refused; the text after the sentinel names it.
	ErrInvalid = errors.New("webui: invalid")
	// ErrNoSpace: the box's storage is full and the change was not saved.
	// Users and PBX implementations wrap it; the API answers 507
	// Insufficient Storage saying so, in the user's language.
	ErrNoSpace = errors.New("webui: storage full")
)

// userFields maps the field names an error text may carry onto the names
// the API uses.
var userFields = map[string]string{
	"login": "login", "display_name": "display_name", "role": "role",
	"password": "password", "password_hash": "password", "disabled": "disabled",
	"lang": "lang", "agent": "agent", "permissions": "permissions",
}

// errField finds the user field named after a sentinel in err's text: the
// first ":"-separated part after the sentinel that is a field name, so both
// "webui: invalid: login: too long" and an adapter's
// "webui: invalid: store: invalid user: login: ..." give "login". It
// returns "" when no part names a field.
func errField(err, sentinel error) string {
	msg := err.Error()
	i := strings.Index(msg, sentinel.Error())
	if i < 0 {
		return ""
	}
	for part := range strings.SplitSeq(msg[i+len(sentinel.Error()):], ":") {
		word, _, _ := strings.Cut(strings.TrimSpace(part), " ")
		if f, ok := userFields[word]; ok {
			return f
		}
	}
	return ""
}

// System reports the appliance's state for the dashboard and /api/v1/system.
type System interface {
	Info(ctx context.Context) SystemInfo
}

// SystemInfo is a snapshot of the appliance's state.
type SystemInfo struct {
	// Version is the running firmware's: the booted slot's. Slot names
	// it ("" when the box did not boot from one); Build is the binary's
	// own version with its commit and build time, which in simulation
	// stays the same while the slots carry their bundles' versions.
	Version       string
	Slot          string
	Build         string
	Uptime        time.Duration
	Board         BoardInfo
	StoreBytes    int64
	DataFreeBytes uint64
	// MediaClockLost counts the 10 ms frames the media clock skipped
	// because the box could not keep up (every call lost the same ones).
	MediaClockLost uint64
	// Alarms are conditions someone must act on; the home page and
	// /api/v1/system show them until they clear.
	Alarms []Alarm
}

// Alarm codes.
const (
	// AlarmStorageFull: writes to the store fail for lack of space.
	AlarmStorageFull = "storage_full"
	// AlarmRecordingFull, AlarmRecordingLow, AlarmRecordingDir: calls
	// are not recorded for lack of space, the data partition is under its
	// floor with nothing left to purge, the recording directory is missing
	// (telephony/recording's alarms, with the same codes).
	AlarmRecordingFull = "recording_full"
	AlarmRecordingLow  = "recording_low"
	AlarmRecordingDir  = "recording_dir"
)

// Alarm is one raised alarm: its code (the catalogues have
// "alarm.CODE", formatted with Since) and when it was raised.
type Alarm struct {
	Code  string
	Since time.Time
}

// BoardInfo describes the line board.
type BoardInfo struct {
	Name  string
	Ports []PortInfo
}

// PortInfo describes one analog port, e.g. {"fxs1", "fxs", "si3215", "idle"}.
type PortInfo struct {
	Name, Kind, Chip, State string
}

// Config configures a Server.
type Config struct {
	// Addr is the plain HTTP listen address for Run, e.g. "127.0.0.1:8080"
	// or ":80".
	Addr string
	// HTTPSAddr is the HTTPS listen address, e.g. "127.0.0.1:8443" or
	// ":443"; empty serves plain HTTP only.
	HTTPSAddr string
	// TLSDir keeps the HTTPS certificate and key (webui/tlscert); required
	// with HTTPSAddr. A certificate is made there at first boot.
	TLSDir string
	// TLSNames lists what a certificate the box makes covers; nil means
	// tlscert.LocalNames (host name, LAN addresses, localhost).
	TLSNames func() tlscert.Names
	// RedirectHTTP answers plain HTTP with a redirect to HTTPS (on
	// hardware); off, plain HTTP serves the admin too (simulation).
	RedirectHTTP bool
	// HSTS sends Strict-Transport-Security over HTTPS (on hardware).
	HSTS bool
	// Users stores the accounts. Required.
	Users Users
	// System reports the appliance's state. Required.
	System System
	// PBX is the telephone configuration edited under /api/v1/extensions,
	// trunks and routes; nil makes those routes answer 503.
	PBX PBX
	// CallCentre is the call-centre configuration edited under
	// /api/v1/call-centre, the objects' paths and /api/v1/flows; nil
	// makes those routes answer 503.
	CallCentre CallCentre
	// Live is the running call centre under /api/v1/cc (cclive.go); nil
	// makes those routes answer 503.
	Live CCLive
	// CallLog serves the call detail records under /api/v1/cdr; nil makes
	// that route answer 503.
	CallLog CallLog
	// Logs is the call centre's status and service logs and reports under
	// /api/v1/logs and /api/v1/reports (logs.go); nil makes those routes
	// answer 503.
	Logs CCLogs
	// Recordings serves the call recordings under /api/v1/recordings; nil
	// makes those routes answer 503.
	Recordings Recordings
	// Voicemail serves the voicemail boxes and inboxes under
	// /api/v1/voicemail; nil makes those routes answer 503.
	Voicemail Voicemail
	// Conferences serves the conference rooms under /api/v1/conference;
	// nil makes those routes answer 503.
	Conferences Conferences
	// Sim, on a simulated board, serves the /sim page (administrators
	// only); nil: no such page.
	Sim Sim
	// Records are the customer-service records (records.go): customers,
	// knowledge base, work orders; nil makes their routes answer 503.
	Records *Records
	// Updates installs firmware bundles under /api/v1/update and /update;
	// nil makes those routes answer 503.
	Updates Updates
	// Backups saves and restores the box under /api/v1/backup; nil makes
	// those routes answer 503.
	Backups Backups
	// Installer is the LAN, time and NTP settings and the factory reset
	// under /api/v1/installer; nil makes those routes answer 503.
	Installer Installer
	// Events is the call centre's live event stream served at GET
	// /api/v1/events; nil makes that route answer 503.
	Events Events
	// Desk is the live call centre as the agent workbench (/desk) uses
	// it; nil: the page says the call centre is not running.
	Desk Desk
	// Heartbeat is how often an idle event stream sends a heartbeat; zero
	// means DefaultHeartbeat (15 s).
	Heartbeat time.Duration
	// Prompts is the prompt catalogue under /api/v1/prompts (prompts.go);
	// nil makes those routes answer 503.
	Prompts Prompts
	// Fax is the fax inbox, outbox and settings under /api/v1/fax (fax.go);
	// nil makes those routes answer 503.
	Fax Fax
	// Outside is SMS, email, webhooks and the outside-database push
	// (outside.go); nil makes those routes answer 503.
	Outside Outside
	// Tokens stores the systems' API tokens (tokens.go); nil refuses every
	// bearer token and makes /api/v1/tokens answer 503.
	Tokens APITokens
	// Logger receives request logs and errors; nil discards them.
	Logger *slog.Logger
	// SessionIdle ends a session after this long without a request; zero
	// means 30 minutes.
	SessionIdle time.Duration
	// SessionMax ends a session this long after login whatever its use; zero
	// means 12 hours.
	SessionMax time.Duration
}
