package store

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestSchemaVersionIsLastMigration(t *testing.T) {
	if err := checkMigrations(migrations); err != nil {
		t.Fatal(err)
	}
	if last := migrations[len(migrations)-1].version; SchemaVersion != last {
		t.Errorf("SchemaVersion = %d, last migration is %d", SchemaVersion, last)
	}
}

// logMigration appends its version to the "log" key of a "trace" bucket,
// so a test sees which migrations ran, in which order, across opens.
func logMigration(v int) migration {
	return migration{v, "step " + strconv.Itoa(v), func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("trace"))
		if err != nil {
			return err
		}
		old := b.Get([]byte("log"))
		return b.Put([]byte("log"), append(append([]byte(nil), old...), byte('0'+v)))
	}}
}

func traceAndVersion(t *testing.T, path string) (string, int) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var log string
	var v int
	bdb.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte("trace")); b != nil {
			log = string(b.Get([]byte("log")))
		}
		v, err = schemaVersion(tx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return log, v
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	steps := []migration{logMigration(1), logMigration(2), logMigration(3)}
	failing := migration{4, "step 4", func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucket([]byte("half-done")); err != nil {
			return err
		}
		return errors.New("disk says no")
	}}

	for _, step := range []struct {
		name    string
		migs    []migration
		wantErr string
		wantLog string
		wantVer int
	}{
		{"new file runs all in order", steps[:2], "", "12", 2},
		{"reopen runs nothing", steps[:2], "", "12", 2},
		{"newer firmware runs only the new one", steps, "", "123", 3},
		{"failing migration is named and rolled back", append(steps[:3:3], failing), "migration 4 (step 4): disk says no", "123", 3},
		{"older firmware refuses newer file", steps[:1], "written by a newer schema: schema version 3, this firmware knows 1", "123", 3},
	} {
		t.Run(step.name, func(t *testing.T) {
			db, err := open(path, step.migs, time.Now)
			if err == nil {
				db.Close()
			}
			if step.wantErr == "" && err != nil || step.wantErr != "" && (err == nil || !strings.Contains(err.Error(), step.wantErr)) {
				t.Fatalf("open: %v, want error %q", err, step.wantErr)
			}
			log, v := traceAndVersion(t, path)
			if log != step.wantLog || v != step.wantVer {
				t.Errorf("after open: trace %q version %d, want %q %d", log, v, step.wantLog, step.wantVer)
			}
		})
	}
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	bdb.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("half-done")) != nil {
			t.Error("the failed migration's bucket was kept")
		}
		return nil
	})
}

func TestCheckMigrations(t *testing.T) {
	for _, tc := range []struct {
		name string
		migs []migration
		ok   bool
	}{
		{"none", nil, true},
		{"sequential", []migration{logMigration(1), logMigration(2)}, true},
		{"gap", []migration{logMigration(1), logMigration(3)}, false},
		{"reordered", []migration{logMigration(2), logMigration(1)}, false},
		{"duplicate", []migration{logMigration(1), logMigration(1)}, false},
		{"no func", []migration{{1, "x", nil}}, false},
	} {
		if err := checkMigrations(tc.migs); (err == nil) != tc.ok {
			t.Errorf("%s: checkMigrations = %v", tc.name, err)
		}
	}
	if _, err := open(filepath.Join(t.TempDir(), "x.db"), []migration{logMigration(2)}, time.Now); err == nil {
		t.Error("open accepted a migration list starting at 2")
	}
}
