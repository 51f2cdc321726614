-- Sign-up links (SIGNUP_MODE=email-first): a token for an address that
-- has no account yet, so tokens.user_id may be NULL for them. SQLite
-- cannot drop a NOT NULL constraint in place, so the table is rebuilt
-- with the same columns and indexes (nothing references tokens).
-- Keep postgres/migrations/00005_signup_tokens.sql in step.

-- +goose Up
CREATE TABLE tokens_new (
	id         TEXT PRIMARY KEY,                    -- keyed hash of the secret in the link
	user_id    TEXT REFERENCES users (id) ON DELETE CASCADE, -- NULL only for a sign-up link
	purpose    TEXT NOT NULL,
	email      TEXT NOT NULL,                       -- the address the link was sent to
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	CHECK ((user_id IS NULL) = (purpose = 'sign_up'))
) STRICT;
INSERT INTO tokens_new (id, user_id, purpose, email, created_at, expires_at)
	SELECT id, user_id, purpose, email, created_at, expires_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
CREATE INDEX tokens_expires_at ON tokens (expires_at);
CREATE INDEX tokens_user_id ON tokens (user_id);
CREATE INDEX tokens_sign_up_email ON tokens (email) WHERE user_id IS NULL;

-- +goose Down
DELETE FROM tokens WHERE user_id IS NULL;
CREATE TABLE tokens_old (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	purpose    TEXT NOT NULL,
	email      TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
INSERT INTO tokens_old (id, user_id, purpose, email, created_at, expires_at)
	SELECT id, user_id, purpose, email, created_at, expires_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_old RENAME TO tokens;
CREATE INDEX tokens_expires_at ON tokens (expires_at);
CREATE INDEX tokens_user_id ON tokens (user_id);
