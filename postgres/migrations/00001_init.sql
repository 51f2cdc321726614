-- The first schema of passkeyd. Times are unix milliseconds, 0 for "never".
-- A shipped migration is never edited: add a new one. Keep
-- sqlite/migrations/00001_init.sql in step.

-- +goose Up
CREATE TABLE users (
	id                TEXT PRIMARY KEY,
	email             TEXT NOT NULL,                -- as the user typed it
	email_key         TEXT NOT NULL UNIQUE,         -- passkeyd.EmailKey(email): unique without regard to case
	display_name      TEXT NOT NULL DEFAULT '',
	handle            BYTEA NOT NULL UNIQUE,        -- WebAuthn user.id, random
	email_verified_at BIGINT NOT NULL DEFAULT 0,
	disabled          BOOLEAN NOT NULL DEFAULT FALSE,
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL
);

CREATE TABLE credentials (
	id                 TEXT PRIMARY KEY,            -- the API's ID of the passkey
	user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id      BYTEA NOT NULL UNIQUE,       -- the authenticator's rawId
	public_key         BYTEA NOT NULL,              -- COSE_Key
	sign_count         BIGINT NOT NULL DEFAULT 0 CHECK (sign_count BETWEEN 0 AND 4294967295),
	transports         TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
	aaguid             BYTEA,
	attestation_format TEXT NOT NULL DEFAULT '',
	attestation_type   TEXT NOT NULL DEFAULT '',
	backup_eligible    BOOLEAN NOT NULL DEFAULT FALSE,
	backup_state       BOOLEAN NOT NULL DEFAULT FALSE,
	user_verified      BOOLEAN NOT NULL DEFAULT FALSE,
	attachment         TEXT NOT NULL DEFAULT '',
	name               TEXT NOT NULL DEFAULT '',
	clone_warning      BOOLEAN NOT NULL DEFAULT FALSE,
	created_at         BIGINT NOT NULL,
	last_used_at       BIGINT NOT NULL DEFAULT 0,
	updated_at         BIGINT NOT NULL
);

CREATE INDEX credentials_user_id ON credentials (user_id, created_at);

-- Ceremonies in progress, taken (deleted) exactly once.
CREATE TABLE challenges (
	id                TEXT PRIMARY KEY,             -- keyed hash of the challenge
	binding           TEXT NOT NULL,                -- keyed hash of the browser's ceremony cookie
	kind              TEXT NOT NULL,
	session_data      BYTEA,                        -- go-webauthn's SessionData, verbatim
	user_id           TEXT NOT NULL DEFAULT '',
	email             TEXT NOT NULL DEFAULT '',
	handle            BYTEA,
	signed_in_user_id TEXT NOT NULL DEFAULT '',
	session_id        TEXT NOT NULL DEFAULT '',
	created_at        BIGINT NOT NULL,
	expires_at        BIGINT NOT NULL
);

CREATE INDEX challenges_expires_at ON challenges (expires_at);

CREATE TABLE sessions (
	id               TEXT PRIMARY KEY,              -- keyed hash of the cookie's token
	user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	scope            TEXT NOT NULL,
	credential_id    TEXT NOT NULL DEFAULT '',      -- API ID of the passkey that signed in
	user_agent       TEXT NOT NULL DEFAULT '',
	ip               TEXT NOT NULL DEFAULT '',
	created_at       BIGINT NOT NULL,
	last_seen_at     BIGINT NOT NULL DEFAULT 0,
	authenticated_at BIGINT NOT NULL DEFAULT 0,
	idle_expires_at  BIGINT NOT NULL,
	expires_at       BIGINT NOT NULL
);

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_idle_expires_at ON sessions (idle_expires_at);

-- The security log. No foreign key: it outlives what it mentions, and a
-- failed sign-in may name no user at all.
CREATE TABLE events (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id       TEXT NOT NULL DEFAULT '',
	type          TEXT NOT NULL,
	credential_id TEXT NOT NULL DEFAULT '',
	ip            TEXT NOT NULL DEFAULT '',
	user_agent    TEXT NOT NULL DEFAULT '',
	detail        TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL
);

CREATE INDEX events_user_id ON events (user_id, id);

-- +goose Down
DROP TABLE events;
DROP TABLE sessions;
DROP TABLE challenges;
DROP TABLE credentials;
DROP TABLE users;
