package store

import (
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// Bucket and key names. Changing any of them needs a migration.
var (
	bucketMeta     = []byte("meta")
	bucketUsers    = []byte("users")
	bucketSettings = []byte("settings")

	keySchema = []byte("schema_version")
)

// A migration moves the store from version-1 to version. Its function runs
// inside one read-write transaction that also records the new version, so
// a migration is applied entirely or not at all, even across a power cut.
type migration struct {
	version int
	name    string
	apply   func(tx *bolt.Tx) error
}

// migrations lists every schema change, oldest first. Append only: a
// released migration is never edited, since boxes in the field ran it.
var migrations = []migration{
	{1, "create users and settings buckets", func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketUsers, bucketSettings} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return nil
	}},
	// Literal names, not the Records constants: this step must create what
	// it created when released even if the constants are renamed later.
	{2, "create acd and ivr record buckets", func(tx *bolt.Tx) error {
		for _, name := range []string{"acd_config", "acd_status", "acd_callbacks", "ivr_flows"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	}},
	{3, "create pbx configuration bucket", func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("pbx_config"))
		return err
	}},
	{4, "create call detail record bucket", func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("cdr"))
		return err
	}},
	{5, "create call-centre fact, device and configuration buckets", func(tx *bolt.Tx) error {
		for _, name := range []string{"cc_facts", "cc_devices", "cc_config"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	}},
	{6, "create customer record, knowledge base and work order buckets", func(tx *bolt.Tx) error {
		for _, name := range []string{"crm_customers", "crm_index", "crm_meta", "crm_comms", "kb",
			"wo_meta", "wo_orders", "wo_index", "wo_audit", "cdr_party"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	}},
	{7, "create fax and fax job buckets", func(tx *bolt.Tx) error {
		for _, name := range []string{"fax", "fax_jobs"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	}},
	{8, "create media service buckets", func(tx *bolt.Tx) error {
		for _, name := range []string{"recordings", "voicemail", "conference"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	}},
	{9, "create sms, api token, webhook, journal and export buckets", func(tx *bolt.Tx) error {
		for _, name := range []string{"sms_out", "sms_queue", "sms_refs", "sms_in", "sms_templates", "api_tokens",
			"webhooks", "event_journal", "webhook_log", "export_cursors", "export_cdr", "export_facts"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		// The records already kept are listed for the push in their key
		// order, the best guess of the order they were written in.
		for _, l := range [][2]string{{"cdr", "export_cdr"}, {"cc_facts", "export_facts"}} {
			src, dst := tx.Bucket([]byte(l[0])), tx.Bucket([]byte(l[1]))
			if src == nil {
				continue
			}
			if err := src.ForEach(func(k, _ []byte) error {
				seq, err := dst.NextSequence()
				if err != nil {
					return err
				}
				return dst.Put(Key(nil).AppendUint64(seq), append([]byte{}, k...))
			}); err != nil {
				return err
			}
		}
		return nil
	}},
}

// SchemaVersion is the schema this firmware writes, the version of the
// last migration; Open refuses files with a higher version.
const SchemaVersion = 9

// checkMigrations enforces versions 1, 2, 3... with no gap: a gap would
// make an old file skip a step.
func checkMigrations(migs []migration) error {
	for i, m := range migs {
		if m.version != i+1 || m.name == "" || m.apply == nil {
			return fmt.Errorf("store: migration %d (%q) out of order or incomplete", m.version, m.name)
		}
	}
	return nil
}

// schemaVersion reads the version recorded in tx; 0 for a new file.
func schemaVersion(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		// A new file has no buckets at all; anything else without our meta
		// bucket is some other program's bbolt file, not ours to migrate.
		if err := tx.ForEach(func([]byte, *bolt.Bucket) error { return errForeign }); err != nil {
			return 0, err
		}
		return 0, nil
	}
	raw := meta.Get(keySchema)
	v, err := strconv.Atoi(string(raw))
	if err != nil || v < 1 {
		return 0, fmt.Errorf("%w: schema version %q unreadable", ErrCorrupt, raw)
	}
	return v, nil
}

var errForeign = fmt.Errorf("%w: not a callbox store (no meta bucket)", ErrCorrupt)

// migrate brings the file at bdb up to the last of migs, one transaction
// per step.
func migrate(bdb *bolt.DB, migs []migration) error {
	var have int
	if err := bdb.View(func(tx *bolt.Tx) (err error) {
		have, err = schemaVersion(tx)
		return err
	}); err != nil {
		return fmt.Errorf("store: open %s: %w", bdb.Path(), err)
	}
	if want := len(migs); have > want {
		return fmt.Errorf("store: open %s: %w: schema version %d, this firmware knows %d; "+
			"run newer firmware or restore a backup", bdb.Path(), ErrNewerSchema, have, want)
	}
	for _, m := range migs[have:] {
		err := bdb.Update(func(tx *bolt.Tx) error {
			if err := m.apply(tx); err != nil {
				return err
			}
			meta, err := tx.CreateBucketIfNotExists(bucketMeta)
			if err != nil {
				return err
			}
			return meta.Put(keySchema, []byte(strconv.Itoa(m.version)))
		})
		if err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}
