package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// testPostgres returns the PostgreSQL server the tests may use, from
// PASSKEYD_TEST_POSTGRES. Without it the tests skip, except under CI=true,
// where a skipped PostgreSQL test would pass without testing anything.
func testPostgres(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("PASSKEYD_TEST_POSTGRES")
	if dsn != "" {
		return dsn
	}
	const how = "scripts/test starts a throwaway PostgreSQL and sets it; or set PASSKEYD_TEST_POSTGRES=postgres://user:password@127.0.0.1:5432/db yourself (each test works in a schema of its own)"
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal("PASSKEYD_TEST_POSTGRES is not set, and CI must run the PostgreSQL tests: " + how)
	}
	t.Skip("PASSKEYD_TEST_POSTGRES is not set, so this PostgreSQL test is skipped: " + how)
	return ""
}

// freshSchema creates an empty schema with a random name, dropped when the
// test ends, and returns dsn with its search_path set to it.
func freshSchema(t testing.TB, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open PASSKEYD_TEST_POSTGRES: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "passkeyd_test_" + strings.ToLower(rand.Text())
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("PASSKEYD_TEST_POSTGRES is not a postgres:// URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
