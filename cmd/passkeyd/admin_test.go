package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/sqlite"
)

// TestAdminCommandsNeedAnInstallation: the commands that administer an
// existing installation, run without the server's settings (from another
// directory), refuse with an error naming the setting, and create neither
// a database nor a secret.
func TestAdminCommandsNeedAnInstallation(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // DATA_DIR defaults to ./data
	for _, args := range [][]string{
		{"users", "list"},
		{"users", "show", "ada@example.com"},
		{"users", "recovery-link", "ada@example.com"},
		{"users", "disable", "ada@example.com"},
		{"clients", "list"},
		{"clients", "add", "-name", "Grafana", "-redirect-uri", "https://grafana.example.com/cb"},
		{"clients", "delete", "grafana", "-yes"},
		{"oidc", "rotate-keys"},
		{"oidc", "rotate-keys", "-now"},
		{"users", "admin", "ada@example.com"},
		{"groups", "list"},
		{"groups", "add", "ops"},
		{"groups", "members", "ops", "-add", "ada@example.com"},
		{"api-keys", "add", "-name", "terraform"},
		{"api-keys", "list"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), args, env(nil), &out, &out)
		if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") && !strings.Contains(err.Error(), "SESSION_SECRET") {
			t.Errorf("passkeyd %s with no installation: %v, want an error naming DATABASE_URL or SESSION_SECRET\n%s", strings.Join(args, " "), err, out.String())
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("passkeyd %s with no installation left %v in the working directory", strings.Join(args, " "), entries)
		}
	}

	// The server's database, but no secret: the commands that need one say so.
	vars := map[string]string{"DATA_DIR": filepath.Join(dir, "srv")}
	addUser(t, filepath.Join(dir, "srv", "passkeyd.db"), "ada@example.com")
	for _, args := range [][]string{{"oidc", "rotate-keys"}, {"users", "recovery-link", "ada@example.com"}} {
		err := run(context.Background(), args, env(vars), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "SESSION_SECRET") {
			t.Errorf("passkeyd %s without the secret: %v, want an error naming SESSION_SECRET", strings.Join(args, " "), err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "srv", "session-secret")); err == nil {
		t.Error("an admin command generated a session secret")
	}
}

// TestRotateKeysWithAnotherSecret: rotate-keys with a secret that is not
// the server's (it opens none of the stored keys) is refused, naming the
// setting, and the keys stay as they were.
func TestRotateKeysWithAnotherSecret(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	serverSecret := strings.Repeat("s", 32)
	vars := map[string]string{"DATA_DIR": dir, "SESSION_SECRET": serverSecret}
	addUser(t, filepath.Join(dir, "passkeyd.db"), "ada@example.com")
	if err := run(ctx, []string{"oidc", "rotate-keys", "-now"}, env(vars), &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatalf("rotate-keys with the server's secret: %v", err)
	}
	keys := func() []*passkeyd.OIDCKey {
		t.Helper()
		store, err := sqlite.Open(ctx, "file:"+filepath.Join(dir, "passkeyd.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		list, err := store.ListOIDCKeys(ctx, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	before := keys()
	if len(before) == 0 {
		t.Fatal("no keys after rotate-keys")
	}

	vars["SESSION_SECRET"] = strings.Repeat("w", 32)
	for _, args := range [][]string{{"oidc", "rotate-keys", "-now"}, {"oidc", "rotate-keys"}, {"users", "recovery-link", "ada@example.com"}} {
		err := run(ctx, args, env(vars), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "SESSION_SECRET") {
			t.Errorf("passkeyd %s with another secret: %v, want an error naming SESSION_SECRET", strings.Join(args, " "), err)
		}
	}
	if diff := cmp.Diff(before, keys()); diff != "" {
		t.Errorf("rotate-keys with another secret changed the keys (-before +after):\n%s", diff)
	}
}

// addUser makes the database at path (as the server would at its first
// start) with one account.
func addUser(t *testing.T, path, email string) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now()
	u := &passkeyd.User{ID: "u-1", Email: email, Handle: []byte("u-1"), CreatedAt: now, UpdatedAt: now}
	c := &passkeyd.Credential{ID: "u-1-key", UserID: u.ID, CredentialID: []byte("u-1-cred"), PublicKey: []byte{1}, Name: "Laptop", CreatedAt: now}
	if err := store.CreateUser(ctx, u, c, nil); err != nil {
		t.Fatal(err)
	}
}

// TestAdminCommandsNeedPostgresTables: on PostgreSQL, a database without
// passkeyd's tables is no installation: the admin commands refuse it,
// naming DATABASE_URL, and create no table.
func TestAdminCommandsNeedPostgresTables(t *testing.T) {
	dsn := testserver.PostgresDSN(t) // an empty schema
	vars := map[string]string{"DATABASE_URL": dsn, "SESSION_SECRET": strings.Repeat("s", 32), "DATA_DIR": t.TempDir()}
	for _, args := range [][]string{{"users", "list"}, {"clients", "list"}, {"oidc", "rotate-keys"}, {"groups", "list"}, {"api-keys", "list"}} {
		err := run(context.Background(), args, env(vars), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
			t.Errorf("passkeyd %s on an empty PostgreSQL schema: %v, want an error naming DATABASE_URL", strings.Join(args, " "), err)
		}
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("the admin commands left %d tables in the empty schema", tables)
	}
	// Once the server (here: migrate) made the installation, they work.
	if err := run(context.Background(), []string{"migrate"}, env(vars), &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	for _, args := range [][]string{{"clients", "list"}, {"groups", "add", "ops"}, {"groups", "list"}, {"api-keys", "add", "-name", "ci"}, {"api-keys", "list"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, env(vars), &out, &out); err != nil {
			t.Errorf("passkeyd %s on the migrated database: %v\n%s", strings.Join(args, " "), err, out.String())
		}
	}
}
