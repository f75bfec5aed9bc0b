package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSettings(t *testing.T) {
	db, _ := openTest(t)
	err := db.Update(func(tx *Tx) error {
		for k, v := range map[string]string{
			"console.require_password": "true",
			"acd.ring_timeout":         "25s",
			"acd.max_queue":            "40",
			"site.name":                "客服中心",
			"broken.int":               "forty",
			"broken.bool":              "maybe",
			"broken.duration":          "5",
		} {
			if err := tx.SetSetting(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *Tx) error {
		type result struct {
			v   any
			err error
		}
		pack := func(v any, err error) result { return result{v, err} }
		for _, tc := range []struct {
			name    string
			got     result
			want    any
			invalid string // key named by the expected ErrInvalid, "" for none
		}{
			{"Bool set", pack(tx.Bool("console.require_password", false)), true, ""},
			{"Bool default", pack(tx.Bool("console.absent", true)), true, ""},
			{"Bool malformed", pack(tx.Bool("broken.bool", false)), false, "broken.bool"},
			{"Duration set", pack(tx.Duration("acd.ring_timeout", 0)), 25 * time.Second, ""},
			{"Duration default", pack(tx.Duration("acd.absent", time.Minute)), time.Minute, ""},
			{"Duration malformed", pack(tx.Duration("broken.duration", time.Second)), time.Second, "broken.duration"},
			{"Int set", pack(tx.Int("acd.max_queue", 0)), 40, ""},
			{"Int default", pack(tx.Int("acd.absent", 7)), 7, ""},
			{"Int malformed", pack(tx.Int("broken.int", 3)), 3, "broken.int"},
			{"String set", pack(tx.String("site.name", "")), "客服中心", ""},
			{"String default", pack(tx.String("site.absent", "callbox")), "callbox", ""},
			{"Setting set", pack(tx.Setting("acd.max_queue")), "40", ""},
		} {
			if tc.got.v != tc.want {
				t.Errorf("%s: value %v, want %v", tc.name, tc.got.v, tc.want)
			}
			if tc.invalid == "" {
				if tc.got.err != nil {
					t.Errorf("%s: %v", tc.name, tc.got.err)
				}
				continue
			}
			fe, ok := errors.AsType[*FieldError](tc.got.err)
			if !ok || !errors.Is(tc.got.err, ErrInvalid) || fe.Field != tc.invalid {
				t.Errorf("%s: error %v, want ErrInvalid naming %s", tc.name, tc.got.err, tc.invalid)
			}
		}
		if _, err := tx.Setting("site.absent"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Setting(absent) = %v, want ErrNotFound", err)
		}
		all, err := tx.Settings()
		if err != nil || len(all) != 7 || all["site.name"] != "客服中心" {
			t.Errorf("Settings() = %v, %v", all, err)
		}
		return nil
	})

	// Typed setters write what the getters read; delete is idempotent.
	err = db.Update(func(tx *Tx) error {
		for _, err := range []error{
			tx.SetInt("n", -12), tx.SetBool("b", true), tx.SetDuration("d", 90*time.Second),
			tx.DeleteSetting("site.name"), tx.DeleteSetting("site.name"),
		} {
			if err != nil {
				return err
			}
		}
		n, err1 := tx.Int("n", 0)
		b, err2 := tx.Bool("b", false)
		d, err3 := tx.Duration("d", 0)
		_, err4 := tx.Setting("site.name")
		if n != -12 || !b || d != 90*time.Second || err1 != nil || err2 != nil || err3 != nil || !errors.Is(err4, ErrNotFound) {
			t.Errorf("round trip: %d %v %v (%v %v %v %v)", n, b, d, err1, err2, err3, err4)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSettingValidation(t *testing.T) {
	db, _ := openTest(t)
	for _, tc := range []struct {
		key, value, field string
	}{
		{"", "v", "key"},
		{"Upper", "v", "key"},
		{"with space", "v", "key"},
		{strings.Repeat("k", 65), "v", "key"},
		{"ok", "\xff\xfe", "ok"},
		{"big", strings.Repeat("x", MaxSettingValueLen+1), "big"},
	} {
		err := db.Update(func(tx *Tx) error { return tx.SetSetting(tc.key, tc.value) })
		if fe, ok := errors.AsType[*FieldError](err); !ok || fe.Field != tc.field || fe.Entity != "setting" {
			t.Errorf("SetSetting(%.20q) = %v, want invalid setting %s", tc.key, err, tc.field)
		}
	}
	// The limits themselves are accepted.
	err := db.Update(func(tx *Tx) error {
		return tx.SetSetting(strings.Repeat("k", 64), strings.Repeat("x", MaxSettingValueLen))
	})
	if err != nil {
		t.Error(err)
	}
	var all map[string]string
	db.View(func(tx *Tx) (err error) { all, err = tx.Settings(); return err })
	if len(all) != 1 {
		t.Errorf("settings after validation = %d entries, want 1", len(all))
	}
}
