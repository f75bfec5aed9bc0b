package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// fill adds n users and n settings in one transaction.
func fill(b *testing.B, db *DB, n int) {
	b.Helper()
	err := db.Update(func(tx *Tx) error {
		for i := range n {
			u := User{Login: fmt.Sprintf("agent%05d", i), DisplayName: "坐席 " + fmt.Sprint(i), Role: RoleAgent,
				PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			if err := tx.SetInt(fmt.Sprintf("bench.key%05d", i), i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkOpen measures Open of a store with 10,000 users and 10,000
// settings: the integrity check (page walk and record walk) dominates.
func BenchmarkOpen(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	fill(b, db, 10000)
	size, _ := db.Size()
	db.Close()
	b.ResetTimer()
	for b.Loop() {
		db, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/open")
	b.ReportMetric(float64(size)/(1<<20), "MiB")
}

// BenchmarkUserLookup is the web admin's per-request cost: one View and
// one user read and decode.
func BenchmarkUserLookup(b *testing.B) {
	db, err := open(filepath.Join(b.TempDir(), "bench.db"), migrations, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	fill(b, db, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if err := db.View(func(tx *Tx) error { _, err := tx.User("agent00500"); return err }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommit is one durable Update (fdatasync included): what every
// configuration change costs.
func BenchmarkCommit(b *testing.B) {
	db, err := open(filepath.Join(b.TempDir(), "bench.db"), migrations, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	i := 0
	for b.Loop() {
		i++
		if err := db.Update(func(tx *Tx) error { return tx.SetInt("bench.counter", i) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}
