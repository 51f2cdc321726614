package sqlstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/postgres"
	"github.com/passkeyd/passkeyd/sqlite"
)

// The two stores run one set of queries (this package), so their
// migrations must make the same tables with the same columns: the same
// files in both folders, and, once applied, the same table and column
// names, with types of the same kind (a whole number, text or bytes).
func TestMigrationsMakeTheSameSchema(t *testing.T) {
	names := func(dir string) []string {
		entries, err := os.ReadDir(filepath.Join("..", "..", dir, "migrations"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	if lite, pg := names("sqlite"), names("postgres"); !reflect.DeepEqual(lite, pg) {
		t.Fatalf("the migration folders differ:\nsqlite:   %v\npostgres: %v", lite, pg)
	}

	ctx := t.Context()
	lite, err := sqlite.Open(ctx, "file:"+filepath.Join(t.TempDir(), "schema.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := postgres.Open(ctx, testserver.FreshSchema(t, testserver.PostgresURL(t)), postgres.PoolConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()

	liteSchema := columns(ctx, t, sqlstore.DB(lite), `SELECT m.name, c.name, c.type
		FROM sqlite_master m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	pgSchema := columns(ctx, t, sqlstore.DB(pg), `SELECT table_name, column_name, data_type
		FROM information_schema.columns WHERE table_schema = current_schema()`)
	if len(liteSchema) < 10 {
		t.Fatalf("SQLite has %d tables; the migrations did not run", len(liteSchema))
	}
	for table, liteColumns := range liteSchema {
		pgColumns, ok := pgSchema[table]
		if !ok {
			t.Errorf("table %s is on SQLite only", table)
			continue
		}
		for column, kind := range liteColumns {
			switch pgKind, ok := pgColumns[column]; {
			case !ok:
				t.Errorf("column %s.%s is on SQLite only", table, column)
			case pgKind != kind:
				t.Errorf("column %s.%s holds %s on SQLite, %s on PostgreSQL", table, column, kind, pgKind)
			}
		}
		for column := range pgColumns {
			if _, ok := liteColumns[column]; !ok {
				t.Errorf("column %s.%s is on PostgreSQL only", table, column)
			}
		}
	}
	for table := range pgSchema {
		if _, ok := liteSchema[table]; !ok {
			t.Errorf("table %s is on PostgreSQL only", table)
		}
	}
}

// columns runs a query of (table, column, type) rows and returns each
// table's columns with the kind of their type.
func columns(ctx context.Context, t *testing.T, db *sql.DB, query string) map[string]map[string]string {
	t.Helper()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var table, column, typ string
		if err := rows.Scan(&table, &column, &typ); err != nil {
			t.Fatal(err)
		}
		if out[table] == nil {
			out[table] = map[string]string{}
		}
		out[table][column] = kindOf(typ)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// kindOf groups SQL types loosely: SQLite keeps booleans and times as
// integers, and spells types its own way.
func kindOf(typ string) string {
	switch t := strings.ToLower(typ); {
	case strings.Contains(t, "int"), t == "boolean":
		return "whole number"
	case strings.Contains(t, "text"), strings.Contains(t, "char"):
		return "text"
	case strings.HasPrefix(t, "timestamp"):
		return "time"
	case t == "blob", t == "bytea":
		return "bytes"
	default:
		return t
	}
}
