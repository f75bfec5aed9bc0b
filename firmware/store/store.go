// Package store keeps the box's configuration and call-centre records in one
// bbolt file in the data directory.
//
// All access goes through closures, DB.View and DB.Update, so a transaction
// can never outlive the call that opened it. Records are JSON. The file
// carries a schema version; Open runs the pending migrations in order, each
// in its own transaction, and refuses a file written by a newer firmware.
//
// Errors returned by the store name what failed and wrap one of the
// sentinels ErrNotFound, ErrConflict, ErrInvalid or ErrNoSpace where a
// caller may want to branch (for example to answer 404, 409, 400 or 507);
// test with errors.Is.
// Validation errors are *FieldError values, so errors.As also yields the
// entity and field at fault.
package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Sentinel errors. Returned errors wrap them with detail ("store: user
// \"bob\": not found"), so compare with errors.Is, never with ==.
var (
	// ErrNotFound: the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change contradicts what is stored, e.g. a login that
	// already exists or removing the last enabled admin.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: a value does not pass validation; the error is a
	// *FieldError naming the entity and field.
	ErrInvalid = errors.New("invalid")
	// ErrLocked: another process holds the store file open.
	ErrLocked = errors.New("locked by another process")
	// ErrNewerSchema: the file was written by newer firmware; this one
	// cannot know what its records mean (after a downgrade, say).
	ErrNewerSchema = errors.New("written by a newer schema")
	// ErrCorrupt: the file is not a readable callbox store (damaged,
	// truncated, or not a bbolt file at all).
	ErrCorrupt = errors.New("corrupt store file")
	// ErrNoSpace: a write transaction failed because the file system is
	// full (ENOSPC) or the quota is used up (EDQUOT). Nothing of it was
	// kept and the store stays usable: free space and write again.
	// NoSpaceSince tells whether writes are failing this way now.
	ErrNoSpace = errors.New("no space left for the store")
)

// FieldError reports a value that failed validation. It wraps ErrInvalid.
type FieldError struct {
	Entity string // "user", "setting"
	Field  string // "login", "role", a setting key...
	Reason string // what a valid value looks like
}

func (e *FieldError) Error() string {
	return "store: invalid " + e.Entity + ": " + e.Field + ": " + e.Reason
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(entity, field, reason string) error {
	return &FieldError{Entity: entity, Field: field, Reason: reason}
}

// lockTimeout bounds how long Open waits for another process to release
// the file lock: long enough to ride over a restart, short enough that a
// second daemon fails with a clear error instead of hanging. A variable so
// tests can shorten it.
var lockTimeout = 2 * time.Second

// DB is an open store. It is safe for concurrent use.
type DB struct {
	bolt *bolt.DB
	path string
	now  func() time.Time

	// noSpace is when write transactions began failing with ErrNoSpace
	// (Unix nanoseconds), 0 while they succeed.
	noSpace atomic.Int64
}

// Open opens the store at path, creating it if it does not exist, checks
// the file's integrity, and runs pending schema migrations.
//
// A file held by another process gives an error wrapping ErrLocked after a
// short wait; a damaged or foreign file gives one wrapping ErrCorrupt; a
// file written by a newer schema than SchemaVersion is refused.
func Open(path string) (*DB, error) {
	return open(path, migrations, time.Now)
}

func open(path string, migs []migration, now func() time.Time) (*DB, error) {
	if err := checkMigrations(migs); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if err := create(path, migs); err != nil {
			return nil, err
		}
	}
	bdb, err := openBolt(path)
	if err != nil {
		return nil, err
	}
	// Holding the lock, remove what creations cut short by a crash left.
	if strays, _ := filepath.Glob(path + ".new-*"); len(strays) > 0 {
		for _, f := range strays {
			os.Remove(f)
		}
	}
	db := &DB{bolt: bdb, path: path, now: now}
	if err := db.verify(); err != nil {
		bdb.Close()
		return nil, err
	}
	if err := migrate(bdb, migs); err != nil {
		bdb.Close()
		return nil, err
	}
	return db, nil
}

// create makes a new store at path that is complete or absent, never half
// written: it is built and migrated under a temporary name, then linked
// into place. A link, not a rename, so that of two daemons racing on first
// boot one gets the file and the other finds it and then its lock.
func create(path string, migs []migration) error {
	tmp := fmt.Sprintf("%s.new-%d-%d", path, os.Getpid(), time.Now().UnixNano())
	defer os.Remove(tmp)
	bdb, err := openBolt(tmp)
	if err != nil {
		return err
	}
	err = migrate(bdb, migs)
	if cerr := bdb.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("store: create %s: %w", path, cerr)
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store: create: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: sync %s: %w", dir, err)
	}
	return nil
}

// openBolt opens the bbolt file, turning bbolt's panics and memory faults
// on a damaged file into an ErrCorrupt error.
func openBolt(path string) (bdb *bolt.DB, err error) {
	var file *os.File
	opts := &bolt.Options{
		Timeout: lockTimeout,
		// Keep the file handle so that if bbolt panics half-way through
		// opening, the descriptor (and with it the flock) is released.
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	}
	err = guard(func() error {
		var oerr error
		bdb, oerr = bolt.Open(path, 0o600, opts)
		return oerr
	})
	switch {
	case err == nil:
		return bdb, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("store: open %s: %w", path, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum), errors.Is(err, ErrCorrupt):
		if errors.Is(err, ErrCorrupt) && file != nil {
			file.Close() // bbolt panicked and still holds it
		}
		return nil, fmt.Errorf("store: open %s: %w: %w", path, ErrCorrupt, err)
	default:
		if _, ok := errors.AsType[*os.PathError](err); ok {
			return nil, fmt.Errorf("store: %w", err)
		}
		// bbolt's other open errors ("file size too small", mmap on a
		// nonsense size) all come from a file it cannot read.
		return nil, fmt.Errorf("store: open %s: %w: %w", path, ErrCorrupt, err)
	}
}

// guard runs f so that a panic, including a memory fault while reading the
// mapped file, becomes an error wrapping ErrCorrupt. Only for the open-time
// checks: there every panic comes from the file's contents, not from a bug
// in a caller's closure.
func guard(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	return f()
}

// verify checks the file covers its pages and walks every bucket and
// record, so that damage is found at open rather than mid-call later.
func (db *DB) verify() error {
	fi, err := os.Stat(db.path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	err = guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			if tx.Size() > fi.Size() {
				return fmt.Errorf("%w: file is %d bytes, its pages need %d (truncated?)", ErrCorrupt, fi.Size(), tx.Size())
			}
			if err := checkFile(db.path, uint64(tx.ID())); err != nil {
				return err
			}
			// Not tx.Check: it reads pages on a goroutine of its own, where a
			// wild key pointer is a fatal fault rather than a panic.
			return walk(tx)
		})
	})
	if err != nil {
		return fmt.Errorf("store: open %s: %w", db.path, err)
	}
	return nil
}

// walk visits every key and value of every (nested) bucket through bbolt,
// checking the keys ascend and that looking each key up finds it, which
// exercises the branch pages above it. checkPages has already made sure
// every pointer stays inside the file.
func walk(tx *bolt.Tx) error {
	var visit func(b *bolt.Bucket) error
	visit = func(b *bolt.Bucket) error {
		var prev []byte
		return b.ForEach(func(k, v []byte) error {
			if prev != nil && bytes.Compare(prev, k) >= 0 {
				return fmt.Errorf("%w: keys out of order after %q", ErrCorrupt, prev)
			}
			prev = k
			if v == nil {
				child := b.Bucket(k)
				if child == nil {
					return fmt.Errorf("%w: nested bucket %q unreadable", ErrCorrupt, k)
				}
				return visit(child)
			}
			if got := b.Get(k); got == nil || len(got) != len(v) {
				return fmt.Errorf("%w: key %q not found by lookup", ErrCorrupt, k)
			}
			return nil
		})
	}
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return visit(b) })
}

// Close releases the file. Transactions in flight finish first.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Path is the store file's path as given to Open.
func (db *DB) Path() string { return db.path }

// Size is the store file's size in bytes.
func (db *DB) Size() (int64, error) {
	fi, err := os.Stat(db.path)
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return fi.Size(), nil
}

// Tx is a transaction handed to the closure of View or Update. It is valid
// only inside that closure. Write methods on a View transaction fail.
type Tx struct {
	tx  *bolt.Tx
	now func() time.Time
}

// View runs f in a read-only transaction.
func (db *DB) View(f func(*Tx) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		return f(&Tx{tx: tx, now: db.now})
	})
}

// Update runs f in a read-write transaction, committed (and synced to disk)
// before Update returns nil. If f returns an error, nothing f did is kept.
// A commit that finds the file system full fails with an error wrapping
// ErrNoSpace.
func (db *DB) Update(f func(*Tx) error) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return f(&Tx{tx: tx, now: db.now})
	})
	switch {
	case err == nil:
		db.noSpace.Store(0)
	case isNoSpace(err):
		db.noSpace.CompareAndSwap(0, db.now().UnixNano())
		return fmt.Errorf("store: %w: %w", ErrNoSpace, err)
	}
	return err
}

// NoSpaceSince reports whether write transactions are failing for lack of
// space (the last one did, and none has succeeded since), and since when.
func (db *DB) NoSpaceSince() (time.Time, bool) {
	if ns := db.noSpace.Load(); ns != 0 {
		return time.Unix(0, ns), true
	}
	return time.Time{}, false
}

// isNoSpace recognises a full file system or quota in a bbolt error. bbolt
// passes write errors through, but flattens those of growing and syncing
// the file to text, so the text is checked too.
func isNoSpace(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, syscall.ENOSPC.Error()) || strings.Contains(msg, syscall.EDQUOT.Error())
}

// bucket returns a top-level bucket that the migrations guarantee exists.
func (t *Tx) bucket(name []byte) (*bolt.Bucket, error) {
	b := t.tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("store: bucket %q missing: %w", name, ErrCorrupt)
	}
	return b, nil
}

// put writes k=v, translating bbolt's errors.
func put(b *bolt.Bucket, what string, k, v []byte) error {
	if err := b.Put(k, v); err != nil {
		return fmt.Errorf("store: write %s: %w", what, err)
	}
	return nil
}
