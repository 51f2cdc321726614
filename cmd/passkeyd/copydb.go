package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/postgres"
	"github.com/passkeyd/passkeyd/sqlite"
)

const copyDBUsage = `passkeyd copy-db: copy a SQLite database into PostgreSQL

  passkeyd copy-db -from sqlite:PATH -to postgres://USER:PASSWORD@HOST/DB

Copies every user, passkey, session, security-log entry, emailed link and
recovery code, and the OpenID Connect clients, consents, tokens and signing
keys, with their IDs, bytes, times and flags unchanged, in one PostgreSQL
transaction: either all of it is copied or nothing is. Ceremonies in
progress live in the browsers' cookies and go on working; the records of
used challenges are copied, so none completes twice. OpenID Connect
sign-ins in progress are not copied: they last minutes, and a user who was
in the middle of one simply starts again.

Stop passkeyd first: what it writes after the copy starts is not copied.
Keep SESSION_SECRET: sessions and emailed links are stored under keyed
hashes made with it, and keep working on the new database only with the
same secret (passkeys and recovery codes do not depend on it).

The PostgreSQL database is migrated first and must hold no passkeyd data:
copy-db refuses to merge into, or overwrite, an existing one. The SQLite
file is brought up to date with the migrations too (as passkeyd would at
start), and is otherwise only read.

Flags:
  -from   the SQLite database: sqlite:PATH, file:PATH or PATH
  -to     the PostgreSQL database: postgres://... or postgresql://...
          (default: DATABASE_URL, if it names a PostgreSQL database)
`

// copyColumn is a column copy-db copies, and how SQLite stores it.
type copyColumn struct {
	name string
	kind columnKind
}

type columnKind int

const (
	colText     columnKind = iota // TEXT on both
	colNullText                   // TEXT on both, NULL kept as NULL
	colInt                        // INTEGER / BIGINT
	colBool                       // INTEGER 0 or 1 / BOOLEAN
	colBytes                      // BLOB / BYTEA, NULL kept as NULL
)

// copyTable is a table copy-db copies, in an order that satisfies the
// foreign keys, each read in the order of its key.
type copyTable struct {
	name    string
	orderBy string
	columns []copyColumn
}

// copyTables is every table of the schema but the ephemeral ones
// (copySkippedTables).
// copy-db refuses a database with a table or column missing here, so a
// migration that adds one cannot be silently left behind
// (TestCopyDBKnowsTheSchema fails first).
var copyTables = []copyTable{
	{"users", "id", []copyColumn{
		{"id", colText}, {"email", colText}, {"email_key", colText}, {"display_name", colText},
		{"username", colText}, {"handle", colBytes}, {"email_verified_at", colInt}, {"disabled", colBool},
		{"created_at", colInt}, {"updated_at", colInt}, {"admin", colBool},
	}},
	{"credentials", "id", []copyColumn{
		{"id", colText}, {"user_id", colText}, {"credential_id", colBytes}, {"public_key", colBytes},
		{"sign_count", colInt}, {"transports", colText}, {"aaguid", colBytes},
		{"attestation_format", colText}, {"attestation_type", colText},
		{"backup_eligible", colBool}, {"backup_state", colBool}, {"user_verified", colBool},
		{"attachment", colText}, {"name", colText}, {"clone_warning", colBool},
		{"created_at", colInt}, {"last_used_at", colInt}, {"updated_at", colInt},
	}},
	{"sessions", "id", []copyColumn{
		{"id", colText}, {"user_id", colText}, {"scope", colText}, {"credential_id", colText},
		{"user_agent", colText}, {"ip", colText}, {"created_at", colInt}, {"last_seen_at", colInt},
		{"authenticated_at", colInt}, {"idle_expires_at", colInt}, {"expires_at", colInt},
	}},
	{"tokens", "id", []copyColumn{
		{"id", colText}, {"user_id", colNullText}, {"purpose", colText}, {"email", colText},
		{"created_at", colInt}, {"expires_at", colInt},
	}},
	{"recovery_codes", "user_id, id", []copyColumn{
		{"id", colText}, {"user_id", colText}, {"hash", colText}, {"created_at", colInt}, {"used_at", colInt},
	}},
	{"used_challenges", "id", []copyColumn{{"id", colText}, {"expires_at", colInt}}},
	{"events", "id", []copyColumn{
		{"id", colInt}, {"user_id", colText}, {"type", colText}, {"credential_id", colText},
		{"ip", colText}, {"user_agent", colText}, {"detail", colText}, {"created_at", colInt},
		{"client_id", colText}, {"admin_id", colText}, {"admin_name", colText},
	}},
	// The console's: groups and their members, API keys.
	{"groups", "id", []copyColumn{{"id", colText}, {"name", colText}, {"created_at", colInt}, {"updated_at", colInt}}},
	{"group_members", "group_id, user_id", []copyColumn{{"group_id", colText}, {"user_id", colText}, {"created_at", colInt}}},
	{"api_keys", "id", []copyColumn{
		{"id", colText}, {"name", colText}, {"hash", colText}, {"created_by", colText}, {"created_at", colInt}, {"last_used_at", colInt},
		{"created_by_id", colText},
	}},
	// The OpenID Connect provider: clients, consents, live tokens and the
	// (sealed) signing keys, so apps stay signed in across the move.
	{"oidc_clients", "id", []copyColumn{
		{"id", colText}, {"name", colText}, {"secret_hash", colText}, {"public", colBool},
		{"redirect_uris", colText}, {"post_logout_redirect_uris", colText}, {"scopes", colText},
		{"id_token_alg", colText}, {"access_token_ttl", colInt}, {"id_token_ttl", colInt},
		{"refresh_token_ttl", colInt}, {"trusted", colBool}, {"allowed_users", colText},
		{"created_at", colInt}, {"updated_at", colInt}, {"last_used_at", colInt}, {"allow_unverified_email", colBool},
		{"declared", colBool},
	}},
	{"oidc_client_groups", "client_id, group_id", []copyColumn{{"client_id", colText}, {"group_id", colText}}},
	{"oidc_consents", "user_id, client_id", []copyColumn{
		{"user_id", colText}, {"client_id", colText}, {"scopes", colText}, {"created_at", colInt}, {"last_used_at", colInt},
		{"credential_id", colText},
	}},
	{"oidc_tokens", "id", []copyColumn{
		{"id", colText}, {"kind", colText}, {"grant_id", colText}, {"client_id", colText}, {"user_id", colText},
		{"scopes", colText}, {"audience", colText}, {"auth_time", colInt}, {"amr", colText},
		{"created_at", colInt}, {"expires_at", colInt}, {"used_at", colInt}, {"credential_id", colText},
	}},
	{"oidc_keys", "id", []copyColumn{
		{"id", colText}, {"algorithm", colText}, {"private_key", colBytes}, {"created_at", colInt}, {"sign_from", colInt},
		{"retire_at", colInt}, {"generation", colInt},
	}},
}

// copySkippedTables are tables copy-db knows and leaves behind: OpenID
// Connect authorization requests last minutes.
var copySkippedTables = []string{"oidc_auth_requests"}

// tableCount is how many rows of a table were copied.
type tableCount struct {
	Table string
	Rows  int64
}

// copyDB runs "passkeyd copy-db".
func copyDB(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("passkeyd copy-db", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), copyDBUsage) }
	from := fs.String("from", "", "the SQLite database: sqlite:PATH, file:PATH or PATH")
	def := ""
	if isPostgresURL(getenv("DATABASE_URL")) {
		def = getenv("DATABASE_URL")
	}
	to := fs.String("to", def, "the PostgreSQL database (default DATABASE_URL, if it names one)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("copy-db: unexpected argument %q; run passkeyd copy-db -h", fs.Arg(0))
	}
	if *from == "" || *to == "" {
		return errors.New("copy-db needs -from sqlite:PATH and -to postgres://...; run passkeyd copy-db -h")
	}
	if isPostgresURL(*from) {
		return errors.New("copy-db: -from must be a SQLite database (sqlite:PATH or file:PATH)")
	}
	if !isPostgresURL(*to) {
		return errors.New("copy-db: -to must be a PostgreSQL URL (postgres://... or postgresql://...)")
	}
	counts, migrated, err := copySQLiteToPostgres(ctx, *from, *to)
	if err != nil {
		return fmt.Errorf("copy-db: %w", err)
	}
	if len(migrated) > 0 {
		fmt.Fprintf(stdout, "brought the SQLite database up to date first: %s\n", strings.Join(migrated, ", "))
	}
	for _, c := range counts {
		fmt.Fprintf(stdout, "%-15s %d rows\n", c.Table, c.Rows)
	}
	fmt.Fprintf(stdout, "copied into PostgreSQL in one transaction (%s not copied: sign-ins in progress)\n",
		strings.Join(copySkippedTables, ", "))
	return nil
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// copySQLiteToPostgres copies the tables of copyTables from the SQLite
// database from into the PostgreSQL database to, which it migrates first
// and which must hold none of their rows. It returns the rows copied per
// table and the migrations it applied to the SQLite database.
func copySQLiteToPostgres(ctx context.Context, from, to string) ([]tableCount, []string, error) {
	path, err := sqlite.Path(from)
	if err != nil {
		return nil, nil, err
	}
	// sqlite.Open would create a missing file: a typo must not copy an
	// empty database.
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("SQLite database: %w", err)
	}
	src, err := sqlite.Connect(ctx, from)
	if err != nil {
		return nil, nil, fmt.Errorf("open SQLite database: %w", err)
	}
	defer src.Close()
	migrated, err := src.Migrate(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("migrate SQLite database: %w", err)
	}
	dst, err := postgres.Open(ctx, to, postgres.PoolConfig{MaxOpenConns: 2})
	if err != nil {
		return nil, nil, fmt.Errorf("open PostgreSQL database: %w", err)
	}
	defer dst.Close()

	// One read transaction on SQLite: a consistent snapshot. (It takes the
	// write lock, as every transaction of the sqlite package does, so a
	// passkeyd still running waits rather than writes behind the copy.)
	stx, err := sqlstore.DB(src).BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("read SQLite database: %w", err)
	}
	defer stx.Rollback()
	if err := checkSQLiteSchema(ctx, stx); err != nil {
		return nil, nil, err
	}

	conn, err := sqlstore.DB(dst).Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close()
	var counts []tableCount
	err = conn.Raw(func(driverConn any) error {
		pc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected PostgreSQL driver connection %T", driverConn)
		}
		counts, err = copyInto(ctx, pc.Conn(), stx)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return counts, migrated, nil
}

// checkSQLiteSchema refuses a SQLite database with a table or column that
// copy-db does not know, which it would leave behind.
func checkSQLiteSchema(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `
		SELECT name FROM sqlite_schema
		WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'goose_db_version'`)
	if err != nil {
		return fmt.Errorf("read SQLite schema: %w", err)
	}
	tables, err := collectStrings(rows)
	if err != nil {
		return fmt.Errorf("read SQLite schema: %w", err)
	}
	for _, name := range tables {
		if !slices.ContainsFunc(copyTables, func(t copyTable) bool { return t.name == name }) && !slices.Contains(copySkippedTables, name) {
			return fmt.Errorf("the SQLite database has a table %q that this passkeyd does not know; use the passkeyd release that made it", name)
		}
	}
	for _, t := range copyTables {
		rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info($1)`, t.name)
		if err != nil {
			return fmt.Errorf("read SQLite schema of %s: %w", t.name, err)
		}
		cols, err := collectStrings(rows)
		if err != nil {
			return fmt.Errorf("read SQLite schema of %s: %w", t.name, err)
		}
		if err := sameColumns("SQLite", t, cols); err != nil {
			return err
		}
	}
	return nil
}

// sameColumns reports a difference between the columns copy-db copies
// from t and the columns the database has.
func sameColumns(db string, t copyTable, have []string) error {
	var want []string
	for _, c := range t.columns {
		want = append(want, c.name)
	}
	slices.Sort(want)
	have = slices.Clone(have)
	slices.Sort(have)
	if !slices.Equal(want, have) {
		return fmt.Errorf("the %s table %s has columns %v, but copy-db copies %v; use the passkeyd release that made it", db, t.name, have, want)
	}
	return nil
}

func collectStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// copyInto copies every table from the SQLite transaction src into the
// PostgreSQL connection, in one transaction.
func copyInto(ctx context.Context, pg *pgx.Conn, src *sql.Tx) ([]tableCount, error) {
	tx, err := pg.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin PostgreSQL transaction: %w", err)
	}
	defer tx.Rollback(ctx)

	var names []string
	for _, t := range copyTables {
		names = append(names, pgx.Identifier{t.name}.Sanitize())
	}
	// Writers (another copy-db, a passkeyd started too early) wait until
	// this commits, so the emptiness checked below still holds when it does.
	if _, err := tx.Exec(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN EXCLUSIVE MODE"); err != nil {
		return nil, fmt.Errorf("lock PostgreSQL tables: %w", err)
	}
	var nonEmpty []string
	for _, t := range copyTables {
		cols, err := pgColumns(ctx, tx, t.name)
		if err != nil {
			return nil, err
		}
		if err := sameColumns("PostgreSQL", t, cols); err != nil {
			return nil, err
		}
		var n int64
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM "+pgx.Identifier{t.name}.Sanitize()).Scan(&n); err != nil {
			return nil, fmt.Errorf("count PostgreSQL %s: %w", t.name, err)
		}
		if n > 0 {
			nonEmpty = append(nonEmpty, fmt.Sprintf("%d %s", n, t.name))
		}
	}
	if len(nonEmpty) > 0 {
		return nil, fmt.Errorf("the PostgreSQL database holds passkeyd data already (%s); copy-db copies into an empty database only, so nothing was copied. Point -to at a new database (or schema), or empty this one yourself", strings.Join(nonEmpty, ", "))
	}

	var counts []tableCount
	for _, t := range copyTables {
		n, err := copyTableRows(ctx, tx, src, t)
		if err != nil {
			return nil, err
		}
		counts = append(counts, tableCount{Table: t.name, Rows: n})
	}

	// Events got their IDs from SQLite; new ones continue after the
	// highest ID SQLite ever gave (AUTOINCREMENT never reuses one), so the
	// security log keeps its order and its pages stay stable.
	var next int64
	if err := src.QueryRowContext(ctx, `
		SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0),
		           COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0))`).Scan(&next); err != nil {
		return nil, fmt.Errorf("read SQLite event sequence: %w", err)
	}
	if next > 0 {
		_, err = tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('events', 'id'), $1, true)`, next)
	} else {
		_, err = tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('events', 'id'), 1, false)`)
	}
	if err != nil {
		return nil, fmt.Errorf("set PostgreSQL event sequence: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return counts, nil
}

// pgColumns lists the columns of a table in the schema the search path
// finds it in.
func pgColumns(ctx context.Context, tx pgx.Tx, table string) ([]string, error) {
	rows, err := tx.Query(ctx, `
		SELECT attname FROM pg_attribute
		WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, table)
	if err != nil {
		return nil, fmt.Errorf("read PostgreSQL schema of %s: %w", table, err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read PostgreSQL schema of %s: %w", table, err)
	}
	return cols, nil
}

// copyTableRows streams one table from SQLite into PostgreSQL with COPY,
// converting SQLite's 0/1 integers to booleans, and checks that every row
// arrived.
func copyTableRows(ctx context.Context, tx pgx.Tx, src *sql.Tx, t copyTable) (int64, error) {
	var want int64
	if err := src.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t.name).Scan(&want); err != nil {
		return 0, fmt.Errorf("count SQLite %s: %w", t.name, err)
	}
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	rows, err := src.QueryContext(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+t.name+" ORDER BY "+t.orderBy)
	if err != nil {
		return 0, fmt.Errorf("read SQLite %s: %w", t.name, err)
	}
	defer rows.Close()

	texts := make([]string, len(t.columns))
	nullTexts := make([]sql.NullString, len(t.columns))
	ints := make([]int64, len(t.columns))
	// BLOBs are scanned as any: nil for NULL, a []byte (possibly empty,
	// even a nil one) for a BLOB, so that an empty BLOB stays empty and
	// does not become NULL.
	blobs := make([]any, len(t.columns))
	dest := make([]any, len(t.columns))
	for i, c := range t.columns {
		switch c.kind {
		case colText:
			dest[i] = &texts[i]
		case colNullText:
			dest[i] = &nullTexts[i]
		case colInt, colBool:
			dest[i] = &ints[i]
		case colBytes:
			dest[i] = &blobs[i]
		}
	}
	var rowErr error
	next := func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := make([]any, len(t.columns))
		for i, c := range t.columns {
			switch c.kind {
			case colText:
				row[i] = texts[i]
			case colNullText:
				row[i] = nil // NULL
				if nullTexts[i].Valid {
					row[i] = nullTexts[i].String
				}
			case colInt:
				row[i] = ints[i]
			case colBool:
				if ints[i] != 0 && ints[i] != 1 {
					rowErr = fmt.Errorf("SQLite %s.%s holds %d, not a boolean", t.name, c.name, ints[i])
					return nil, rowErr
				}
				row[i] = ints[i] == 1
			case colBytes:
				switch b := blobs[i].(type) {
				case nil:
					row[i] = nil // NULL
				case []byte:
					if b == nil {
						b = []byte{} // pgx sends a nil slice as NULL
					}
					row[i] = b // Scan copied it: a fresh slice per row
				default:
					rowErr = fmt.Errorf("SQLite %s.%s holds a %T, not bytes", t.name, c.name, b)
					return nil, rowErr
				}
			}
		}
		return row, nil
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, names, pgx.CopyFromFunc(next))
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", t.name, err)
	}
	if rowErr != nil {
		return 0, rowErr
	}
	if n != want {
		return 0, fmt.Errorf("copy %s: copied %d rows of %d", t.name, n, want)
	}
	return n, nil
}
