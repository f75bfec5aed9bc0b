// Package dbtest runs real database servers for tests: PostgreSQL and
// MariaDB from Debian's packages (make deps installs them), each in a
// temporary directory on a free loopback port, as an unprivileged user
// when the test runs as root. The export package's tests and the daemon's
// end-to-end tests push to them.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the readiness probe of MariaDB
)

// The server kinds, as the export package's drivers are named.
const (
	Postgres = "postgres"
	MySQL    = "mysql"
)

// The accounts the servers are made with.
const (
	PostgresUser  = "callbox" // trust authentication; database "postgres"
	MySQLUser     = "callbox" // password MySQLPassword; database "callbox"
	MySQLPassword = "pw"
)

// Server is a real database server run by a test: PostgreSQL or MariaDB
// from Debian's packages, in a temporary directory, on a free loopback
// port, as an unprivileged user when the test runs as root.
type Server struct {
	t       *testing.T
	kind    string
	dir     string
	port    int
	cred    *syscall.Credential
	cmd     *exec.Cmd
	exited  chan struct{}
	binPath func(string) string
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// findBin looks for a server program on PATH, then where Debian puts it.
func findBin(t *testing.T, name, pkg string, globs ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, g := range globs {
		if m, _ := filepath.Glob(filepath.Join(g, name)); len(m) > 0 {
			return m[len(m)-1]
		}
	}
	t.Fatalf("%s not found: install Debian's %s package (make deps)", name, pkg)
	return ""
}

// asUser picks the account the server runs as: the test's own, or for
// root (which both servers refuse) the packaged server account.
func asUser(t *testing.T, account string, dir string) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(account)
	if err != nil {
		u, err = user.Lookup("nobody")
		if err != nil {
			t.Fatal("no unprivileged account to run the database server as")
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	}); err != nil {
		t.Fatal(err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

func (s *Server) run(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	return cmd
}

// StartPostgres runs initdb and postgres.
func StartPostgres(t *testing.T) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	pgbin := []string{"/usr/lib/postgresql/*/bin"}
	initdb := findBin(t, "initdb", "postgresql", pgbin...)
	postgres := findBin(t, "postgres", "postgresql", pgbin...)
	dir, err := os.MkdirTemp("", "callbox-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{t: t, kind: Postgres, dir: dir, port: freePort(t)}
	s.cred = asUser(t, "postgres", dir)
	out, err := s.run(initdb, "-D", filepath.Join(dir, "data"), "-U", PostgresUser, "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput()
	if err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	s.binPath = func(string) string { return postgres }
	s.Start()
	return s
}

// StartMariaDB runs mariadb-install-db and mariadbd.
func StartMariaDB(t *testing.T) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a MariaDB server")
	}
	install := findBin(t, "mariadb-install-db", "mariadb-server", "/usr/bin")
	mariadbd := findBin(t, "mariadbd", "mariadb-server", "/usr/sbin")
	dir, err := os.MkdirTemp("", "callbox-my-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{t: t, kind: MySQL, dir: dir, port: freePort(t)}
	s.cred = asUser(t, "mysql", dir)
	account := "root"
	if s.cred != nil {
		u, _ := user.LookupId(strconv.Itoa(int(s.cred.Uid)))
		account = u.Username
	} else if u, err := user.Current(); err == nil {
		account = u.Username
	}
	out, err := s.run(install, "--no-defaults", "--datadir="+filepath.Join(dir, "data"), "--user="+account,
		"--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput()
	if err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	s.binPath = func(string) string { return mariadbd }
	s.Start()
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/", s.port))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"CREATE DATABASE callbox", "CREATE USER '" + MySQLUser + "'@'%' IDENTIFIED BY '" + MySQLPassword + "'", "GRANT ALL ON callbox.* TO '" + MySQLUser + "'@'%'"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return s
}

// Start runs the server and waits until it takes connections.
func (s *Server) Start() {
	t := s.t
	var cmd *exec.Cmd
	if s.kind == Postgres {
		cmd = s.run(s.binPath(""), "-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(s.port),
			"-k", s.dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")
	} else {
		cmd = s.run(s.binPath(""), "--no-defaults", "--datadir="+filepath.Join(s.dir, "data"),
			"--port="+strconv.Itoa(s.port), "--bind-address=127.0.0.1", "--socket="+filepath.Join(s.dir, "sock"),
			"--pid-file="+filepath.Join(s.dir, "pid"), "--innodb-flush-log-at-trx-commit=2")
	}
	logf, err := os.Create(filepath.Join(os.TempDir(), fmt.Sprintf("callbox-%s-%d.log", s.kind, s.port)))
	if err == nil {
		cmd.Stdout, cmd.Stderr = logf, logf
		t.Cleanup(func() { logf.Close(); os.Remove(logf.Name()) })
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", s.kind, err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.port), time.Second)
		if err == nil {
			c.Close()
			if s.kind == Postgres || s.ready() {
				return
			}
		}
		select {
		case <-s.exited:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("%s exited at start:\n%s", s.kind, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start in a minute", s.kind)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) ready() bool {
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/", s.port))
	if err != nil {
		return false
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return db.PingContext(ctx) == nil
}

// Kill crashes the server (SIGKILL to its process group), as a power cut
// of the database host would.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
}

func (s *Server) Stop() {
	select {
	case <-s.exited:
	default:
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.Kill()
		}
	}
}

// Kind is Postgres or MySQL.
func (s *Server) Kind() string { return s.kind }

// Port is the server's loopback TCP port.
func (s *Server) Port() int { return s.port }
