package export

import (
	"database/sql"
	"testing"

	"callbox/firmware/export/dbtest"
)

// settingsFor are the pusher's settings for a server the test runs.
func settingsFor(s *dbtest.Server) Settings {
	if s.Kind() == dbtest.Postgres {
		return Settings{Enabled: true, Driver: Postgres, Host: "127.0.0.1", Port: s.Port(), Database: "postgres", User: dbtest.PostgresUser, TLS: "disable"}
	}
	return Settings{Enabled: true, Driver: MySQL, Host: "127.0.0.1", Port: s.Port(), Database: "callbox", User: dbtest.MySQLUser, Password: dbtest.MySQLPassword, TLS: "disable"}
}

// openDB is the test's own connection, to check what arrived.
func openDB(t *testing.T, s *dbtest.Server) *sql.DB {
	t.Helper()
	driver, dsn := settingsFor(s).dsn()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
