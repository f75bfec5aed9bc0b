package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestPBXConfig(t *testing.T) {
	db, _ := openTest(t)
	err := db.View(func(tx *Tx) error {
		_, err := tx.PBXConfig()
		return err
	})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("new store: %v, want ErrNotFound", err)
	}
	doc := []byte(`{"version":1,"extensions":[]}`)
	if err := db.Update(func(tx *Tx) error { return tx.SetPBXConfig(doc) }); err != nil {
		t.Fatal(err)
	}
	doc[2] = 'X' // the store kept its own copy
	var got []byte
	if err := db.View(func(tx *Tx) (err error) { got, err = tx.PBXConfig(); return err }); err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"version":1,"extensions":[]}` {
		t.Fatalf("read back %s", got)
	}
	for _, bad := range []string{``, `[]`, `null`, `{"a":`, "{}x"} {
		err := db.Update(func(tx *Tx) error { return tx.SetPBXConfig([]byte(bad)) })
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "document" || !errors.Is(err, ErrInvalid) {
			t.Errorf("SetPBXConfig(%q) = %v", bad, err)
		}
	}
	big := make([]byte, MaxPBXConfig+1)
	if err := db.Update(func(tx *Tx) error { return tx.SetPBXConfig(big) }); !errors.Is(err, ErrInvalid) {
		t.Errorf("oversized document: %v", err)
	}
}

// TestMigrationV2ToV3 opens a store written by schema 2 firmware (users,
// settings and records in it) with this firmware: everything is kept and
// the PBX bucket appears, empty.
func TestMigrationV2ToV3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	old, err := open(path, migrations[:2], time.Now)
	if err != nil {
		t.Fatal(err)
	}
	err = old.Update(func(tx *Tx) error {
		if err := tx.CreateUser(User{Login: "root", DisplayName: "Root", Role: RoleAdmin, PasswordHash: "$argon2id$x"}); err != nil {
			return err
		}
		if err := tx.SetSetting("web.lang", "zh-CN"); err != nil {
			return err
		}
		return tx.Put(IVRFlows, []byte("main"), []byte(`{"v":1}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *Tx) error {
		v, err := schemaVersion(tx.tx)
		if err != nil || v != SchemaVersion {
			t.Errorf("schema version %d, %v", v, err)
		}
		if u, err := tx.User("root"); err != nil || u.Role != RoleAdmin {
			t.Errorf("user after migration: %+v %v", u, err)
		}
		if s, err := tx.Setting("web.lang"); err != nil || s != "zh-CN" {
			t.Errorf("setting after migration: %q %v", s, err)
		}
		if r, err := tx.Get(IVRFlows, []byte("main")); err != nil || string(r) != `{"v":1}` {
			t.Errorf("record after migration: %q %v", r, err)
		}
		if _, err := tx.PBXConfig(); !errors.Is(err, ErrNotFound) {
			t.Errorf("pbx config after migration: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *Tx) error { return tx.SetPBXConfig([]byte(`{"version":1}`)) }); err != nil {
		t.Fatal(err)
	}
}
