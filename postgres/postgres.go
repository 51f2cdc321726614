// Package postgres keeps passkeyd's data in PostgreSQL, through pgx's
// database/sql driver, so that several instances of passkeyd can share it.
// The queries are sqlstore's, shared with the sqlite package.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is passkeyd.Store on PostgreSQL. It has the methods of
// passkeyd.Store, passkeyd.OIDCStore and passkeyd.ConsoleStore, documented
// there, and Migrate; nothing else. They are
// sqlstore's, shared with the sqlite package.
type Store struct {
	*sqlStore // unexported, so that only passkeyd.Store's methods show
}

type sqlStore = sqlstore.Store

var (
	_ passkeyd.Store        = (*Store)(nil)
	_ passkeyd.OIDCStore    = (*Store)(nil)
	_ passkeyd.ConsoleStore = (*Store)(nil)
)

// PoolConfig sizes the connection pool. Zero fields take the defaults
// below; a negative value means what it means to database/sql (no limit,
// or no idle connections kept).
type PoolConfig struct {
	MaxOpenConns    int           // default DefaultMaxOpenConns
	MaxIdleConns    int           // default DefaultMaxIdleConns
	ConnMaxLifetime time.Duration // default DefaultConnMaxLifetime
	ConnMaxIdleTime time.Duration // default DefaultConnMaxIdleTime
}

// The pool defaults, for each instance; cmd/passkeyd's -database-* flags
// show them. Ten per instance leave a
// PostgreSQL server's default max_connections (100) room for several
// instances and the operator's tools.
const (
	DefaultMaxOpenConns    = 10
	DefaultMaxIdleConns    = 10
	DefaultConnMaxLifetime = 30 * time.Minute // a failover is picked up within it
	DefaultConnMaxIdleTime = 5 * time.Minute
)

// DefaultConnectTimeout bounds each connection attempt when the URL sets no
// connect_timeout, so a database that does not answer gives EUNAVAILABLE
// instead of hanging requests.
const DefaultConnectTimeout = 10 * time.Second

// Open connects to the PostgreSQL database url names ("postgres://..." or
// "postgresql://...") and brings its schema up to date.
//
// The pool reconnects by itself: while the database is down, methods return
// EUNAVAILABLE, and they work again once it is back.
func Open(ctx context.Context, url string, pool PoolConfig) (*Store, error) {
	s, err := Connect(ctx, url, pool)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Connect is Open without the migrations: the schema is used as it is. It
// does not wait for the database to answer; call Ping for that.
func Connect(ctx context.Context, url string, pool PoolConfig) (*Store, error) {
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "A PostgreSQL database URL starts with postgres:// or postgresql://.")
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// %v, not %w: the error keeps the URL, password included.
		return nil, passkeyd.WrapError(passkeyd.EINVALID, "Invalid PostgreSQL database URL.", fmt.Errorf("parse PostgreSQL URL: %v", err))
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(orDefault(pool.MaxOpenConns, DefaultMaxOpenConns))
	db.SetMaxIdleConns(orDefault(pool.MaxIdleConns, DefaultMaxIdleConns))
	db.SetConnMaxLifetime(orDefault(pool.ConnMaxLifetime, DefaultConnMaxLifetime))
	db.SetConnMaxIdleTime(orDefault(pool.ConnMaxIdleTime, DefaultConnMaxIdleTime))
	return &Store{sqlstore.New(db, db, sqlstore.Dialect{Name: "postgres", Classify: classify})}, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// Migrate applies the migrations the database lacks and returns the names
// of those it applied (none when the schema is up to date). Open calls it.
// A PostgreSQL advisory lock makes instances that start at once take turns,
// so exactly one applies each migration.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	// Try for the lock every second, for up to 5 minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, err
	}
	return sqlstore.Migrate(ctx, s.sqlStore, goose.DialectPostgres, fsys, goose.WithSessionLocker(locker))
}

// classify tells sqlstore what a pgx error means.
func classify(err error) sqlstore.ErrorKind {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505": // unique_violation
			return sqlstore.ErrUnique
		case pgErr.Code == "23503": // foreign_key_violation
			return sqlstore.ErrForeignKey
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"),          // insufficient resources: too many connections, disk full
			strings.HasPrefix(pgErr.Code, "57P"),         // shutting down, starting up
			pgErr.Code == "40001", pgErr.Code == "40P01": // serialization failure, deadlock: try again
			return sqlstore.ErrUnavailable
		}
		return sqlstore.ErrOther
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr),
		errors.As(err, &netErr),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, pgconn.ErrConnClosed),
		pgconn.SafeToRetry(err),
		pgconn.Timeout(err):
		return sqlstore.ErrUnavailable
	}
	return sqlstore.ErrOther
}
