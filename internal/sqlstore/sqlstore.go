// Package sqlstore implements passkeyd.Store once, over database/sql, for
// both SQLite and PostgreSQL. The queries are written in the SQL the two
// share: $1-style placeholders, RETURNING, ON CONFLICT ... DO NOTHING, and
// times as BIGINT unix milliseconds (0 for the zero time). What differs, how
// a driver reports a unique or foreign-key violation or a database that does
// not answer, is carried by a Dialect.
//
// Methods that write run in one transaction on Store's write pool; reads
// are single statements on its read pool, so on SQLite they never wait for
// the writer.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/pressly/goose/v3"
)

// ErrorKind is what a driver error means to the store.
type ErrorKind int

const (
	// ErrOther is any error the dialect does not recognise: a bug, reported
	// as EINTERNAL.
	ErrOther ErrorKind = iota
	// ErrUnique is a unique or primary-key violation: ECONFLICT.
	ErrUnique
	// ErrForeignKey is a row referring to one that does not exist, such as a
	// passkey for an unknown user: ENOTFOUND.
	ErrForeignKey
	// ErrUnavailable is a database that cannot answer now (refused or lost
	// connection, locked file, shutdown): EUNAVAILABLE.
	ErrUnavailable
)

// Dialect is what differs between the databases.
type Dialect struct {
	// Name names the database in error causes, e.g. "sqlite".
	Name string
	// Classify tells what a driver error means. It is only ever called from
	// Store.fail, the one place where driver errors get their codes.
	Classify func(error) ErrorKind
	// GroupCommit runs concurrent write transactions as one (see
	// groupCommit): for a database with one writer at a time.
	GroupCommit bool
	// LocalStatements says a statement is work in this process on a local
	// file that never waits for another connection: SQLite, whose write
	// transactions take the write lock at BEGIN and whose WAL readers
	// never wait for the writer. Such statements run without watching the
	// caller's context (see Store.stmtContext).
	LocalStatements bool
	// LastInsertID says the driver reports an insert's row ID
	// (sql.Result.LastInsertId), so an insert needs no RETURNING: SQLite
	// runs RETURNING through a temporary table, and each sign-in's event
	// is an insert.
	LastInsertID bool
	// Committed, when set, is called after each write transaction commits.
	// SQLite's background checkpointer waits for it (see the sqlite
	// package): it must return at once.
	Committed func()
}

// Store implements passkeyd.Store over database/sql.
type Store struct {
	db      *sql.DB // transactions; on SQLite the single writer connection
	read    *sql.DB // single-statement reads; may be db itself
	dialect Dialect

	writeStmts, readStmts stmtCache
	group                 *groupCommit // nil without Dialect.GroupCommit

	// now is the clock for timestamps a caller left zero (an event's
	// CreatedAt, for instance).
	now func() time.Time
}

// New returns a Store that writes through db and reads through read, which
// may be the same pool. The Store owns both: Close closes them.
//
// The sqlite and postgres packages embed it through an unexported alias,
// so that their Store types show exactly the methods of passkeyd.Store:
// Store must have no exported method or field beyond those.
func New(db, read *sql.DB, d Dialect) *Store {
	s := &Store{db: db, read: read, dialect: d, now: time.Now}
	if d.GroupCommit {
		s.group = &groupCommit{}
	}
	return s
}

// sqlStore lets DB find the Store inside the sqlite and postgres stores,
// which embed it: an interface with an unexported method can only be
// satisfied through this package.
func (s *Store) sqlStore() *Store { return s }

// DB returns the pool that st, a store of the sqlite or postgres package,
// writes through, or nil for any other store. It is for copy-db, which
// copies tables row by row, and for tests that look at the schema; it is
// not part of the stores' API.
func DB(st passkeyd.Store) *sql.DB {
	if x, ok := st.(interface{ sqlStore() *Store }); ok {
		return x.sqlStore().db
	}
	return nil
}

// Ping reports whether the database answers (EUNAVAILABLE if not).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return s.fail("ping", err)
	}
	if s.read != s.db {
		if err := s.read.PingContext(ctx); err != nil {
			return s.fail("ping", err)
		}
	}
	return nil
}

// Close closes the database pools.
func (s *Store) Close() error {
	var err error
	if s.read != s.db {
		err = s.read.Close()
	}
	return errors.Join(err, s.db.Close())
}

// Migrate applies the migrations in fsys that the database lacks, in order,
// each in its own transaction, and returns the names of those it applied.
// opts go to goose.NewProvider (on PostgreSQL, a session locker, so that
// several instances starting at once take turns). It is a function, not a
// method, so that it does not show among the stores' methods.
func Migrate(ctx context.Context, s *Store, dialect goose.Dialect, fsys fs.FS, opts ...goose.ProviderOption) ([]string, error) {
	opts = append([]goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}, opts...)
	p, err := goose.NewProvider(dialect, s.db, fsys, opts...)
	if err != nil {
		return nil, passkeyd.WrapError(passkeyd.EINTERNAL, "Cannot read the database migrations.", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		// A database that is down is worth waiting for; any other failure
		// needs an operator.
		if err := s.fail("migrate", err); passkeyd.ErrorCode(err) == passkeyd.EUNAVAILABLE {
			return nil, err
		}
		return nil, passkeyd.WrapError(passkeyd.EINTERNAL, "The database schema could not be migrated.",
			fmt.Errorf("%s: migrate: %w", s.dialect.Name, err))
	}
	applied := make([]string, 0, len(results))
	for _, r := range results {
		applied = append(applied, path.Base(r.Source.Path))
	}
	return applied, nil
}

// DeleteExpired removes used-challenge records, sessions, links and the
// OpenID Connect provider's requests, tokens and retired keys that expired
// at or before now, and returns how many rows it removed.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, "delete expired", func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM used_challenges WHERE expires_at <= $1`,
			`DELETE FROM sessions WHERE ` + sessionEnds + ` <= $1`,
			`DELETE FROM tokens WHERE expires_at <= $1`,
			`DELETE FROM oidc_auth_requests WHERE expires_at <= $1`,
			`DELETE FROM oidc_tokens WHERE expires_at <= $1`,
			`DELETE FROM oidc_keys WHERE retire_at <> 0 AND retire_at <= $1`,
		} {
			res, err := s.txExec(ctx, tx, q, millis(now))
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	return n, err
}

// stmtContext is the context a statement runs with. With
// Dialect.LocalStatements it is ctx without its cancellation: modernc's
// SQLite driver, and database/sql for a statement that returns rows, start
// a goroutine per statement to watch a context that can be cancelled, which
// cost more than the statements of a sign-in themselves, and there is
// nothing to wait for that a cancellation could cut short (a write
// transaction's lock is taken at BEGIN; its BEGIN runs on the group
// commit's own context). A request whose context ends still stops at the
// next database call: a grouped write is skipped when its context ended
// before its turn, and its statements, once begun, finish in microseconds.
// Interrupting one would have rolled back every write of its batch. (A read
// no longer gives up while it waits for a read connection either: those
// are held by other reads of the same local file, never by a network, so
// the wait is as short as they are.)
func (s *Store) stmtContext(ctx context.Context) context.Context {
	if s.dialect.LocalStatements {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// write runs fn in a transaction and commits it; any error is returned
// through fail.
func (s *Store) write(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	if s.group != nil {
		return s.writeGrouped(ctx, op, fn)
	}
	s.writeStmts.prepare(ctx, s.db)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return s.fail(op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.fail(op, err)
	}
	s.committed()
	return nil
}

func (s *Store) committed() {
	if s.dialect.Committed != nil {
		s.dialect.Committed()
	}
}

// fail returns err as a *passkeyd.Error. It is the one place where errors
// from database/sql and the drivers get their codes; the cause is kept, with
// op, for the logs. An *passkeyd.Error passes through unchanged.
func (s *Store) fail(op string, err error) error {
	var perr *passkeyd.Error
	if errors.As(err, &perr) {
		return err
	}
	cause := fmt.Errorf("%s: %s: %w", s.dialect.Name, op, err)
	if errors.Is(err, sql.ErrNoRows) {
		return passkeyd.WrapError(passkeyd.ENOTFOUND, "Not found.", cause)
	}
	switch s.dialect.Classify(err) {
	case ErrUnique:
		return passkeyd.WrapError(passkeyd.ECONFLICT, "It exists already.", cause)
	case ErrForeignKey:
		return passkeyd.WrapError(passkeyd.ENOTFOUND, "Not found.", cause)
	case ErrUnavailable:
		return unavailable(cause)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) ||
		err.Error() == "sql: database is closed" { // database/sql does not export this one
		return unavailable(cause)
	}
	return passkeyd.WrapError(passkeyd.EINTERNAL, "Internal error.", cause)
}

func unavailable(cause error) error {
	return passkeyd.WrapError(passkeyd.EUNAVAILABLE, "The database is unavailable. Please try again in a moment.", cause)
}

// millis is how times are stored: unix milliseconds, 0 for the zero time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of millis, in UTC.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// rowsAffected returns the number of rows res changed.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
