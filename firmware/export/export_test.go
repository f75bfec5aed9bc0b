package export

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbox/firmware/export/dbtest"
)

// fakeSource is a growing list of call records.
type fakeSource struct {
	mu   sync.Mutex
	rows []Row
}

var cdrTable = Table{Name: "cdr", Columns: []Column{
	{"caller", Text}, {"callee", Text}, {"start_time", Time}, {"answer_time", Time},
	{"billable_s", Int}, {"duration_s", Float}, {"record", JSON},
}}

func (f *fakeSource) Table() Table { return cdrTable }

func (f *fakeSource) add(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	for range n {
		i := len(f.rows)
		var answer time.Time
		if i%3 != 0 {
			answer = base.Add(time.Duration(i)*time.Minute + 5*time.Second)
		}
		f.rows = append(f.rows, Row{Seq: uint64(i + 1), ID: fmt.Sprintf("call-%05d", i), Values: []any{
			"1380013" + fmt.Sprintf("%04d", i), "201", base.Add(time.Duration(i) * time.Minute), answer,
			int64(i % 300), float64(i%300) + 0.25, fmt.Sprintf(`{"legs": [{"n": %d, "name": "张三"}]}`, i),
		}})
	}
}

func (f *fakeSource) After(seq uint64, limit int) ([]Row, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if seq >= uint64(len(f.rows)) {
		return nil, nil
	}
	out := f.rows[seq:]
	return slices.Clone(out[:min(limit, len(out))]), nil
}

// cursors keep the cursor; failOnce makes one SetCursor fail after its
// batch committed, as a box losing power at that instant would.
type cursors struct {
	mu       sync.Mutex
	pos      map[string]uint64
	failOnce atomic.Bool
}

func (c *cursors) Cursor(t string) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos[t], nil
}

func (c *cursors) SetCursor(t string, seq uint64) error {
	if c.failOnce.CompareAndSwap(true, false) {
		return errors.New("store full")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pos[t] = seq
	return nil
}

func (c *cursors) get() uint64 { v, _ := c.Cursor("cdr"); return v }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pushThroughRestart is issue 12's figure: records pushed in batches, the
// database killed and started again mid-push while records keep coming,
// a cursor lost after a commit; every record arrives once, none missing.
func pushThroughRestart(t *testing.T, srv *dbtest.Server) {
	src := &fakeSource{}
	src.add(3000)
	cur := &cursors{pos: map[string]uint64{}}
	p := New(Config{Sources: []Source{src}, Cursors: cur, Batch: 100, Every: 20 * time.Millisecond, Retry: 20 * time.Millisecond})
	p.SetSettings(settingsFor(srv))
	p.Start(t.Context())
	defer p.Close()
	start := time.Now()
	waitFor(t, "a third pushed", func() bool { return cur.get() >= 1000 })
	cur.failOnce.Store(true)
	waitFor(t, "the lost cursor", func() bool { return !cur.failOnce.Load() })
	srv.Kill()
	waitFor(t, "the outage reported", func() bool { return p.Status().State == "error" })
	src.add(1000) // calls keep ending while the database is down
	time.Sleep(100 * time.Millisecond)
	at := cur.get()
	srv.Start()
	waitFor(t, "every record pushed", func() bool { return cur.get() == 4000 })
	took := time.Since(start)

	db := openDB(t, srv)
	var n, distinct int
	if err := db.QueryRow("SELECT COUNT(*), COUNT(DISTINCT id) FROM callbox_cdr").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != 4000 || distinct != 4000 {
		t.Fatalf("%d rows, %d distinct, want 4000", n, distinct)
	}
	// Values arrive as they left: a sample read back and compared.
	var caller string
	var startT time.Time
	var answer *time.Time
	var billable int64
	var dur float64
	var rec string
	q := "SELECT caller, start_time, answer_time, billable_s, duration_s, record FROM callbox_cdr WHERE id = "
	if srv.Kind() == dbtest.Postgres {
		q += "$1"
	} else {
		q += "?"
	}
	for _, i := range []int{0, 1, 2999, 3999} {
		row := src.rows[i]
		err := db.QueryRow(q, row.ID).Scan(&caller, &startT, &answer, &billable, &dur, &rec)
		if err != nil {
			t.Fatal(err)
		}
		wantAnswer := row.Values[3].(time.Time)
		if caller != row.Values[0] || !startT.Equal(row.Values[2].(time.Time)) || billable != row.Values[4] || dur != row.Values[5] ||
			(answer == nil) != wantAnswer.IsZero() || (answer != nil && !answer.Equal(wantAnswer)) || !strings.Contains(rec, "张三") {
			t.Errorf("row %s came back as %q %v %v %d %v %s", row.ID, caller, startT, answer, billable, dur, rec)
		}
	}
	t.Logf("%s: 4000 records in batches of 100, the server killed at record %d and started again, a cursor lost after a commit: 4000 rows, none twice, in %v",
		srv.Kind(), at, took.Round(time.Millisecond))
}

func TestPushPostgresThroughRestart(t *testing.T) {
	pushThroughRestart(t, dbtest.StartPostgres(t))
}

func TestPushMySQLThroughRestart(t *testing.T) {
	pushThroughRestart(t, dbtest.StartMariaDB(t))
}

func TestSettingsCheck(t *testing.T) {
	good := Settings{Driver: Postgres, Host: "db.example.com", Port: 5432, Database: "crm", User: "box", TLS: "verify"}
	if err := good.Check(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Settings){
		"driver":      func(s *Settings) { s.Driver = "sqlite" },
		"host":        func(s *Settings) { s.Host = "a@b" },
		"port":        func(s *Settings) { s.Port = 0 },
		"no database": func(s *Settings) { s.Database = "" },
		"tls":         func(s *Settings) { s.TLS = "maybe" },
		"prefix":      func(s *Settings) { s.Prefix = "x; DROP TABLE y" },
	} {
		s := good
		mod(&s)
		if s.Check() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A password with URL and DSN specials survives both forms.
	s := good
	s.Password = "p@ss:/w?rd#"
	if _, dsn := s.dsn(); !strings.Contains(dsn, "p%40ss%3A%2Fw%3Frd%23") {
		t.Errorf("postgres dsn %s", dsn)
	}
	s.Driver = MySQL
	if _, dsn := s.dsn(); !strings.HasPrefix(dsn, "box:p@ss:/w?rd#@tcp(db.example.com:5432)/crm?") {
		t.Errorf("mysql dsn %s", dsn)
	}
}
