// Package smallfs gives tests a real, small, full-able file system: a
// tmpfs of a given size mounted on a temporary directory, so "disk full"
// is the kernel's ENOSPC through the whole stack rather than a simulation.
// Mounting needs root (CAP_SYS_ADMIN), which make test has; elsewhere the
// test is skipped with the reason.
package smallfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Mount mounts a tmpfs of size bytes on a new temporary directory and
// returns its path; it is unmounted when the test ends.
func Mount(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size))
	if errors.Is(err, syscall.EPERM) && os.Geteuid() != 0 {
		t.Skip("smallfs: mounting a small tmpfs needs root; make test runs as root")
	}
	if err != nil {
		t.Fatalf("smallfs: mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("smallfs: unmount %s: %v", dir, err)
		}
	})
	return dir
}

// Fill writes a file in dir until the file system is full and returns its
// path; removing it frees the space again.
func Fill(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("smallfs: %v", err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("smallfs: filling %s: %v", dir, err)
			}
			return path
		}
	}
}
