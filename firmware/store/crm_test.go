package store

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// releasedBuckets is what each released migration created. A migration
// that boxes in the field ran is never edited: this pins versions 1 to 5 as
// main shipped them (5 is the call centre's), so schema 6 stays behind
// them.
var releasedBuckets = [][]string{
	1: {"settings", "users"},
	2: {"acd_callbacks", "acd_config", "acd_status", "ivr_flows"},
	3: {"pbx_config"},
	4: {"cdr"},
	5: {"cc_config", "cc_devices", "cc_facts"},
	6: {"cdr_party", "crm_comms", "crm_customers", "crm_index", "crm_meta", "kb", "wo_audit", "wo_index", "wo_meta", "wo_orders"},
	7: {"fax", "fax_jobs"},
	8: {"conference", "recordings", "voicemail"},
	9: {"api_tokens", "event_journal", "export_cdr", "export_cursors", "export_facts", "sms_in", "sms_out", "sms_queue", "sms_refs", "sms_templates", "webhook_log", "webhooks"},
}

// bucketsAt lists the top-level buckets of the file at path with the
// schema version it records.
func bucketsAt(t *testing.T, path string) ([]string, int) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var names []string
	var v int
	err = bdb.View(func(tx *bolt.Tx) error {
		if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if string(name) != "meta" {
				names = append(names, string(name))
			}
			return nil
		}); err != nil {
			return err
		}
		v, err = schemaVersion(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names, v
}

// Each released migration, run alone on top of the one before, adds
// exactly its buckets: main's versions 1 to 5 are unchanged and the
// customer records are version 6.
func TestReleasedMigrationsUnchanged(t *testing.T) {
	if len(migrations) != len(releasedBuckets)-1 {
		t.Fatalf("%d migrations, %d pinned: pin the new one here", len(migrations), len(releasedBuckets)-1)
	}
	var want []string
	for v := 1; v <= SchemaVersion; v++ {
		path := filepath.Join(t.TempDir(), "m.db")
		db, err := open(path, migrations[:v], time.Now)
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		db.Close()
		want = append(want, releasedBuckets[v]...)
		slices.Sort(want)
		got, have := bucketsAt(t, path)
		if have != v || !slices.Equal(got, want) {
			t.Errorf("v%d: version %d buckets %v, want %v", v, have, got, want)
		}
	}
}

// A store main's firmware left at version 5, with users, call records and
// call-centre facts and devices, reaches version 6 keeping
// all of them, and takes customer records; a new file goes straight to 6.
func TestMigrationV5ToV6(t *testing.T) {
	kept := []Records{CDRs, CCFacts, CCDevices}
	for _, tc := range []struct {
		name  string
		fromV int // 0: a new file
	}{
		{"store at main's v5", 5},
		{"fresh store", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			if tc.fromV > 0 {
				old, err := open(path, migrations[:tc.fromV], time.Now)
				if err != nil {
					t.Fatal(err)
				}
				err = old.Update(func(tx *Tx) error {
					if err := tx.CreateUser(User{Login: "admin", Role: RoleAdmin, PasswordHash: "x"}); err != nil {
						return err
					}
					for _, r := range kept {
						if err := tx.Put(r, []byte("k"), []byte(r)); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if err := old.Update(func(tx *Tx) error { return tx.Put(CRMCustomers, []byte("k"), []byte("v")) }); err == nil {
					t.Fatal("a v5 file took a customer record")
				}
				if err := old.Close(); err != nil {
					t.Fatal(err)
				}
			}
			db, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *Tx) error {
				for _, r := range CustomerRecords {
					if err := tx.Put(r, []byte("k"), []byte(r)); err != nil {
						return err
					}
				}
				if tc.fromV == 0 {
					return nil
				}
				if _, err := tx.User("admin"); err != nil {
					t.Errorf("the user was lost: %v", err)
				}
				for _, r := range kept {
					if v, err := tx.Get(r, []byte("k")); err != nil || string(v) != string(r) {
						t.Errorf("%s after the migration: %q %v", r, v, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if _, v := bucketsAt(t, path); v != SchemaVersion {
				t.Errorf("schema version %d after Open, want %d", v, SchemaVersion)
			}
		})
	}
}
