package postgres

import (
	"context"
	"crypto/rand"
	"io"
	"io/fs"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/storetest"
	"github.com/pressly/goose/v3"
)

// The PostgreSQL test helpers, shared with the other packages' tests.
var (
	testDSN     = testserver.PostgresURL // PASSKEYD_TEST_POSTGRES; without it the test skips (fails under CI=true)
	freshSchema = testserver.FreshSchema // an empty schema of the test's own, dropped when it ends
)

// mustOpen opens a migrated store on dsn, closed when the test ends.
func mustOpen(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, PoolConfig{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T) passkeyd.Store {
		return mustOpen(t, freshSchema(t, dsn))
	})
}

func TestOIDCStore(t *testing.T) {
	dsn := testDSN(t)
	storetest.RunOIDC(t, func(t *testing.T) passkeyd.Store {
		return mustOpen(t, freshSchema(t, dsn))
	})
	// Two instances (two pools) on one database: a code issued through
	// one is redeemed through the other, redemptions racing on both let
	// exactly one through, and so do first keys.
	t.Run("TwoInstances", func(t *testing.T) {
		schema := freshSchema(t, dsn)
		a, b := mustOpen(t, schema), mustOpen(t, schema)
		t.Run("RedeemOnOther", func(t *testing.T) { storetest.OIDCCodeOnOtherInstance(t, a, b) })
		t.Run("Race", func(t *testing.T) { storetest.OIDCCodeRace(t, a, b) })
		t.Run("KeyRace", func(t *testing.T) { storetest.OIDCKeyRace(t, a, b) })
	})
}

func TestConsoleStore(t *testing.T) {
	dsn := testDSN(t)
	storetest.RunConsole(t, func(t *testing.T) passkeyd.Store {
		return mustOpen(t, freshSchema(t, dsn))
	})
}

// TestConcurrentOpen starts several instances at once on one empty schema:
// the advisory lock lets exactly one apply the migration, and none fails.
func TestConcurrentOpen(t *testing.T) {
	dsn := freshSchema(t, testDSN(t))
	// Create goose's version table beforehand, as a previous release
	// would have: the instances then all find migration 1 pending at once,
	// instead of taking turns by chance while creating the table.
	first, err := Connect(t.Context(), dsn, PoolConfig{})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer first.Close()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlstore.DB(first), fsys)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := p.GetDBVersion(t.Context()); err != nil || v != 0 {
		t.Fatalf("GetDBVersion = %d, %v; want 0", v, err)
	}

	const n = 4
	stores := make([]*Store, n)
	applied := make([][]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := Connect(t.Context(), dsn, PoolConfig{})
			if err != nil {
				errs[i] = err
				return
			}
			stores[i] = s
			applied[i], errs[i] = s.Migrate(t.Context())
		})
	}
	wg.Wait()
	var all []string
	for i := range n {
		if stores[i] != nil {
			t.Cleanup(func() { stores[i].Close() })
		}
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		all = append(all, applied[i]...)
	}
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	if !slices.Equal(all, files) {
		t.Errorf("the instances applied %v, want each of %v exactly once", applied, files)
	}
	// They share one database.
	u, c := testUser("alice@example.com")
	if err := stores[0].CreateUser(t.Context(), u, c, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if _, err := stores[n-1].FindUserByID(t.Context(), u.ID); err != nil {
		t.Fatalf("FindUserByID on another instance: %v", err)
	}
}

// TestUnavailable: a database that does not answer gives EUNAVAILABLE, not
// a panic nor a hang.
func TestUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	dsn := "postgres://passkeyd@" + addr + "/passkeyd?sslmode=disable"

	_, err = Open(t.Context(), dsn, PoolConfig{})
	if got, want := passkeyd.ErrorCode(err), passkeyd.EUNAVAILABLE; got != want {
		t.Errorf("Open: code %q, want %q (%v)", got, want, err)
	}
	s, err := Connect(t.Context(), dsn, PoolConfig{})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer s.Close()
	if got, want := passkeyd.ErrorCode(s.Ping(t.Context())), passkeyd.EUNAVAILABLE; got != want {
		t.Errorf("Ping: code %q, want %q", got, want)
	}
	_, err = s.FindUserByID(t.Context(), "x")
	if got, want := passkeyd.ErrorCode(err), passkeyd.EUNAVAILABLE; got != want {
		t.Errorf("FindUserByID: code %q, want %q (%v)", got, want, err)
	}
	err = s.RecordEvent(t.Context(), &passkeyd.Event{Type: passkeyd.EventLoginFailed})
	if got, want := passkeyd.ErrorCode(err), passkeyd.EUNAVAILABLE; got != want {
		t.Errorf("RecordEvent: code %q, want %q (%v)", got, want, err)
	}
}

// TestRecovers cuts the store off its database mid-life (through a TCP
// proxy it connects through), expects EUNAVAILABLE, then restores the link
// and expects the store to work again without being reopened.
func TestRecovers(t *testing.T) {
	dsn := freshSchema(t, testDSN(t))
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	target := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	network := "tcp"
	if strings.HasPrefix(cfg.Host, "/") {
		network, target = "unix", cfg.Host+"/.s.PGSQL."+strconv.Itoa(int(cfg.Port))
	}
	p := startProxy(t, "127.0.0.1:0", network, target)
	u, _ := url.Parse(dsn)
	u.Host = p.addr
	q := u.Query()
	q.Del("host")
	q.Del("port")
	q.Set("connect_timeout", "5")
	u.RawQuery = q.Encode()
	s := mustOpen(t, u.String())

	user, c := testUser("alice@example.com")
	if err := s.CreateUser(t.Context(), user, c, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}

	p.stop()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if got, want := passkeyd.ErrorCode(s.Ping(ctx)), passkeyd.EUNAVAILABLE; got != want {
		t.Errorf("Ping while down: code %q, want %q", got, want)
	}
	_, err = s.FindUserByID(ctx, user.ID)
	if got, want := passkeyd.ErrorCode(err), passkeyd.EUNAVAILABLE; got != want {
		t.Errorf("FindUserByID while down: code %q, want %q (%v)", got, want, err)
	}

	startProxy(t, p.addr, network, target)
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := s.FindUserByID(ctx, user.ID)
		if err == nil {
			break
		}
		if passkeyd.ErrorCode(err) != passkeyd.EUNAVAILABLE || time.Now().After(deadline) {
			t.Fatalf("FindUserByID after the database came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := s.RecordEvent(t.Context(), &passkeyd.Event{UserID: user.ID, Type: passkeyd.EventLoginFailed}); err != nil {
		t.Fatalf("RecordEvent after the database came back: %v", err)
	}
}

func TestConnectInvalid(t *testing.T) {
	for _, dsn := range []string{"mysql://x", "sqlite:x.db", "postgres://u:secret@host:notaport/db"} {
		_, err := Connect(t.Context(), dsn, PoolConfig{})
		if got, want := passkeyd.ErrorCode(err), passkeyd.EINVALID; got != want {
			t.Errorf("Connect(%q): code %q, want %q", dsn, got, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("Connect(%q): the error shows the password: %v", dsn, err)
		}
	}
}

// proxy forwards TCP connections to the database until stopped.
type proxy struct {
	addr  string
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t testing.TB, addr, network, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &proxy{addr: ln.Addr().String(), ln: ln}
	t.Cleanup(p.stop)
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial(network, target)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, server)
			p.mu.Unlock()
			go pipe(client, server)
			go pipe(server, client)
		}
	}()
	return p
}

// stop stops listening and cuts every connection, like a database that
// went down.
func (p *proxy) stop() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	dst.Close()
}

func testUser(email string) (*passkeyd.User, *passkeyd.Credential) {
	u := &passkeyd.User{ID: "usr_" + rand.Text(), Email: email, Handle: []byte(rand.Text())}
	c := &passkeyd.Credential{ID: "pk_" + rand.Text(), UserID: u.ID, CredentialID: []byte(rand.Text()), PublicKey: []byte{1}}
	return u, c
}

// One pool default, the one the CLI and the README name: 10 connections.
func TestPoolDefaults(t *testing.T) {
	// Connect does not dial, so no database is needed.
	s, err := Connect(t.Context(), "postgres://u@127.0.0.1:1/db", PoolConfig{})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer s.Close()
	if got, want := sqlstore.DB(s).Stats().MaxOpenConnections, DefaultMaxOpenConns; got != want || want != 10 {
		t.Errorf("default pool: %d connections, want %d (10, as documented)", got, want)
	}
}

// TestProfileMigration: migration 00012 clears the display names sign-up
// filled in with the address (apps would receive it as the name claim),
// and keeps the others.
func TestProfileMigration(t *testing.T) {
	ctx := t.Context()
	s, err := Connect(ctx, freshSchema(t, testDSN(t)), PoolConfig{})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer s.Close()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlstore.DB(s), fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 11); err != nil {
		t.Fatalf("migrate up to 00011: %v", err)
	}
	for _, u := range []struct{ id, email, name string }{
		{"a", "Alice@Example.com", "Alice@Example.com"}, // as sign-up set it
		{"b", "bob@example.com", "old-bob@example.net"}, // an address changed since
		{"c", "carol@example.com", "Carol"},
	} {
		if _, err := sqlstore.DB(s).ExecContext(ctx, `INSERT INTO users (id, email, email_key, display_name, handle, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, 1, 1)`, u.id, u.email, passkeyd.EmailKey(u.email), u.name, []byte(u.id)); err != nil {
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

// TestConsoleMigration: migration 00013 lets an admin setup link belong to
// no account and keeps every link; down drops the setup links (the older
// constraint refuses them) and keeps the others, and up again works.
func TestConsoleMigration(t *testing.T) {
	ctx := t.Context()
	s, err := Connect(ctx, freshSchema(t, testDSN(t)), PoolConfig{})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer s.Close()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlstore.DB(s), fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 12); err != nil {
		t.Fatalf("migrate up to 00012: %v", err)
	}
	db := sqlstore.DB(s)
	if _, err := db.ExecContext(ctx, `INSERT INTO users (id, email, email_key, handle, created_at, updated_at) VALUES ('alice', 'alice@example.com', 'alice@example.com', 'h', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO tokens (id, user_id, purpose, email, created_at, expires_at)
		VALUES ('recovery', 'alice', 'recovery', 'alice@example.com', 1, 9999999999999), ('sign-up', NULL, 'sign_up', 'bob@example.com', 1, 9999999999999)`); err != nil {
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
		if err := s.ClaimAdminSetup(ctx, "setup", "alice", time.Now(), nil); err != nil {
			t.Fatalf("%s: ClaimAdminSetup: %v", step, err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE id IN ('recovery', 'sign-up')`).Scan(&n); err != nil || n != 2 {
			t.Errorf("%s: the links of accounts and sign-up: %d, %v; want both kept", step, n, err)
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
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil || n != 2 {
		t.Errorf("tokens after down to 00012: %d, %v; want the 2 links of accounts and sign-up", n, err)
	}
	up("up again")
}
