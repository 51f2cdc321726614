package testserver

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// env is what passkeyd needs to run on port with a fresh SQLite file in dir.
func env(port, dir, databaseURL string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"HOST=127.0.0.1",
		"PORT=" + port,
		"WEBAUTHN_RP_ID=localhost",
		"WEBAUTHN_ORIGIN=http://localhost:" + port,
		"DATABASE_URL=" + databaseURL,
		"DATA_DIR=" + filepath.Join(dir, "data"),
		"LOG_FORMAT=text",
	}
}

func TestStartStop(t *testing.T) {
	port, dir := FreePort(t), t.TempDir()
	p := Start(t, Config{Dir: dir, Env: env(port, dir, "file:"+filepath.Join(dir, "test.db"))})
	p.WaitHealthy(t, "http://127.0.0.1:"+port+"/healthz", 30*time.Second)
	if !p.Running() || p.Pid() <= 0 {
		t.Fatalf("Running() = %v, Pid() = %d after /healthz answered", p.Running(), p.Pid())
	}
	other := "http://127.0.0.1:" + FreePort(t) + "/healthz" // nothing listens there
	if err := p.WaitOK(other, 300*time.Millisecond); err == nil || errors.Is(err, ErrExited) {
		t.Errorf("WaitOK(%s): %v; want a timeout", other, err)
	}
	if !p.Stop(20 * time.Second) {
		t.Fatal("passkeyd did not exit within 20s of SIGTERM")
	}
	if p.Running() || p.Err() != nil || !p.State().Success() {
		t.Errorf("after SIGTERM: Running() = %v, Err() = %v; want a clean exit", p.Running(), p.Err())
	}
	if p.Out == nil || !strings.Contains(p.Out.String(), "level=") {
		t.Errorf("Out does not hold passkeyd's log: %q", p.Out)
	}
}

func TestWaitOKExited(t *testing.T) {
	port, dir := FreePort(t), t.TempDir()
	bad := append(env(port, dir, "file:"+filepath.Join(dir, "test.db")), "LOG_FORMAT=nonsense") // a setting passkeyd refuses
	p := Run(t, Config{Name: "passkeyd X", Dir: dir, Env: bad}, 5*time.Second)
	err := p.WaitOK("http://127.0.0.1:"+port+"/healthz", 30*time.Second)
	if !errors.Is(err, ErrExited) || p.Err() == nil {
		t.Fatalf("WaitOK with LOG_FORMAT=nonsense: %v (exit %v); want ErrExited", err, p.Err())
	}
	if p.Name != "passkeyd X" {
		t.Errorf("Name = %q", p.Name)
	}
}

func TestPostgresDSN(t *testing.T) {
	var dsn string
	t.Run("Fresh", func(t *testing.T) {
		dsn = PostgresDSN(t)
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var schema string
		if err := db.QueryRowContext(t.Context(), "SELECT current_schema()").Scan(&schema); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(schema, "passkeyd_test_") {
			t.Fatalf("current_schema() = %q, want the fresh one", schema)
		}
		var tables int
		if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema).Scan(&tables); err != nil || tables != 0 {
			t.Fatalf("the fresh schema has %d tables (%v), want 0", tables, err)
		}
	})
	if dsn == "" {
		t.Skip("no PostgreSQL")
	}
	// After the subtest, its schema is gone.
	db, err := sql.Open("pgx", PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := u.Query().Get("search_path")
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", name).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s still exists after the test (%d, %v)", name, n, err)
	}
}
