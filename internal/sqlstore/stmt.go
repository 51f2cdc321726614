package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps each query prepared once per pool; database/sql then
// prepares it once per connection and reuses it. Queries first seen inside
// a transaction run unprepared and are prepared before the next
// transaction begins: preparing needs a connection, and on SQLite the
// transaction holds the only one.
type stmtCache struct {
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
}

func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[q]
	if !ok {
		if c.pending == nil {
			c.pending = map[string]bool{}
		}
		c.pending[q] = true
	}
	return st
}

// prepare prepares the pending queries on db. It holds no lock while
// preparing: that waits for a connection, which a transaction calling
// lookup may hold.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB) {
	c.mu.Lock()
	var todo []string
	for q := range c.pending {
		todo = append(todo, q)
	}
	c.mu.Unlock()
	for _, q := range todo {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]*sql.Stmt{}
		}
		_, dup := c.m[q]
		if !dup {
			c.m[q] = st
		}
		delete(c.pending, q)
		c.mu.Unlock()
		if dup {
			// Another caller prepared it meanwhile. Close outside the lock:
			// Close can wait for executions in flight, and those may wait
			// (through a database row lock) for a transaction that needs
			// the lock in lookup: closing under it deadlocked on
			// PostgreSQL.
			st.Close()
		}
	}
}

func (c *stmtCache) get(ctx context.Context, db *sql.DB, q string) *sql.Stmt {
	if st := c.lookup(q); st != nil {
		return st
	}
	c.prepare(ctx, db)
	return c.lookup(q)
}

func (s *Store) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	ctx = s.stmtContext(ctx)
	if st := s.writeStmts.lookup(q); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	ctx = s.stmtContext(ctx)
	if st := s.writeStmts.lookup(q); st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

// txStrings runs q in tx and returns its rows' one text column.
func (s *Store) txStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(s.stmtContext(ctx), q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *Store) readQueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = s.stmtContext(ctx)
	if st := s.readStmts.get(ctx, s.read, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.read.QueryRowContext(ctx, q, args...)
}

// readList runs the read query q through the statement cache and returns
// one element per row, made by scan. Every list method goes through it, so
// none can forget rows.Err or Close, and each query is parsed once per
// connection, not on every call.
func readList[T any](ctx context.Context, s *Store, op, q string, args []any, scan func(*sql.Rows) (T, error)) ([]T, error) {
	ctx = s.stmtContext(ctx)
	var rows *sql.Rows
	var err error
	if st := s.readStmts.get(ctx, s.read, q); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = s.read.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer rows.Close()
	var list []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, s.fail(op, err)
		}
		list = append(list, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(op, err)
	}
	return list, nil
}
