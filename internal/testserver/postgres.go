package testserver

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// PostgresURL returns the PostgreSQL server the tests may use, from
// PASSKEYD_TEST_POSTGRES. Without it the test skips, except under CI=true,
// where it fails: a skipped PostgreSQL test would pass without testing
// anything.
func PostgresURL(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv("PASSKEYD_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	const how = "scripts/test starts a throwaway PostgreSQL and sets it; or set PASSKEYD_TEST_POSTGRES=postgres://user:password@127.0.0.1:5432/db yourself (each test works in a schema of its own)"
	if InCI() {
		t.Fatal("PASSKEYD_TEST_POSTGRES is not set, and CI must run the PostgreSQL tests: " + how)
	}
	t.Skip("PASSKEYD_TEST_POSTGRES is not set, so this PostgreSQL test is skipped: " + how)
	return ""
}

// PostgresDSN is FreshSchema(t, PostgresURL(t)): an empty schema of the
// test's own in the PASSKEYD_TEST_POSTGRES database.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return FreshSchema(t, PostgresURL(t))
}

// FreshSchema creates an empty schema with a random name in dsn's
// database, dropped when the test ends, and returns dsn with its
// search_path set to it (pgx passes unknown URL parameters to the server
// as run-time settings).
func FreshSchema(t testing.TB, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("PASSKEYD_TEST_POSTGRES is not a postgres:// URL")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", u.Redacted(), err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "passkeyd_test_" + strings.ToLower(rand.Text())
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema in %s: %v", u.Redacted(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
