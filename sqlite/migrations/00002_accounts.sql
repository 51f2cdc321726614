-- Account management: emailed single-use tokens and recovery codes.
-- Keep postgres/migrations/00002_accounts.sql in step.

-- +goose Up
CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,                    -- keyed hash of the secret in the link
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	purpose    TEXT NOT NULL,
	email      TEXT NOT NULL,                       -- the address the link was sent to
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX tokens_expires_at ON tokens (expires_at);
CREATE INDEX tokens_user_id ON tokens (user_id);

CREATE TABLE recovery_codes (
	id         TEXT NOT NULL,                       -- the code's public part
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash       TEXT NOT NULL,                       -- password hash of the secret part
	created_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, id)
) STRICT;

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE tokens;
