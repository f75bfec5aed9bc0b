// Package export pushes the box's records (call detail records, and the
// call centre's fact rows once they are kept) to the company's own
// PostgreSQL or MySQL database, for those who report from there.
//
// Each source is read in its write order from a cursor kept in the box's
// store; a batch goes in one transaction of upserts keyed by the record's
// id, and the cursor moves only after the commit. So an outage of the
// database (or of the box) resumes where it stopped: a batch committed
// just before a failure is sent again and overwrites itself, never twice
// and never with a gap.
package export

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/lib/pq" // registers "postgres" with database/sql
)

// Drivers.
const (
	Postgres = "postgres"
	MySQL    = "mysql"
)

// Settings are the outside database's, as the administrator enters them.
type Settings struct {
	Enabled  bool   `json:"enabled"`
	Driver   string `json:"driver"` // postgres or mysql
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Database string `json:"database"`
	User     string `json:"user"`
	Password string `json:"password,omitempty"`
	// TLS is "disable", "require" (encrypted, any certificate) or
	// "verify" (the certificate checked against the host name).
	TLS string `json:"tls"`
	// Prefix starts every table's name ("callbox_" when empty).
	Prefix string `json:"prefix,omitempty"`
}

// Check validates the settings, naming the field at fault.
func (s Settings) Check() error {
	switch {
	case s.Driver != Postgres && s.Driver != MySQL:
		return fmt.Errorf("export: driver %q: must be postgres or mysql", s.Driver)
	case s.Host == "" || strings.ContainsAny(s.Host, " /@?#"):
		return fmt.Errorf("export: host %q is not a host name or address", s.Host)
	case s.Port < 1 || s.Port > 65535:
		return fmt.Errorf("export: port %d: must be 1-65535", s.Port)
	case s.Database == "" || s.User == "":
		return errors.New("export: database and user are required")
	case s.TLS != "disable" && s.TLS != "require" && s.TLS != "verify":
		return fmt.Errorf("export: tls %q: must be disable, require or verify", s.TLS)
	case !identifier(s.prefix()):
		return fmt.Errorf("export: prefix %q: letters, digits and _ only", s.Prefix)
	}
	return nil
}

func (s Settings) prefix() string {
	if s.Prefix == "" {
		return "callbox_"
	}
	return s.Prefix
}

func identifier(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0) {
			return false
		}
	}
	return true
}

// dsn returns database/sql's driver name and data source name.
func (s Settings) dsn() (string, string) {
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	if s.Driver == Postgres {
		mode := map[string]string{"disable": "disable", "require": "require", "verify": "verify-full"}[s.TLS]
		u := url.URL{Scheme: "postgres", User: url.UserPassword(s.User, s.Password), Host: addr, Path: "/" + s.Database,
			RawQuery: url.Values{"sslmode": {mode}, "connect_timeout": {"10"}}.Encode()}
		return "postgres", u.String()
	}
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = s.User, s.Password, "tcp", addr, s.Database
	c.TLSConfig = map[string]string{"disable": "false", "require": "skip-verify", "verify": "true"}[s.TLS]
	c.Timeout, c.ReadTimeout, c.WriteTimeout = 10*time.Second, 30*time.Second, 30*time.Second
	c.Loc, c.ParseTime = time.UTC, true
	return "mysql", c.FormatDSN()
}

func init() {
	// The driver prints connection troubles to stderr itself; the push
	// reports the error it returns, once per change of state.
	_ = mysql.SetLogger(quiet{})
}

type quiet struct{}

func (quiet) Print(...any) {}

// Kind is a column's type.
type Kind int

// Column kinds.
const (
	Text Kind = iota
	Time      // a zero time is NULL
	Int
	Float
	JSON
)

// Column is one column of a table after its id.
type Column struct {
	Name string
	Kind Kind
}

// Table is where a source's rows go.
type Table struct {
	// Name is the table's name after the prefix ("cdr").
	Name    string
	Columns []Column
}

// Row is one record: Seq is its place in the source's write order (the
// cursor), ID its primary key, Values one per column.
type Row struct {
	Seq    uint64
	ID     string
	Values []any
}

// Source is one kind of record pushed.
type Source interface {
	Table() Table
	// After returns up to limit rows whose Seq is above seq, in Seq order.
	After(seq uint64, limit int) ([]Row, error)
}

// Cursors keeps each table's cursor in the box's store.
type Cursors interface {
	Cursor(table string) (uint64, error)
	SetCursor(table string, seq uint64) error
}

// Status is the push's state for the web admin.
type Status struct {
	State  string            `json:"state"` // disabled, connecting, ok, error
	Error  string            `json:"error,omitempty"`
	Since  time.Time         `json:"since"`
	Pushed map[string]uint64 `json:"pushed"` // rows per table since start
	Last   time.Time         `json:"last,omitzero"`
}

// Config configures a Pusher.
type Config struct {
	Sources []Source
	Cursors Cursors
	// Batch is the rows per transaction (500); Every the wait when all is
	// pushed (30 s); Retry the first wait after a failure, doubled to 5 min
	// (1 s).
	Batch        int
	Every, Retry time.Duration
	Log          *slog.Logger
}

// Pusher owns the push goroutine: Start starts it, Close stops and waits.
type Pusher struct {
	cfg  Config
	kick chan struct{}

	mu       sync.Mutex
	settings Settings
	reconf   chan struct{}
	status   Status

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a pusher; SetSettings gives it a database.
func New(cfg Config) *Pusher {
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Every <= 0 {
		cfg.Every = 30 * time.Second
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Pusher{cfg: cfg, kick: make(chan struct{}, 1), reconf: make(chan struct{}),
		status: Status{State: "disabled", Since: time.Now(), Pushed: map[string]uint64{}}}
}

// SetSettings changes the database (a settings edit): the current
// connection is closed and the new one used.
func (p *Pusher) SetSettings(s Settings) {
	p.mu.Lock()
	p.settings = s
	close(p.reconf)
	p.reconf = make(chan struct{})
	p.mu.Unlock()
}

// Kick pushes now rather than at the next interval.
func (p *Pusher) Kick() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Status returns the push's state.
func (p *Pusher) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.status
	st.Pushed = make(map[string]uint64, len(p.status.Pushed))
	for k, v := range p.status.Pushed {
		st.Pushed[k] = v
	}
	return st
}

func (p *Pusher) setState(state string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if p.status.State != state || p.status.Error != msg {
		if state == "error" {
			p.cfg.Log.Warn("export: push failed; will retry", "err", msg)
		} else if p.status.State == "error" {
			p.cfg.Log.Info("export: push resumed")
		}
		p.status.State, p.status.Error, p.status.Since = state, msg, time.Now()
	}
}

// Start runs the push until ctx ends or Close.
func (p *Pusher) Start(ctx context.Context) {
	ctx, p.cancel = context.WithCancel(ctx)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.run(ctx)
	}()
}

// Close stops the push and waits for it.
func (p *Pusher) Close() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

func (p *Pusher) run(ctx context.Context) {
	for ctx.Err() == nil {
		p.mu.Lock()
		s, reconf := p.settings, p.reconf
		p.mu.Unlock()
		if !s.Enabled {
			p.setState("disabled", nil)
			select {
			case <-ctx.Done():
			case <-reconf:
			}
			continue
		}
		if err := s.Check(); err != nil {
			p.setState("error", err)
			select {
			case <-ctx.Done():
			case <-reconf:
			}
			continue
		}
		p.setState("connecting", nil)
		p.session(ctx, s, reconf)
	}
}

// session pushes through one database handle until the settings change.
func (p *Pusher) session(ctx context.Context, s Settings, reconf <-chan struct{}) {
	driver, dsn := s.dsn()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		p.setState("error", fmt.Errorf("export: %w", err))
		return
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(time.Minute)
	d := dialect{driver: s.Driver, prefix: s.prefix()}
	schemaDone := false
	wait := p.cfg.Retry
	for {
		var err error
		more := false
		if !schemaDone {
			err = d.ensure(ctx, db, p.cfg.Sources)
			schemaDone = err == nil
		}
		if err == nil {
			more, err = p.pushOnce(ctx, db, d)
		}
		var delay time.Duration
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			p.setState("error", err)
			delay, wait = wait, min(wait*2, 5*time.Minute)
		default:
			p.setState("ok", nil)
			wait = p.cfg.Retry
			if !more {
				delay = p.cfg.Every
			}
		}
		if delay == 0 {
			continue
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-reconf:
			t.Stop()
			return
		case <-p.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// pushOnce sends one batch of every source that has rows waiting; more
// reports whether any source filled its batch.
func (p *Pusher) pushOnce(ctx context.Context, db *sql.DB, d dialect) (more bool, err error) {
	for _, src := range p.cfg.Sources {
		tbl := src.Table()
		cur, err := p.cfg.Cursors.Cursor(tbl.Name)
		if err != nil {
			return false, fmt.Errorf("export: %s cursor: %w", tbl.Name, err)
		}
		rows, err := src.After(cur, p.cfg.Batch)
		if err != nil {
			return false, fmt.Errorf("export: read %s: %w", tbl.Name, err)
		}
		if len(rows) == 0 {
			continue
		}
		if err := d.upsert(ctx, db, tbl, rows); err != nil {
			return false, err
		}
		last := rows[len(rows)-1].Seq
		if err := p.cfg.Cursors.SetCursor(tbl.Name, last); err != nil {
			// Committed but not remembered: the batch goes again and
			// overwrites itself.
			return false, fmt.Errorf("export: %s cursor: %w", tbl.Name, err)
		}
		p.mu.Lock()
		p.status.Pushed[tbl.Name] += uint64(len(rows))
		p.status.Last = time.Now()
		p.mu.Unlock()
		more = more || len(rows) == p.cfg.Batch
	}
	return more, nil
}

// dialect writes the SQL of one database kind.
type dialect struct {
	driver string
	prefix string
}

func (d dialect) table(t Table) string { return d.prefix + t.Name }

func (d dialect) colType(k Kind) string {
	pg := d.driver == Postgres
	switch k {
	case Time:
		if pg {
			return "TIMESTAMPTZ"
		}
		return "DATETIME(6)"
	case Int:
		return "BIGINT"
	case Float:
		if pg {
			return "DOUBLE PRECISION"
		}
		return "DOUBLE"
	case JSON:
		if pg {
			return "JSONB"
		}
		return "JSON"
	}
	return "TEXT"
}

// ensure creates the tables that are missing; it never alters one.
func (d dialect) ensure(ctx context.Context, db *sql.DB, srcs []Source) error {
	for _, src := range srcs {
		t := src.Table()
		cols := []string{"id VARCHAR(128) NOT NULL PRIMARY KEY"}
		for _, c := range t.Columns {
			cols = append(cols, c.Name+" "+d.colType(c.Kind))
		}
		q := "CREATE TABLE IF NOT EXISTS " + d.table(t) + " (" + strings.Join(cols, ", ") + ")"
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("export: create %s: %w", d.table(t), err)
		}
	}
	return nil
}

// upsert writes rows in one transaction, replacing rows of the same id.
func (d dialect) upsert(ctx context.Context, db *sql.DB, t Table, rows []Row) error {
	names := []string{"id"}
	for _, c := range t.Columns {
		names = append(names, c.Name)
	}
	var q strings.Builder
	args := make([]any, 0, len(rows)*len(names))
	q.WriteString("INSERT INTO " + d.table(t) + " (" + strings.Join(names, ", ") + ") VALUES ")
	for i, r := range rows {
		if len(r.Values) != len(t.Columns) {
			return fmt.Errorf("export: %s row %s: %d values for %d columns", t.Name, r.ID, len(r.Values), len(t.Columns))
		}
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		for k := range names {
			if k > 0 {
				q.WriteString(", ")
			}
			if d.driver == Postgres {
				q.WriteString("$" + strconv.Itoa(len(args)+1))
			} else {
				q.WriteByte('?')
			}
			if k == 0 {
				args = append(args, r.ID)
			} else {
				args = append(args, value(t.Columns[k-1].Kind, r.Values[k-1]))
			}
		}
		q.WriteByte(')')
	}
	var set []string
	for _, n := range names[1:] {
		if d.driver == Postgres {
			set = append(set, n+" = EXCLUDED."+n)
		} else {
			set = append(set, n+" = VALUES("+n+")")
		}
	}
	if d.driver == Postgres {
		q.WriteString(" ON CONFLICT (id) DO UPDATE SET " + strings.Join(set, ", "))
	} else {
		q.WriteString(" ON DUPLICATE KEY UPDATE " + strings.Join(set, ", "))
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("export: %s: %w", t.Name, err)
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("export: %s: %w", t.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("export: %s commit: %w", t.Name, err)
	}
	return nil
}

// value turns a Go value into what the drivers take: a zero time is NULL,
// times go in UTC.
func value(k Kind, v any) any {
	if k == Time {
		if t, ok := v.(time.Time); ok {
			if t.IsZero() {
				return nil
			}
			return t.UTC()
		}
	}
	return v
}
