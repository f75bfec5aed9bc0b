package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// clock is a settable time source for the timestamps the store writes.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

// openTest opens a fresh store in a temporary directory with a fake clock.
func openTest(t testing.TB) (*DB, *clock) {
	t.Helper()
	c := &clock{t: t0}
	db, err := open(filepath.Join(t.TempDir(), "callbox.db"), migrations, c.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, c
}

func TestOpenCreateReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callbox.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	if err := db.Update(func(tx *Tx) error {
		return tx.CreateUser(User{Login: "admin", Role: RoleAdmin, PasswordHash: "h"})
	}); err != nil {
		t.Fatal(err)
	}
	size, err := db.Size()
	if err != nil || size < 4*int64(os.Getpagesize()) {
		t.Errorf("Size() = %d, %v; want at least the four initial pages", size, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// No temporary file is left beside the store.
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("data directory holds %d entries, want only the store", len(entries))
	}

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *Tx) error {
		u, err := tx.User("admin")
		if err == nil && u.Role != RoleAdmin {
			t.Errorf("reopened user = %+v", u)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenLockedByAnother(t *testing.T) {
	defer func(d time.Duration) { lockTimeout = d }(lockTimeout)
	lockTimeout = 100 * time.Millisecond
	db, _ := openTest(t)
	start := time.Now()
	// flock locks are per open file description, so a second open in this
	// process meets the lock exactly as another process would.
	_, err := Open(db.Path())
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), db.Path()) {
		t.Errorf("error %q does not name the file", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second Open took %v", d)
	}
}

func TestOpenRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign.db")
	bdb, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("somebody-else"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	bdb.Close()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte(strings.Repeat("not a database\n", 2000)), 0o600); err != nil {
		t.Fatal(err)
	}
	tiny := filepath.Join(dir, "tiny.db")
	if err := os.WriteFile(tiny, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{foreign, text, tiny} {
		db, err := Open(path)
		if !errors.Is(err, ErrCorrupt) {
			if db != nil {
				db.Close()
			}
			t.Errorf("Open(%s) = %v, want ErrCorrupt", filepath.Base(path), err)
		}
	}
	if _, err := Open(filepath.Join(dir, "no", "such", "dir", "x.db")); err == nil || errors.Is(err, ErrCorrupt) {
		t.Errorf("Open in a missing directory = %v, want a path error", err)
	}
}

func TestWriteInViewFails(t *testing.T) {
	db, _ := openTest(t)
	err := db.View(func(tx *Tx) error {
		return tx.SetSetting("a", "b")
	})
	if err == nil {
		t.Fatal("SetSetting in View succeeded")
	}
}

func TestUpdateRollsBackOnError(t *testing.T) {
	db, _ := openTest(t)
	boom := errors.New("boom")
	err := db.Update(func(tx *Tx) error {
		if err := tx.SetSetting("a", "b"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the closure's error", err)
	}
	db.View(func(tx *Tx) error {
		if _, err := tx.Setting("a"); !errors.Is(err, ErrNotFound) {
			t.Errorf("setting written by a failed Update: %v", err)
		}
		return nil
	})
}
