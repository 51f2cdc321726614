package main

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/postgres"
	"github.com/passkeyd/passkeyd/sqlite"
)

// TestMigrateCommand runs "passkeyd migrate" on an empty database, then
// again: the first run creates the schema, the second changes nothing.
func TestMigrateCommand(t *testing.T) {
	t.Run("PostgreSQL", func(t *testing.T) {
		url := testserver.PostgresDSN(t)
		versions := func() []int64 {
			s, err := postgres.Connect(t.Context(), url, postgres.PoolConfig{})
			if err != nil {
				t.Fatalf("postgres.Connect: %v", err)
			}
			defer s.Close()
			return migrationRows(t, sqlstore.DB(s))
		}
		migrateTwice(t, map[string]string{"DATABASE_URL": url}, "postgres", versions)
		// Nothing is pending: Migrate applies nothing.
		s, err := postgres.Connect(t.Context(), url, postgres.PoolConfig{})
		if err != nil {
			t.Fatalf("postgres.Connect: %v", err)
		}
		defer s.Close()
		if applied, err := s.Migrate(t.Context()); err != nil || len(applied) != 0 {
			t.Errorf("Migrate after passkeyd migrate = %v, %v; want nothing to apply", applied, err)
		}
	})
	t.Run("SQLite", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "passkeyd.db") // DATA_DIR's default file
		versions := func() []int64 {
			s, err := sqlite.Connect(t.Context(), path)
			if err != nil {
				t.Fatalf("sqlite.Connect: %v", err)
			}
			defer s.Close()
			return migrationRows(t, sqlstore.DB(s))
		}
		migrateTwice(t, map[string]string{"DATA_DIR": dir}, "sqlite", versions)
	})
	t.Run("Unavailable", func(t *testing.T) {
		// Nothing listens on port 1: a clear error, no hang.
		err := run(t.Context(), []string{"migrate"}, env(map[string]string{"DATABASE_URL": "postgres://passkeyd@127.0.0.1:1/passkeyd?connect_timeout=2"}), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "unavailable") {
			t.Errorf("migrate with the database down = %v; want an error saying it is unavailable", err)
		}
	})
}

func migrateTwice(t *testing.T, vars map[string]string, kind string, versions func() []int64) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"migrate"}, env(vars), &stdout, &stderr); err != nil {
		t.Fatalf("passkeyd migrate: %v\n%s", err, stderr.String())
	}
	if want := kind + " database is up to date"; !strings.Contains(stdout.String(), want) {
		t.Errorf("passkeyd migrate said %q, want %q", stdout.String(), want)
	}
	first := versions()
	if len(first) < 2 {
		t.Fatalf("after passkeyd migrate, goose recorded %v; want every migration", first)
	}
	stdout.Reset()
	if err := run(t.Context(), []string{"migrate"}, env(vars), &stdout, &stderr); err != nil {
		t.Fatalf("passkeyd migrate again: %v\n%s", err, stderr.String())
	}
	if second := versions(); !slices.Equal(first, second) {
		t.Errorf("the second passkeyd migrate changed the recorded migrations from %v to %v", first, second)
	}
}

// migrationRows lists the versions goose recorded, one per applied
// migration (and goose's own version 0).
func migrationRows(t *testing.T, db *sql.DB) []int64 {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT version_id FROM goose_db_version ORDER BY id`)
	if err != nil {
		t.Fatalf("read goose_db_version: %v", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
