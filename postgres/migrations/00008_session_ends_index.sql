-- A session ends at the earlier of its two expiries. One index on that
-- instant replaces the two on each expiry: DeleteExpired and
-- CountActiveSessions only ever ask when a session ends, and every sign-in
-- inserts one session and deletes the one it replaces, so each index was
-- two more pages written per sign-in. The expression is written exactly
-- as the queries in internal/sqlstore write it (sessionEnds), which is
-- how both databases match a query to an index on an expression.
-- Keep sqlite/migrations/00008_session_ends_index.sql in step.

-- +goose Up
CREATE INDEX sessions_ends_at ON sessions (
	(CASE WHEN idle_expires_at < expires_at THEN idle_expires_at ELSE expires_at END));
DROP INDEX sessions_expires_at;
DROP INDEX sessions_idle_expires_at;

-- +goose Down
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_idle_expires_at ON sessions (idle_expires_at);
DROP INDEX sessions_ends_at;
