// Package sqlite keeps passkeyd's data in one SQLite file, through the
// pure-Go driver modernc.org/sqlite (no cgo). It is the default store, for a
// single instance; use the postgres package to run several.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/pressly/goose/v3"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is passkeyd.Store on SQLite. It has the methods of passkeyd.Store,
// passkeyd.OIDCStore and passkeyd.ConsoleStore, documented there, and
// Migrate; nothing else. They are sqlstore's, shared
// with the postgres package.
type Store struct {
	*sqlStore // unexported, so that only passkeyd.Store's methods show

	checkpoints *checkpointer
}

type sqlStore = sqlstore.Store

var (
	_ passkeyd.Store        = (*Store)(nil)
	_ passkeyd.OIDCStore    = (*Store)(nil)
	_ passkeyd.ConsoleStore = (*Store)(nil)
)

// Open opens (creating it if missing) the SQLite database dsn names and
// brings its schema up to date. dsn is a path, "sqlite:PATH" or
// "file:PATH" (the form of Prisma's DATABASE_URL, e.g. "file:./dev.db");
// relative paths are relative to the working directory, and a missing
// parent directory is created.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s, err := Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Connect is Open without the migrations: the schema is used as it is.
func Connect(ctx context.Context, dsn string) (*Store, error) {
	path, err := Path(dsn)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, passkeyd.WrapError(passkeyd.EUNAVAILABLE, "Cannot create the database directory.", err)
	}

	// SQLite allows one writer at a time. Writes go through a pool of one
	// connection, so this process's writers queue in database/sql rather
	// than spin on SQLITE_BUSY, and begin with BEGIN IMMEDIATE: taking the
	// write lock at BEGIN, not at the first write, means a transaction
	// never fails half-way when it upgrades a read lock that another
	// process's writer made stale.
	//
	// Its temporary files are kept in memory: group commit runs each write
	// in a savepoint, and SQLite keeps the pages a savepoint may have to
	// restore in a sub-journal, which past 64 KiB (a batch of a few
	// sign-ins) it spills to a temporary file, opened, written page by page
	// and closed at every commit. That cost more system calls than the
	// commit's own WAL writes; in memory it is a copy, bounded by the pages
	// one batch changes.
	//
	// It never checkpoints the WAL: a checkpointer does, on a connection of
	// its own (see checkpointer).
	db, err := sql.Open("sqlite", dataSource(path, url.Values{
		"_txlock": {"immediate"},
		"_pragma": {"temp_store(MEMORY)", "wal_autocheckpoint(0)"},
	}))
	if err != nil {
		return nil, passkeyd.WrapError(passkeyd.EINVALID, "Invalid SQLite database.", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	// Reads are single statements on a pool of read-only connections, which
	// WAL lets run beside the writer.
	read, err := sql.Open("sqlite", dataSource(path, url.Values{"_query_only": {"1"}}))
	if err != nil {
		db.Close()
		return nil, passkeyd.WrapError(passkeyd.EINVALID, "Invalid SQLite database.", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)

	ckpt, err := sql.Open("sqlite", dataSource(path, nil))
	if err != nil {
		db.Close()
		read.Close()
		return nil, passkeyd.WrapError(passkeyd.EINVALID, "Invalid SQLite database.", err)
	}
	ckpt.SetMaxOpenConns(1)
	checkpoints := newCheckpointer(ckpt, db)

	s := &Store{
		sqlStore: sqlstore.New(db, read, sqlstore.Dialect{
			Name:            "sqlite",
			Classify:        classify,
			GroupCommit:     true,
			LocalStatements: true,
			LastInsertID:    true,
			Committed:       checkpoints.committed,
		}),
		checkpoints: checkpoints,
	}
	// Ping connects the writer first, so it creates the file and switches
	// it to WAL before the read-only connections open it.
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the checkpointer and closes the database.
func (s *Store) Close() error {
	return errors.Join(s.checkpoints.close(), s.sqlStore.Close())
}

// Migrate applies the migrations the database lacks and returns the names
// of those it applied (none when the schema is up to date). Open calls it.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	applied, err := sqlstore.Migrate(ctx, s.sqlStore, goose.DialectSQLite3, fsys)
	if len(applied) > 0 {
		s.checkpoints.committed()
	}
	return applied, err
}

// Path returns the file path a DSN accepted by Open names.
func Path(dsn string) (string, error) {
	p := strings.TrimSpace(dsn)
	for _, scheme := range []string{"sqlite:", "sqlite3:", "file:"} {
		if len(p) >= len(scheme) && strings.EqualFold(p[:len(scheme)], scheme) {
			p = p[len(scheme):]
			// file:///abs/path and sqlite:///abs/path: an empty authority.
			if rest, ok := strings.CutPrefix(p, "//"); ok {
				p = rest
				if !strings.HasPrefix(p, "/") {
					return "", passkeyd.Errorf(passkeyd.EINVALID, "SQLite database %q: a host is not allowed; use %s///absolute/path or %s./relative/path.", dsn, scheme, scheme)
				}
			}
			break
		}
	}
	if strings.Contains(p, "?") {
		return "", passkeyd.Errorf(passkeyd.EINVALID, "SQLite database %q: options are not supported; passkeyd sets its own.", dsn)
	}
	if p == "" || p == ":memory:" || strings.HasPrefix(p, ":") {
		return "", passkeyd.Errorf(passkeyd.EINVALID, "SQLite database %q: give the path of a file.", dsn)
	}
	return filepath.Clean(p), nil
}

// busyTimeout is how long a connection waits for another process's lock
// (see dataSource).
const busyTimeout = 5 * time.Second

// dataSource returns the modernc.org/sqlite DSN of the file at path: an
// absolute file: URI, which escapes any '?', '#' or '%' in the path, with
// the pragmas every connection needs and the parameters in extra.
func dataSource(path string, extra url.Values) string {
	// The pragmas:
	//   - WAL lets readers go on while one connection writes, instead of
	//     blocking each other.
	//   - synchronous=NORMAL is safe under WAL: a power cut can lose the
	//     transactions committed since the last checkpoint's sync, but never
	//     corrupts the database. It saves an fsync per commit.
	//   - foreign_keys is off by default in SQLite; the schema's REFERENCES
	//     (a passkey needs its user) and ON DELETE CASCADE depend on it.
	//   - busy_timeout makes a connection wait up to 5 s for another
	//     process's write lock (e.g. `passkeyd migrate` running beside the
	//     server) instead of failing at once with SQLITE_BUSY.
	params := url.Values{
		"_journal_mode": {"WAL"},
		"_synchronous":  {"NORMAL"},
		"_foreign_keys": {"1"},
		"_busy_timeout": {strconv.FormatInt(busyTimeout.Milliseconds(), 10)},
	}
	for k, v := range extra {
		params[k] = v
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: params.Encode()}
	if !strings.HasPrefix(u.Path, "/") { // a Windows drive letter
		u.Path = "/" + u.Path
	}
	return u.String()
}

// classify tells sqlstore what a modernc.org/sqlite error means.
func classify(err error) sqlstore.ErrorKind {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return sqlstore.ErrOther
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqlstore.ErrUnique
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlstore.ErrForeignKey
	}
	switch e.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL:
		return sqlstore.ErrUnavailable
	}
	return sqlstore.ErrOther
}
