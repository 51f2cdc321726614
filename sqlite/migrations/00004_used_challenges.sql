-- Ceremonies in progress leave the database: their state is sealed into
-- the browser's ceremony cookie (web/ceremony.go). What stays is the record
-- that a challenge was used, written in the transaction that completes the
-- sign-in or registration, so that a ceremony completes once on every
-- instance. Keep postgres/migrations/00004_used_challenges.sql in step.

-- +goose Up
-- WITHOUT ROWID: the primary key is the table, so an insert writes one
-- b-tree and the expiry index, not a rowid table besides.
CREATE TABLE used_challenges (
	id         TEXT PRIMARY KEY,                    -- keyed hash of the challenge
	expires_at INTEGER NOT NULL                     -- unix ms; deleted after, by DeleteExpired
) STRICT, WITHOUT ROWID;

CREATE INDEX used_challenges_expires_at ON used_challenges (expires_at);

DROP TABLE challenges;

-- +goose Down
CREATE TABLE challenges (
	id                TEXT PRIMARY KEY,
	binding           TEXT NOT NULL,
	kind              TEXT NOT NULL,
	session_data      BLOB,
	user_id           TEXT NOT NULL DEFAULT '',
	email             TEXT NOT NULL DEFAULT '',
	handle            BLOB,
	signed_in_user_id TEXT NOT NULL DEFAULT '',
	session_id        TEXT NOT NULL DEFAULT '',
	created_at        INTEGER NOT NULL,
	expires_at        INTEGER NOT NULL
) STRICT;

CREATE INDEX challenges_expires_at ON challenges (expires_at);

DROP TABLE used_challenges;
