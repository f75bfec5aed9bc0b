// Package crm keeps the call centre's customers (公共联系人 and each
// agent's private contacts): categories, several numbers each, name,
// company, address, region, notes and admin-defined custom fields; lookup
// by any number for the screen-pop; search by number, name, pinyin full
// spelling or initials, company and address; communication types and
// records; the customer card; import and export.
//
// A Directory keeps its records in a kv.Store (buckets listed in Buckets)
// and a search index in memory, built when it opens. It is pure: the
// firmware hands it the store and, for the card, the call history and the
// work orders (CallHistory, OrderHistory, Recordings).
//
// Permissions follow the seed's desks: everyone sees public contacts and
// agents add and correct them from a call; a private contact is seen and
// changed by its owner only; administrators define categories, custom
// fields and communication types; administrators and supervisors delete
// public contacts. Every method takes the Actor it acts for.
//
// Errors wrap ErrNotFound, ErrConflict, ErrForbidden or ErrInvalid (then as
// a *FieldError naming the field), so callers answer 404, 409, 403 or 400.
package crm

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"callbox/telephony/crm/kv"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound: no such record, or one the actor may not see.
	ErrNotFound = errors.New("crm: not found")
	// ErrConflict: the change contradicts what is stored (a name taken, a
	// category still in use, a record changed meanwhile).
	ErrConflict = errors.New("crm: conflict")
	// ErrForbidden: the actor's role may not do this.
	ErrForbidden = errors.New("crm: forbidden")
	// ErrInvalid: a value was refused; the error is a *FieldError.
	ErrInvalid = errors.New("crm: invalid")
)

// FieldError names the field a value was refused for and why.
type FieldError struct {
	Entity string // "customer", "category", ...
	Field  string // the JSON name: "numbers[1]", "fields.account", ...
	Reason string
}

func (e *FieldError) Error() string {
	return "crm: invalid " + e.Entity + ": " + e.Field + ": " + e.Reason
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// JSONField names the offending field for the web API.
func (e *FieldError) JSONField() string { return e.Field }

// Invalid returns a *FieldError; the record packages (kb, workorder) use it
// too, so one error vocabulary reaches the API.
func Invalid(entity, field, reason string, args ...any) error {
	return &FieldError{Entity: entity, Field: field, Reason: fmt.Sprintf(reason, args...)}
}

// Roles, as the web admin names them.
const (
	RoleAdmin      = "admin"
	RoleSupervisor = "supervisor"
	RoleAgent      = "agent"
)

// Actor is who a call is made for: a web user's login and role.
type Actor struct {
	Login string
	Role  string
}

// Admin reports whether a is an administrator.
func (a Actor) Admin() bool { return a.Role == RoleAdmin }

// Supervisor reports whether a is a supervisor or an administrator.
func (a Actor) Supervisor() bool { return a.Role == RoleAdmin || a.Role == RoleSupervisor }

// Forbidden returns an error wrapping ErrForbidden for what a may not do.
func Forbidden(a Actor, what string) error {
	return fmt.Errorf("%w: %s (%s) may not %s", ErrForbidden, a.Login, a.Role, what)
}

// The buckets a Directory keeps its records in.
const (
	BucketCustomers kv.Bucket = "crm_customers" // id -> Customer
	BucketIndex     kv.Bucket = "crm_index"     // numbers, comms by customer
	BucketMeta      kv.Bucket = "crm_meta"      // categories, fields, communication types
	BucketComms     kv.Bucket = "crm_comms"     // id -> Comm
)

// Buckets lists every bucket the package uses.
var Buckets = []kv.Bucket{BucketCustomers, BucketIndex, BucketMeta, BucketComms}

// Options tunes a Directory; the zero value works.
type Options struct {
	// LocalArea is the area code local numbers get until the settings
	// stored in the directory say otherwise (Settings).
	LocalArea string
	// Region names a number's region ("南京", "mobile"); nil uses Region.
	Region func(digits string) string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Log receives what the directory fixes on its own (a damaged record
	// skipped at open); nil discards.
	Log *slog.Logger
}

// Directory is the customer directory. It is safe for concurrent use.
type Directory struct {
	st   kv.Store
	opts Options

	// wmu serialises writes, so the search index changes in the order the
	// store committed.
	wmu  sync.Mutex
	idx  *index
	hist histories
	area atomic.Pointer[string] // Settings.LocalArea
	// pending and pendingLast are the first and last customer ids of an
	// import not yet committed (0: none); ids between them are hidden.
	pending, pendingLast atomic.Uint64
	// merging holds the stored customers an import under way merged into
	// (nil: none); readers see them as they were (readCustomer).
	mmu     sync.RWMutex
	merging map[uint64]struct{}
}

// Open builds the search index from st and returns the directory.
func Open(st kv.Store, opts Options) (*Directory, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Region == nil {
		opts.Region = Region
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	d := &Directory{st: st, opts: opts, idx: newIndex()}
	if err := d.loadSettings(); err != nil {
		return nil, fmt.Errorf("crm: open: %w", err)
	}
	// An import the box stopped in the middle of is undone before anyone
	// sees its rows.
	if err := d.undoImport(); err != nil {
		return nil, fmt.Errorf("crm: open: %w", err)
	}
	if err := d.rebuild(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Directory) now() time.Time { return d.opts.Now().UTC() }
