// Command seed fills a passkeyd database with accounts, through the store
// API (one CreateUser per account, as sign-up does), for the benchmarks
// that need a big database: startup time and memory with 100,000 users.
// The accounts' passkeys are random bytes of the real sizes; nobody can
// sign in with them (the load tool registers its own users).
//
//	go run ./bench/seed -database-url file:/tmp/bench.db -users 100000
//
// On SQLite, -bulk writes all but the first account with one INSERT ...
// SELECT per table in a single transaction: seconds instead of minutes,
// same columns and sizes (the columns it leaves out take their defaults).
//
// Used by scripts/bench.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/postgres"
	"github.com/passkeyd/passkeyd/sqlite"
)

func main() {
	dsn := flag.String("database-url", "", "file:PATH (SQLite) or postgres://... as passkeyd's DATABASE_URL")
	users := flag.Int("users", 100_000, "accounts to create")
	workers := flag.Int("concurrency", 4, "CreateUser calls in flight")
	bulk := flag.Bool("bulk", false, "SQLite only: one CreateUser, then the rest in one bulk transaction")
	flag.Parse()
	if err := seed(context.Background(), *dsn, *users, *workers, *bulk); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func seed(ctx context.Context, dsn string, n, workers int, bulk bool) error {
	var store passkeyd.Store
	var err error
	start := time.Now()
	run := strings.ToLower(rand.Text()[:8])
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		store, err = postgres.Open(ctx, dsn, postgres.PoolConfig{})
	} else {
		var s *sqlite.Store
		s, err = sqlite.Open(ctx, dsn)
		if err == nil && bulk {
			defer s.Close()
			return seedBulk(ctx, s, run, n, start)
		}
		store = s
	}
	if err != nil {
		return err
	}
	defer store.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				u, c, ev := account(fmt.Sprintf("seed-%s-%d@example.com", run, i))
				if err := store.CreateUser(ctx, u, c, ev); err != nil {
					errs <- fmt.Errorf("user %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("{\"users\":%d,\"seconds\":%.2f}\n", n, time.Since(start).Seconds())
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func account(email string) (*passkeyd.User, *passkeyd.Credential, *passkeyd.Event) {
	now := time.Now()
	u := &passkeyd.User{ID: "seed_" + rand.Text(), Email: email, DisplayName: email, Handle: randomBytes(32), CreatedAt: now, UpdatedAt: now}
	c := &passkeyd.Credential{ID: "seed_" + rand.Text(), UserID: u.ID, CredentialID: randomBytes(32), PublicKey: randomBytes(77),
		Transports: []string{"internal", "hybrid"}, AAGUID: make([]byte, 16), AttestationFormat: "none", AttestationType: "none",
		BackupEligible: true, BackupState: true, UserVerified: true, Attachment: "platform", Name: "Passkey", CreatedAt: now, UpdatedAt: now}
	ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventUserCreated, CredentialID: c.ID, IP: "127.0.0.1", UserAgent: "seed", CreatedAt: now}
	return u, c, ev
}

// seedBulk creates one account through the store, then n-1 more like it in
// one transaction of INSERT ... SELECT over a counter.
func seedBulk(ctx context.Context, s *sqlite.Store, run string, n int, start time.Time) error {
	u, c, ev := account(fmt.Sprintf("seed-%s-0@example.com", run))
	if err := s.CreateUser(ctx, u, c, ev); err != nil {
		return err
	}
	tx, err := sqlstore.DB(s).BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	prefix := "seed-" + run + "-"
	for _, q := range []string{
		`CREATE TEMP TABLE seq AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) SELECT i FROM n`,
		`INSERT INTO users (id, email, email_key, display_name, handle, created_at, updated_at)
			SELECT $2 || i, $2 || i || '@example.com', $2 || i || '@example.com', $2 || i || '@example.com', randomblob(32), $3, $3 FROM seq`,
		`INSERT INTO credentials (id, user_id, credential_id, public_key, transports, aaguid, attestation_format,
				attestation_type, backup_eligible, backup_state, user_verified, attachment, name, created_at, updated_at)
			SELECT 'pk-' || $2 || i, $2 || i, randomblob(32), randomblob(77), '["internal","hybrid"]', zeroblob(16), 'none',
				'none', 1, 1, 1, 'platform', 'Passkey', $3, $3 FROM seq`,
		`INSERT INTO events (user_id, type, credential_id, ip, user_agent, created_at)
			SELECT $2 || i, 'user_created', 'pk-' || $2 || i, '127.0.0.1', 'seed', $3 FROM seq`,
		`DROP TABLE seq`,
	} {
		if _, err := tx.ExecContext(ctx, q, n-1, prefix, now); err != nil {
			return fmt.Errorf("bulk seed: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	fmt.Printf("{\"users\":%d,\"seconds\":%.2f}\n", n, time.Since(start).Seconds())
	return nil
}
