-- Sessions, lighter to write. Every sign-in inserts a session and deletes
-- the one it replaces, so each b-tree of the table is pages written at
-- every sign-in.
--
-- A session ends at the earlier of its two expiries. One index on that
-- instant replaces the two on each expiry: DeleteExpired and
-- CountActiveSessions only ever ask when a session ends. The expression
-- is written exactly as the queries in internal/sqlstore write it
-- (sessionEnds), which is how both databases match a query to an index on
-- an expression.
--
-- WITHOUT ROWID: the primary key is the table, so a session is one b-tree
-- entry, not a row in a rowid table plus an entry in the primary key's
-- index, and a look-up by ID (every signed-in request) is one search, not
-- two. SQLite cannot change this in place, so the table is rebuilt with the
-- same columns (nothing references sessions).
--
-- Keep postgres/migrations/00008_session_ends_index.sql in step (the index;
-- PostgreSQL has no rowid).

-- +goose Up
CREATE TABLE sessions_new (
	id               TEXT PRIMARY KEY,              -- keyed hash of the cookie's token
	user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	scope            TEXT NOT NULL,
	credential_id    TEXT NOT NULL DEFAULT '',      -- API ID of the passkey that signed in
	user_agent       TEXT NOT NULL DEFAULT '',
	ip               TEXT NOT NULL DEFAULT '',
	created_at       INTEGER NOT NULL,
	last_seen_at     INTEGER NOT NULL DEFAULT 0,
	authenticated_at INTEGER NOT NULL DEFAULT 0,
	idle_expires_at  INTEGER NOT NULL,
	expires_at       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO sessions_new (id, user_id, scope, credential_id, user_agent, ip,
		created_at, last_seen_at, authenticated_at, idle_expires_at, expires_at)
	SELECT id, user_id, scope, credential_id, user_agent, ip,
		created_at, last_seen_at, authenticated_at, idle_expires_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_ends_at ON sessions (
	(CASE WHEN idle_expires_at < expires_at THEN idle_expires_at ELSE expires_at END));

-- +goose Down
CREATE TABLE sessions_old (
	id               TEXT PRIMARY KEY,
	user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	scope            TEXT NOT NULL,
	credential_id    TEXT NOT NULL DEFAULT '',
	user_agent       TEXT NOT NULL DEFAULT '',
	ip               TEXT NOT NULL DEFAULT '',
	created_at       INTEGER NOT NULL,
	last_seen_at     INTEGER NOT NULL DEFAULT 0,
	authenticated_at INTEGER NOT NULL DEFAULT 0,
	idle_expires_at  INTEGER NOT NULL,
	expires_at       INTEGER NOT NULL
) STRICT;
INSERT INTO sessions_old (id, user_id, scope, credential_id, user_agent, ip,
		created_at, last_seen_at, authenticated_at, idle_expires_at, expires_at)
	SELECT id, user_id, scope, credential_id, user_agent, ip,
		created_at, last_seen_at, authenticated_at, idle_expires_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_old RENAME TO sessions;
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_idle_expires_at ON sessions (idle_expires_at);
