package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// envKillChild switches the test binary into the writer child of
// TestKill9Durability; its value is the store path.
const envKillChild = "CALLBOX_STORE_KILL9_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(envKillChild); path != "" {
		if err := killChild(path); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Each record i is a user r000i plus, in the same transaction, a blob
// setting in slot i%blobSlots whose size varies up to several pages (so
// commits allocate, free and reuse overflow pages) and a "next" counter.
const (
	blobSlots = 8
	keyNext   = "kill9.next"
)

func recordUser(i int) User {
	login := fmt.Sprintf("r%06d", i)
	sum := sha256.Sum256([]byte(login))
	return User{Login: login, DisplayName: fmt.Sprintf("记录 %d", i), Role: RoleAgent, PasswordHash: hex.EncodeToString(sum[:])}
}

func blobKey(i int) string { return fmt.Sprintf("kill9.blob.%d", i%blobSlots) }

// blob is "i:" followed by a pseudo-random length of bytes derived from i.
func blob(i int) string {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	b := []byte(strconv.Itoa(i) + ":")
	for n := r.IntN(3 * 4096); n > 0; n-- {
		b = append(b, 'a'+byte(r.IntN(26)))
	}
	return string(b)
}

// killChild writes records forever, printing each index only after the
// Update that wrote it returned.
func killChild(path string) error {
	db, err := Open(path)
	if err != nil {
		return err
	}
	var next int
	if err := db.View(func(tx *Tx) (err error) { next, err = tx.Int(keyNext, 0); return err }); err != nil {
		return err
	}
	for i := next; ; i++ {
		err := db.Update(func(tx *Tx) error {
			if err := tx.CreateUser(recordUser(i)); err != nil {
				return err
			}
			if err := tx.SetSetting(blobKey(i), blob(i)); err != nil {
				return err
			}
			return tx.SetInt(keyNext, i+1)
		})
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(os.Stdout, i); err != nil {
			return err
		}
	}
}

// TestKill9Durability kills a writing child with SIGKILL at random moments
// and checks after each kill that every record whose Update had returned
// is present and intact, and that no transaction is half applied.
func TestKill9Durability(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	const kills = 60
	t.Run(fmt.Sprintf("kills=%d", kills), func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "callbox.db")
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		acked := -1 // highest acknowledged index
		var midWrite int
		next := 0 // records found by the last verification
		start := time.Now()
		for k := range kills {
			n, err := runAndKill(path, k, rng)
			if err != nil {
				t.Fatalf("kill %d: %v", k, err)
			}
			if n >= 0 {
				midWrite++
				if n < acked {
					t.Fatalf("kill %d: child acknowledged %d after %d: it did not resume", k, n, acked)
				}
				acked = n
			}
			if next, err = verifyRecords(path, acked, next); err != nil {
				t.Fatalf("after kill %d (%d records acknowledged): %v", k, acked+1, err)
			}
		}
		if midWrite < kills/2 {
			t.Errorf("only %d of %d kills came after a first acknowledged write", midWrite, kills)
		}
		t.Logf("%d kills (%d while writing), %d records acknowledged and verified, %v",
			kills, midWrite, acked+1, time.Since(start).Round(time.Millisecond))
	})
}

// TestKill9DuringCreate kills children a few milliseconds after they
// start on a new file, so that some die while creating and migrating it:
// the store must then open, empty or with its acknowledged records.
func TestKill9DuringCreate(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	const kills = 12
	t.Run(fmt.Sprintf("kills=%d", kills), func(t *testing.T) {
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
		var creating int
		for k := range kills {
			path := filepath.Join(t.TempDir(), "callbox.db")
			acked, err := runAndKill(path, 3, rng) // 3: kill counted from the start
			if err != nil {
				t.Fatalf("kill %d: %v", k, err)
			}
			if strays, _ := filepath.Glob(path + ".new-*"); len(strays) > 0 {
				creating++
			}
			if _, err := verifyRecords(path, acked, 0); err != nil {
				t.Fatalf("kill %d: %v", k, err)
			}
			if strays, _ := filepath.Glob(path + ".new-*"); len(strays) > 0 {
				t.Errorf("kill %d: Open left %v behind", k, strays)
			}
		}
		t.Logf("%d kills, %d of them while the file was being created", kills, creating)
	})
}

// runAndKill starts a child, kills it, and returns the highest index it
// acknowledged (-1 for none). Most kills land a random 0-40 ms after the
// first acknowledged write; every fourth lands a random 0-10 ms after the
// start, so opening and first-time creation get killed too.
func runAndKill(path string, k int, rng *rand.Rand) (int, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envKillChild+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	lines := make(chan int)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() { // a line is counted only once its newline arrived
			if i, err := strconv.Atoi(sc.Text()); err == nil {
				lines <- i
			}
		}
	}()
	delay := time.Duration(rng.IntN(40_000)) * time.Microsecond
	last := -1
	var timer <-chan time.Time
	if k%4 == 3 {
		timer = time.After(delay / 4)
	} else {
		timer = time.After(10 * time.Second) // until the first ack re-arms it
	}
	deadline := time.After(20 * time.Second)
wait:
	for {
		select {
		case i, ok := <-lines:
			if !ok {
				lines = nil // the child died on its own; Wait reports why
				break wait
			}
			if last < 0 && k%4 != 3 {
				timer = time.After(delay)
			}
			last = i
		case <-timer:
			break wait
		case <-deadline:
			break wait
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	for i := range lines { // drain what was acknowledged before death
		last = i
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		return last, fmt.Errorf("child exited without being killed (%v): %s", err, stderr.Bytes())
	}
	return last, nil
}

// verifyRecords opens the store and checks that records 0..acked, and all
// that the previous verification found (prev of them), are intact; that
// the counter agrees with the users; and that at most one unacknowledged
// write (the one in flight at the kill) was added. It returns the counter.
func verifyRecords(path string, acked, prev int) (next int, err error) {
	db, err := Open(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	// bbolt's own consistency check (page reachability, freelist) as a
	// second opinion beside Open's: safe here, the file is undamaged.
	err = db.bolt.View(func(tx *bolt.Tx) (first error) {
		for err := range tx.Check() { // drain: Check's goroutine sends them all
			if first == nil {
				first = fmt.Errorf("bbolt check: %w", err)
			}
		}
		return first
	})
	if err != nil {
		return 0, err
	}
	return next, db.View(func(tx *Tx) error {
		next, err = tx.Int(keyNext, 0)
		if err != nil {
			return err
		}
		if next < acked+1 || next < prev || next > max(prev, acked+1)+1 {
			return fmt.Errorf("counter %d, acknowledged up to %d, previously %d", next, acked, prev)
		}
		users, err := tx.Users()
		if err != nil {
			return err
		}
		if len(users) != next {
			return fmt.Errorf("%d users, counter %d: a transaction was half applied", len(users), next)
		}
		for i, u := range users {
			want := recordUser(i)
			if u.Login != want.Login || u.DisplayName != want.DisplayName || u.PasswordHash != want.PasswordHash || u.Role != want.Role {
				return fmt.Errorf("record %d damaged: %+v", i, u)
			}
		}
		for i := max(0, next-blobSlots); i < next; i++ {
			got, err := tx.Setting(blobKey(i))
			if err != nil {
				return err
			}
			if got != blob(i) {
				return fmt.Errorf("blob %d damaged (%d bytes, want %d)", i, len(got), len(blob(i)))
			}
		}
		return nil
	})
}
