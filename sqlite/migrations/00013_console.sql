-- The administrator's console (package console) and the admin subcommands.
--
-- users.admin: the account is an administrator. The partial index holds
-- the few administrators only: the last-administrator rule counts them in
-- the transactions that could remove the last one, and nothing else pays
-- for it.
--
-- groups: named sets of accounts; a name is unique without regard to case
-- (names are ASCII, passkeyd.ValidateGroupName, so lower() agrees on both
-- databases). group_members goes with the account and with the group.
--
-- oidc_client_groups: the groups an app admits (OIDCClient.AllowedGroups),
-- by ID, so that renaming a group keeps the app's rule. A group an app
-- admits cannot be deleted (the store refuses first; the foreign key is
-- the backstop). oidc_clients.declared: the app comes from
-- OIDC_CLIENTS_FILE, and the console shows it read-only.
--
-- api_keys: keys for the console's JSON API, by SHA-256 of the key.
--
-- events: the app involved and the administrator who acted. The audit
-- log filters by type, app, person and time, and the overview counts
-- sign-ins per day: (type, created_at) serves both; created_at the time
-- filters alone. The app and administrator indexes are partial: most
-- events (every passkey sign-in) have neither, and are not written to them.
--
-- tokens: the admin setup link (passkeyd.TokenAdminSetup) belongs to no
-- account, like a sign-up link. SQLite cannot change a CHECK constraint in
-- place, so the table is rebuilt with the same columns and indexes
-- (nothing references tokens).
--
-- Keep postgres/migrations/00013_console.sql in step.

-- +goose Up
ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1));
CREATE INDEX users_admin ON users (id) WHERE admin;

CREATE TABLE groups (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX groups_name ON groups (lower(name));

CREATE TABLE group_members (
	group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (group_id, user_id)
) STRICT;
CREATE INDEX group_members_user_id ON group_members (user_id);

ALTER TABLE oidc_clients ADD COLUMN declared INTEGER NOT NULL DEFAULT 0 CHECK (declared IN (0, 1));
CREATE TABLE oidc_client_groups (
	client_id TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	group_id  TEXT NOT NULL REFERENCES groups (id),
	PRIMARY KEY (client_id, group_id)
) STRICT;
CREATE INDEX oidc_client_groups_group_id ON oidc_client_groups (group_id);

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE,
	hash         TEXT NOT NULL UNIQUE,              -- SHA-256 of the whole key, hex
	created_by   TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL DEFAULT 0
) STRICT;

ALTER TABLE events ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN admin_id TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN admin_name TEXT NOT NULL DEFAULT '';
CREATE INDEX events_type ON events (type, created_at);
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX events_client_id ON events (client_id, id) WHERE client_id <> '';
CREATE INDEX events_admin_id ON events (admin_id, id) WHERE admin_id <> '';

CREATE TABLE tokens_new (
	id         TEXT PRIMARY KEY,                    -- keyed hash of the secret in the link
	user_id    TEXT REFERENCES users (id) ON DELETE CASCADE, -- NULL only for sign-up and admin setup links
	purpose    TEXT NOT NULL,
	email      TEXT NOT NULL,                       -- the address the link was sent to
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	CHECK ((user_id IS NULL) = (purpose IN ('sign_up', 'admin_setup')))
) STRICT;
INSERT INTO tokens_new (id, user_id, purpose, email, created_at, expires_at)
	SELECT id, user_id, purpose, email, created_at, expires_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
CREATE INDEX tokens_expires_at ON tokens (expires_at);
CREATE INDEX tokens_user_id ON tokens (user_id);
CREATE INDEX tokens_sign_up_email ON tokens (email) WHERE user_id IS NULL;

-- +goose Down
DELETE FROM tokens WHERE purpose = 'admin_setup';
CREATE TABLE tokens_old (
	id         TEXT PRIMARY KEY,
	user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
	purpose    TEXT NOT NULL,
	email      TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	CHECK ((user_id IS NULL) = (purpose = 'sign_up'))
) STRICT;
INSERT INTO tokens_old (id, user_id, purpose, email, created_at, expires_at)
	SELECT id, user_id, purpose, email, created_at, expires_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_old RENAME TO tokens;
CREATE INDEX tokens_expires_at ON tokens (expires_at);
CREATE INDEX tokens_user_id ON tokens (user_id);
CREATE INDEX tokens_sign_up_email ON tokens (email) WHERE user_id IS NULL;

DROP INDEX events_admin_id;
DROP INDEX events_client_id;
DROP INDEX events_created_at;
DROP INDEX events_type;
ALTER TABLE events DROP COLUMN admin_name;
ALTER TABLE events DROP COLUMN admin_id;
ALTER TABLE events DROP COLUMN client_id;

DROP TABLE api_keys;
DROP TABLE oidc_client_groups;
ALTER TABLE oidc_clients DROP COLUMN declared;
DROP TABLE group_members;
DROP TABLE groups;

DROP INDEX users_admin;
ALTER TABLE users DROP COLUMN admin;
