package sqlite

import (
	"crypto/rand"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/storetest"
)

// mustOpen opens a migrated store in a new file under t.TempDir() and
// closes it when the test ends.
func mustOpen(t testing.TB) *Store {
	t.Helper()
	return mustOpenPath(t, filepath.Join(t.TempDir(), "passkeyd.db"))
}

func mustOpenPath(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) passkeyd.Store { return mustOpen(t) })
}

func TestOIDCStore(t *testing.T) {
	storetest.RunOIDC(t, func(t *testing.T) passkeyd.Store { return mustOpen(t) })
}

func TestConsoleStore(t *testing.T) {
	storetest.RunConsole(t, func(t *testing.T) passkeyd.Store { return mustOpen(t) })
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passkeyd.db")
	ctx := t.Context()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	u, c := testUser("alice@example.com")
	if err := s.CreateUser(ctx, u, c, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = mustOpenPath(t, path)
	got, err := s.FindUserByEmail(ctx, "alice@example.com")
	if err != nil {
		t.Fatalf("FindUserByEmail after reopening: %v", err)
	}
	if got.ID != u.ID {
		t.Errorf("found user %s, want %s", got.ID, u.ID)
	}
	// Open migrated already; doing it again is a no-op.
	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if len(applied) != 0 {
		t.Errorf("Migrate applied %v again", applied)
	}
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	s, err := Connect(ctx, filepath.Join(t.TempDir(), "passkeyd.db"))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer s.Close()
	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if len(applied) == 0 || applied[0] != "00001_init.sql" {
		t.Errorf("Migrate applied %v, want 00001_init.sql first", applied)
	}
	if again, err := s.Migrate(ctx); err != nil || len(again) != 0 {
		t.Errorf("second Migrate = %v, %v; want nothing applied", again, err)
	}
}

// TestWAL checks that the pragmas hold: the database is in WAL mode (a -wal
// file appears on write) and foreign keys are enforced.
func TestWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passkeyd.db")
	s := mustOpenPath(t, path)
	u, c := testUser("alice@example.com")
	if err := s.CreateUser(t.Context(), u, c, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no WAL file: %v", err)
	}
	var mode string
	if err := sqlstore.DB(s).QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := sqlstore.DB(s).QueryRowContext(t.Context(), "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	// The writer keeps group commit's sub-journals in memory (see Connect).
	var temp int
	if err := sqlstore.DB(s).QueryRowContext(t.Context(), "PRAGMA temp_store").Scan(&temp); err != nil || temp != 2 {
		t.Errorf("temp_store = %d, %v; want 2 (memory)", temp, err)
	}
	// The writer never checkpoints: the checkpointer does (TestCheckpointer).
	var autocheckpoint int
	if err := sqlstore.DB(s).QueryRowContext(t.Context(), "PRAGMA wal_autocheckpoint").Scan(&autocheckpoint); err != nil || autocheckpoint != 0 {
		t.Errorf("wal_autocheckpoint = %d, %v; want 0", autocheckpoint, err)
	}
}

// TestCheckpointer checks that writes reach the database file without a
// checkpoint by the writer (it has none, TestWAL) nor closing the store:
// the checkpointer copies them from the WAL.
func TestCheckpointer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passkeyd.db")
	first, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	u, c := testUser("alice@example.com")
	if err := first.CreateUser(t.Context(), u, c, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := first.Close(); err != nil { // the last connection's close empties the WAL
		t.Fatal(err)
	}
	s, err := Connect(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	before := fileSize(t, path)
	for range 300 {
		if err := s.RecordEvent(t.Context(), &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventLoginFailed, UserAgent: strings.Repeat("x", 200)}); err != nil {
			t.Fatalf("RecordEvent: %v", err)
		}
	}
	// Polled: the checkpointer runs when it likes, after the writes.
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, path) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the database file stayed at %d bytes after 300 writes: nothing was checkpointed", before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCheckpointerRestart: a restart of the WAL gives up soon when a
// reader stays in it (a backup, say) rather than holding the writer up,
// leaves the writer waiting for other processes as long as before, and
// starts the WAL over once the reader is gone.
func TestCheckpointerRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passkeyd.db")
	open := func(extra url.Values) *sql.DB {
		db, err := sql.Open("sqlite", dataSource(path, extra))
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { db.Close() })
		return db
	}
	writer := open(url.Values{"_pragma": {"wal_autocheckpoint(0)"}})
	reader := open(nil)
	c := newCheckpointer(open(nil), writer) // not told of writes: it runs only when called
	t.Cleanup(func() { c.close() })
	ctx := t.Context()
	for _, q := range []string{`CREATE TABLE t (x TEXT)`, `INSERT INTO t VALUES (hex(randomblob(5000)))`, `INSERT INTO t VALUES ('x')`} {
		if _, err := writer.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	walFrames := func() int64 {
		t.Helper()
		var busy, frames, copied int64
		if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
			t.Fatal(err)
		}
		return frames
	}
	before := walFrames() // which copies them all: the next write is the reader's to hold
	if _, err := writer.ExecContext(ctx, `INSERT INTO t VALUES ('z')`); err != nil {
		t.Fatal(err)
	}

	tx, err := reader.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if restarted, err := c.restart(ctx); err != nil || restarted {
		t.Errorf("restart with a reader in the WAL = %v, %v; want false (given up), no error", restarted, err)
	}
	var timeout int64
	if err := writer.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&timeout); err != nil || timeout != busyTimeout.Milliseconds() {
		t.Errorf("the writer's busy_timeout after the restart = %d, %v; want %d", timeout, err, busyTimeout.Milliseconds())
	}
	tx.Rollback()

	if restarted, err := c.restart(ctx); err != nil || !restarted {
		t.Fatalf("restart with no reader = %v, %v; want true", restarted, err)
	}
	if _, err := writer.ExecContext(ctx, `INSERT INTO t VALUES ('y')`); err != nil {
		t.Fatal(err)
	}
	if after := walFrames(); after >= before {
		t.Errorf("the WAL holds %d pages after the restart and one write, %d before: it did not start over", after, before)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestTwoProcesses opens the file twice, as a server and `passkeyd
// migrate` or a second server would, and writes through both at once:
// busy_timeout and BEGIN IMMEDIATE must keep SQLITE_BUSY from reaching the
// caller.
func TestTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passkeyd.db")
	a, b := mustOpenPath(t, path), mustOpenPath(t, path)
	u, c := testUser("alice@example.com")
	if err := a.CreateUser(t.Context(), u, c, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	const n = 40
	errs := make(chan error, n)
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		go func() {
			errs <- s.RecordEvent(t.Context(), &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventLoginFailed})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("RecordEvent: %v", err)
		}
	}
	events, err := b.ListEvents(t.Context(), u.ID, 0, 100)
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if len(events) != n {
		t.Errorf("%d events, want %d", len(events), n)
	}
}

// TestSignInOtherUsersCredential: a session is only opened for the owner of
// the passkey that signed in.
func TestSignInOtherUsersCredential(t *testing.T) {
	s := mustOpen(t)
	ctx := t.Context()
	alice, aliceCred := testUser("alice@example.com")
	bob, bobCred := testUser("bob@example.com")
	for _, x := range []struct {
		u *passkeyd.User
		c *passkeyd.Credential
	}{{alice, aliceCred}, {bob, bobCred}} {
		if err := s.CreateUser(ctx, x.u, x.c, nil); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}
	now := time.Now()
	err := s.CompleteSignIn(ctx, &passkeyd.SignIn{
		Challenge: passkeyd.UsedChallenge{ID: "chl", ExpiresAt: time.Now().Add(time.Hour)},
		Use:       passkeyd.CredentialUse{CredentialID: bobCred.CredentialID, SignCount: 1, UsedAt: now},
		Session:   &passkeyd.Session{ID: "s1", UserID: alice.ID, Scope: passkeyd.ScopeFull, IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)},
	})
	if got, want := passkeyd.ErrorCode(err), passkeyd.ENOTFOUND; got != want {
		t.Fatalf("CompleteSignIn with another user's passkey: code %q, want %q (%v)", got, want, err)
	}
}

func TestPath(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "x.db")
	for _, tc := range []struct {
		dsn, want string
	}{
		{"file:./dev.db", "dev.db"},
		{"file:dev.db", "dev.db"},
		{"file://" + abs, abs},
		{"sqlite:passkey.db", "passkey.db"},
		{"sqlite:data/passkey.db", "data/passkey.db"},
		{"sqlite://" + abs, abs},
		{"SQLite:" + abs, abs},
		{"passkey.db", "passkey.db"},
		{abs, abs},
	} {
		got, err := Path(tc.dsn)
		if err != nil || got != filepath.FromSlash(tc.want) {
			t.Errorf("Path(%q) = %q, %v; want %q", tc.dsn, got, err, tc.want)
		}
	}
	for _, dsn := range []string{"", "file:", ":memory:", "sqlite::memory:", "file:dev.db?mode=ro", "file://host/x.db"} {
		if _, err := Path(dsn); passkeyd.ErrorCode(err) != passkeyd.EINVALID {
			t.Errorf("Path(%q) error %v, want EINVALID", dsn, err)
		}
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s := mustOpenPath(t, "file:"+filepath.Join(dir, "dev.db"))
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dev.db")); err != nil {
		t.Fatalf("database file: %v", err)
	}
}

// TestOddPath opens a file whose name needs escaping in a URI.
func TestOddPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "with space %41 #1 ü", "pass keyd.db")
	mustOpenPath(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at %q: %v", path, err)
	}
}

func TestClosed(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "passkeyd.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.Close()
	_, err = s.FindUserByID(t.Context(), "x")
	if got, want := passkeyd.ErrorCode(err), passkeyd.EUNAVAILABLE; got != want {
		t.Errorf("FindUserByID on a closed store: code %q, want %q (%v)", got, want, err)
	}
}

func testUser(email string) (*passkeyd.User, *passkeyd.Credential) {
	u := &passkeyd.User{ID: "usr_" + rand.Text(), Email: email, Handle: []byte(rand.Text())}
	c := &passkeyd.Credential{ID: "pk_" + rand.Text(), UserID: u.ID, CredentialID: []byte(rand.Text()), PublicKey: []byte{1}}
	return u, c
}

// migratedTo opens a new database in t.TempDir() migrated up to version
// alone, as an older passkeyd left it, and returns it with the migration
// provider, so a test can write rows of that schema and migrate on.
func migratedTo(t *testing.T, version int64) (*Store, *goose.Provider) {
	t.Helper()
	s, err := Connect(t.Context(), filepath.Join(t.TempDir(), "passkeyd.db"))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, sqlstore.DB(s), fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), version); err != nil {
		t.Fatalf("migrate up to %05d: %v", version, err)
	}
	return s, p
}

// TestSessionsMigration upgrades a database with sessions across migration
// 00008, which rebuilds the sessions table: every session survives, with
// every column, and the expiry queries use the new index. Down and up again
// keep them too.
func TestSessionsMigration(t *testing.T) {
	ctx := t.Context()
	s, p := migratedTo(t, 7)
	now := time.Now().UTC().Truncate(time.Millisecond)
	// The account as the schema of 00007 holds it (CreateUser writes the
	// columns of the latest schema).
	u, c := testUser("alice@example.com")
	if _, err := sqlstore.DB(s).ExecContext(ctx, `INSERT INTO users (id, email, email_key, handle, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 1)`,
		u.ID, u.Email, passkeyd.EmailKey(u.Email), u.Handle); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.DB(s).ExecContext(ctx, `INSERT INTO credentials (id, user_id, credential_id, public_key, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 1)`,
		c.ID, u.ID, c.CredentialID, c.PublicKey); err != nil {
		t.Fatal(err)
	}
	live := &passkeyd.Session{ID: "live", UserID: u.ID, Scope: passkeyd.ScopeFull, CredentialID: c.ID, UserAgent: "ua", IP: "192.0.2.1",
		CreatedAt: now, LastSeenAt: now.Add(time.Second), AuthenticatedAt: now.Add(2 * time.Second),
		IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour)}
	idle := &passkeyd.Session{ID: "idle", UserID: u.ID, Scope: passkeyd.ScopeRecovery, CreatedAt: now,
		IdleExpiresAt: now.Add(time.Minute), ExpiresAt: now.Add(2 * time.Hour)}
	for i, ss := range []*passkeyd.Session{live, idle} {
		err := s.CompleteSignIn(ctx, &passkeyd.SignIn{
			Challenge: passkeyd.UsedChallenge{ID: fmt.Sprint("chl", i), ExpiresAt: now.Add(time.Hour)},
			Use:       passkeyd.CredentialUse{CredentialID: c.CredentialID, UsedAt: now},
			Session:   ss,
		})
		if err != nil {
			t.Fatalf("CompleteSignIn: %v", err)
		}
	}
	check := func(step string) {
		t.Helper()
		// The session's row, read without FindSession, whose join reads
		// the users columns of the latest schema.
		got := &passkeyd.Session{}
		var created, seen, authenticated, idleExpires, expires int64
		err := sqlstore.DB(s).QueryRowContext(ctx, `SELECT id, user_id, scope, credential_id, user_agent, ip,
			created_at, last_seen_at, authenticated_at, idle_expires_at, expires_at FROM sessions WHERE id = ?`, live.ID).
			Scan(&got.ID, &got.UserID, &got.Scope, &got.CredentialID, &got.UserAgent, &got.IP, &created, &seen, &authenticated, &idleExpires, &expires)
		if err != nil {
			t.Fatalf("%s: the session's row: %v", step, err)
		}
		got.CreatedAt, got.LastSeenAt, got.AuthenticatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(seen).UTC(), time.UnixMilli(authenticated).UTC()
		got.IdleExpiresAt, got.ExpiresAt = time.UnixMilli(idleExpires).UTC(), time.UnixMilli(expires).UTC()
		if diff := cmp.Diff(live, got); diff != "" {
			t.Errorf("%s: session (-before +after):\n%s", step, diff)
		}
		if n, err := s.CountActiveSessions(ctx, now.Add(30*time.Minute)); err != nil || n != 1 {
			t.Errorf("%s: CountActiveSessions after the idle one ended = %d, %v; want 1", step, n, err)
		}
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	check("after 00008")
	var ddl string
	if err := sqlstore.DB(s).QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sessions'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ddl, "WITHOUT ROWID") {
		t.Errorf("sessions after 00008: %s; want WITHOUT ROWID", ddl)
	}
	var plan string
	if err := sqlstore.DB(s).QueryRowContext(ctx, `EXPLAIN QUERY PLAN SELECT COUNT(*) FROM sessions WHERE (CASE WHEN idle_expires_at < expires_at THEN idle_expires_at ELSE expires_at END) > 0`).Scan(new(int), new(int), new(int), &plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "sessions_ends_at") {
		t.Errorf("counting active sessions: plan %q; want it to use sessions_ends_at", plan)
	}
	if _, err := p.DownTo(ctx, 7); err != nil {
		t.Fatalf("migrate down to 00007: %v", err)
	}
	check("down to 00007")
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	check("up again")
	if n, err := s.DeleteExpired(ctx, now.Add(30*time.Minute)); err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1 (the idle session)", n, err)
	}
}

// TestKeyGenerationMigration upgrades a database holding signing keys made
// at once by racing instances (same algorithm, same instant) across
// migration 00010: each gets its own generation, in the order they were
// made, and the next generation is the only one that may be added.
func TestKeyGenerationMigration(t *testing.T) {
	ctx := t.Context()
	s, _ := migratedTo(t, 9)
	for _, k := range []struct {
		id, alg string
		created int64
	}{{"rs-b", "RS256", 1000}, {"rs-a", "RS256", 1000}, {"rs-c", "RS256", 900}, {"es", "ES256", 1000}} {
		if _, err := sqlstore.DB(s).ExecContext(ctx, `INSERT INTO oidc_keys (id, algorithm, private_key, created_at) VALUES ($1, $2, x'01', $3)`,
			k.id, k.alg, k.created); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	keys, err := s.ListOIDCKeys(ctx, time.UnixMilli(0))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, k := range keys {
		got[k.ID] = k.Generation
	}
	if want := map[string]int64{"rs-c": 1, "rs-a": 2, "rs-b": 3, "es": 1}; !cmp.Equal(got, want) {
		t.Errorf("generations after 00010: %v, want %v", got, want)
	}
	add := func(gen int64) error {
		return s.AddOIDCKey(ctx, &passkeyd.OIDCKey{ID: fmt.Sprint("rs-", gen), Algorithm: "RS256", PrivateKey: []byte{1}, Generation: gen}, time.UnixMilli(2000))
	}
	if err := add(3); passkeyd.ErrorCode(err) != passkeyd.ECONFLICT {
		t.Errorf("adding generation 3 again: %v, want ECONFLICT", err)
	}
	if err := add(4); err != nil {
		t.Errorf("adding generation 4: %v", err)
	}
}

// TestProfileMigration: migration 00012 clears the display names sign-up
// filled in with the address (apps would receive it as the name claim),
// and keeps the others.
func TestProfileMigration(t *testing.T) {
	ctx := t.Context()
	s, _ := migratedTo(t, 11)
	for _, u := range []struct{ id, email, name string }{
		{"a", "Alice@Example.com", "Alice@Example.com"}, // as sign-up set it
		{"b", "bob@example.com", "old-bob@example.net"}, // an address changed since
		{"c", "carol@example.com", "Carol"},
	} {
		if _, err := sqlstore.DB(s).ExecContext(ctx, `INSERT INTO users (id, email, email_key, display_name, handle, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 1, 1)`, u.id, u.email, passkeyd.EmailKey(u.email), u.name, []byte(u.id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	for id, want := range map[string]string{"a": "", "b": "", "c": "Carol"} {
		u, err := s.FindUserByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if u.DisplayName != want || u.Username != "" {
			t.Errorf("user %s after the migration: name %q, username %q; want %q and none", id, u.DisplayName, u.Username, want)
		}
	}
}

// TestConsoleMigration: migration 00013, which rebuilds tokens so that an
// admin setup link may belong to no account, keeps every link, and down
// and up again keep them too (down drops the setup links, which the older
// schema cannot hold).
func TestConsoleMigration(t *testing.T) {
	ctx := t.Context()
	s, p := migratedTo(t, 12)
	u, c := testUser("alice@example.com")
	if err := s.CreateUser(ctx, u, c, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.DB(s).ExecContext(ctx, `INSERT INTO tokens (id, user_id, purpose, email, created_at, expires_at)
		VALUES ('recovery', ?, 'recovery', 'alice@example.com', 1, 9999999999999), ('sign-up', NULL, 'sign_up', 'bob@example.com', 1, 9999999999999)`, u.ID); err != nil {
		t.Fatal(err)
	}
	up := func(step string) {
		t.Helper()
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatalf("%s: Migrate: %v", step, err)
		}
		if err := s.SaveToken(ctx, &passkeyd.Token{ID: "setup", Purpose: passkeyd.TokenAdminSetup, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatalf("%s: SaveToken(admin setup): %v", step, err)
		}
		if err := s.ClaimAdminSetup(ctx, "setup", u.ID, time.Now(), nil); err != nil {
			t.Fatalf("%s: ClaimAdminSetup: %v", step, err)
		}
		for id, purpose := range map[string]passkeyd.TokenPurpose{"recovery": passkeyd.TokenRecovery, "sign-up": passkeyd.TokenSignUp} {
			var n int
			if err := sqlstore.DB(s).QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE id = ? AND purpose = ?`, id, string(purpose)).Scan(&n); err != nil || n != 1 {
				t.Errorf("%s: the %s link: %d, %v; want it kept", step, id, n, err)
			}
		}
	}
	up("up")
	if err := s.SaveToken(ctx, &passkeyd.Token{ID: "setup-2", Purpose: passkeyd.TokenAdminSetup, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 12); err != nil {
		t.Fatalf("migrate down to 00012: %v", err)
	}
	var n int
	if err := sqlstore.DB(s).QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil || n != 2 {
		t.Errorf("tokens after down to 00012: %d, %v; want the 2 links of accounts and sign-up", n, err)
	}
	if _, err := sqlstore.DB(s).ExecContext(ctx, `INSERT INTO tokens (id, user_id, purpose, email, created_at, expires_at) VALUES ('x', NULL, 'admin_setup', '', 1, 2)`); err == nil {
		t.Error("00012's tokens took an admin setup link")
	}
	up("up again")
}
