-- The first schema of passkeyd. Times are unix milliseconds, 0 for "never";
-- booleans are 0 or 1. A shipped migration is never edited: add a new one.
-- Keep postgres/migrations/00001_init.sql in step.

-- +goose Up
CREATE TABLE users (
	id                TEXT PRIMARY KEY,
	email             TEXT NOT NULL,                -- as the user typed it
	email_key         TEXT NOT NULL UNIQUE,         -- passkeyd.EmailKey(email): unique without regard to case
	display_name      TEXT NOT NULL DEFAULT '',
	handle            BLOB NOT NULL UNIQUE,         -- WebAuthn user.id, random
	email_verified_at INTEGER NOT NULL DEFAULT 0,
	disabled          INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE credentials (
	id                 TEXT PRIMARY KEY,            -- the API's ID of the passkey
	user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id      BLOB NOT NULL UNIQUE,        -- the authenticator's rawId
	public_key         BLOB NOT NULL,               -- COSE_Key
	sign_count         INTEGER NOT NULL DEFAULT 0 CHECK (sign_count BETWEEN 0 AND 4294967295),
	transports         TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
	aaguid             BLOB,
	attestation_format TEXT NOT NULL DEFAULT '',
	attestation_type   TEXT NOT NULL DEFAULT '',
	backup_eligible    INTEGER NOT NULL DEFAULT 0 CHECK (backup_eligible IN (0, 1)),
	backup_state       INTEGER NOT NULL DEFAULT 0 CHECK (backup_state IN (0, 1)),
	user_verified      INTEGER NOT NULL DEFAULT 0 CHECK (user_verified IN (0, 1)),
	attachment         TEXT NOT NULL DEFAULT '',
	name               TEXT NOT NULL DEFAULT '',
	clone_warning      INTEGER NOT NULL DEFAULT 0 CHECK (clone_warning IN (0, 1)),
	created_at         INTEGER NOT NULL,
	last_used_at       INTEGER NOT NULL DEFAULT 0,
	updated_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX credentials_user_id ON credentials (user_id, created_at);

-- Ceremonies in progress, taken (deleted) exactly once.
CREATE TABLE challenges (
	id                TEXT PRIMARY KEY,             -- keyed hash of the challenge
	binding           TEXT NOT NULL,                -- keyed hash of the browser's ceremony cookie
	kind              TEXT NOT NULL,
	session_data      BLOB,                         -- go-webauthn's SessionData, verbatim
	user_id           TEXT NOT NULL DEFAULT '',
	email             TEXT NOT NULL DEFAULT '',
	handle            BLOB,
	signed_in_user_id TEXT NOT NULL DEFAULT '',
	session_id        TEXT NOT NULL DEFAULT '',
	created_at        INTEGER NOT NULL,
	expires_at        INTEGER NOT NULL
) STRICT;

CREATE INDEX challenges_expires_at ON challenges (expires_at);

CREATE TABLE sessions (
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
) STRICT;

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_idle_expires_at ON sessions (idle_expires_at);

-- The security log. No foreign key: it outlives what it mentions, and a
-- failed sign-in may name no user at all. AUTOINCREMENT keeps IDs from being
-- reused, so paging by ID stays stable.
CREATE TABLE events (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id       TEXT NOT NULL DEFAULT '',
	type          TEXT NOT NULL,
	credential_id TEXT NOT NULL DEFAULT '',
	ip            TEXT NOT NULL DEFAULT '',
	user_agent    TEXT NOT NULL DEFAULT '',
	detail        TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX events_user_id ON events (user_id, id);

-- +goose Down
DROP TABLE events;
DROP TABLE sessions;
DROP TABLE challenges;
DROP TABLE credentials;
DROP TABLE users;
