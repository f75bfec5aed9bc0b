package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callbox/firmware/internal/smallfs"
)

// TestNoSpace fills a real tmpfs under the store: the failing write gives
// ErrNoSpace, keeps nothing and raises NoSpaceSince; the store stays
// readable and whole; once space is freed the next write succeeds and the
// alarm clears; the file reopens clean.
func TestNoSpace(t *testing.T) {
	dir := smallfs.Mount(t, 1<<20)
	path := filepath.Join(dir, "callbox.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	if err := db.Update(func(tx *Tx) error { return tx.SetSetting("kept", "before the disk filled") }); err != nil {
		t.Fatal(err)
	}
	if _, full := db.NoSpaceSince(); full {
		t.Fatal("alarm before the disk filled")
	}
	filler := smallfs.Fill(t, dir)
	big := strings.Repeat("x", 64<<10)
	var werr error
	for i := 0; i < 64 && werr == nil; i++ {
		werr = db.Update(func(tx *Tx) error { return tx.SetSetting("big."+string(rune('a'+i%26))+string(rune('a'+i/26)), big) })
	}
	if !errors.Is(werr, ErrNoSpace) {
		t.Fatalf("write on a full disk = %v, want ErrNoSpace", werr)
	}
	if !strings.HasPrefix(werr.Error(), "store: no space left for the store: ") {
		t.Errorf("error text %q", werr)
	}
	since, full := db.NoSpaceSince()
	if !full || since.IsZero() {
		t.Fatal("no alarm after a failed write")
	}
	// Still readable, nothing lost.
	if err := db.View(func(tx *Tx) error {
		v, err := tx.Setting("kept")
		if err == nil && v != "before the disk filled" {
			t.Errorf("kept = %q", v)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// A second failure keeps the first time.
	db.Update(func(tx *Tx) error { return tx.SetSetting("big.again", big) })
	if again, _ := db.NoSpaceSince(); !again.Equal(since) {
		t.Errorf("alarm time moved from %v to %v", since, again)
	}
	// Free the space: writes work again and the alarm clears.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *Tx) error { return tx.SetSetting("after", "space freed") }); err != nil {
		t.Fatalf("write after freeing space: %v", err)
	}
	if _, full := db.NoSpaceSince(); full {
		t.Fatal("alarm still raised after a successful write")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path) // verifies every page
	if err != nil {
		t.Fatalf("reopen after the full disk: %v", err)
	}
	db.View(func(tx *Tx) error {
		for k, want := range map[string]string{"kept": "before the disk filled", "after": "space freed"} {
			if v, err := tx.Setting(k); err != nil || v != want {
				t.Errorf("%s = %q, %v", k, v, err)
			}
		}
		return nil
	})
}
