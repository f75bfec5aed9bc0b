package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// baseFile is a small but multi-page store: users, settings, one value
// spanning overflow pages, and freed pages from an overwrite.
var baseFile = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "store-base")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "base.db")
	db, err := Open(path)
	if err != nil {
		return nil, err
	}
	for round := range 2 {
		err = db.Update(func(tx *Tx) error {
			for i := range 40 {
				u := User{Login: fmt.Sprintf("agent%02d", i), DisplayName: "坐席", Role: RoleAgent, PasswordHash: "h"}
				if round == 0 {
					if err := tx.CreateUser(u); err != nil {
						return err
					}
				} else if err := tx.UpdateUser(u); err != nil {
					return err
				}
			}
			return tx.SetSetting("big", strings.Repeat("x", 9000+round))
		})
		if err != nil {
			return nil, err
		}
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
})

// snapshot reads everything the store holds, for comparison.
func snapshot(db *DB) (string, error) {
	var b strings.Builder
	err := db.View(func(tx *Tx) error {
		users, err := tx.Users()
		if err != nil {
			return err
		}
		settings, err := tx.Settings()
		fmt.Fprintf(&b, "%v %v", users, settings)
		return err
	})
	return b.String(), err
}

// FuzzOpen writes patch at pos into a valid store file and truncates it to
// cut bytes (0: no truncation), then opens it. Invariants: no panic; an
// unchanged file opens with its contents intact; a damaged file either
// fails to open with ErrCorrupt (or ErrNewerSchema, if the damage
// hit the version) or opens into a store whose reads either
// succeed or fail cleanly and which still takes a write and reopens.
func FuzzOpen(f *testing.F) {
	base, err := baseFile()
	if err != nil {
		f.Fatal(err)
	}
	page := uint32(os.Getpagesize())
	f.Add(uint32(0), []byte{}, uint32(0))
	for _, cut := range []uint32{1, 100, page, 2 * page, 3*page + 17, uint32(len(base)) - page, uint32(len(base)) - 1} {
		f.Add(uint32(0), []byte{}, cut)
	}
	// Page headers, meta fields, element headers, keys and values.
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		p := make([]byte, 1+r.IntN(8))
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		pg := uint32(r.IntN(len(base) / int(page)))
		f.Add(pg*page+uint32(r.IntN(64)), p, uint32(0))
		f.Add(uint32(r.IntN(len(base))), p[:1], uint32(0))
	}
	want := ""
	f.Fuzz(func(t *testing.T, pos uint32, patch []byte, cut uint32) {
		data := bytes.Clone(base)
		if len(patch) > 0 {
			pos %= uint32(len(data))
			copy(data[pos:], patch)
		}
		if cut > 0 {
			data = data[:cut%uint32(len(data))]
		}
		path := filepath.Join(t.TempDir(), "fuzz.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		unchanged := bytes.Equal(data, base)
		db, err := Open(path)
		if err != nil {
			if unchanged {
				t.Fatalf("unchanged file did not open: %v", err)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNewerSchema) {
				t.Fatalf("damaged file: error %v wraps neither ErrCorrupt nor ErrNewerSchema", err)
			}
			return
		}
		got, err := snapshot(db)
		if unchanged {
			if want == "" {
				want = got
			}
			if err != nil || got != want {
				t.Fatalf("unchanged file reads %v / differently", err)
			}
		}
		if err := db.Update(func(tx *Tx) error { return tx.SetSetting("after", "write") }); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Logf("write on damaged store: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db, err = Open(path)
		if err != nil {
			t.Fatalf("store that opened and took a write no longer opens: %v", err)
		}
		db.Close()
	})
}
