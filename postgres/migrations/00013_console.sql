-- The administrator's console (package console) and the admin subcommands.
-- See sqlite/migrations/00013_console.sql for what each part is for; keep
-- the two in step. PostgreSQL changes the tokens CHECK constraint in place.

-- +goose Up
ALTER TABLE users ADD COLUMN admin BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX users_admin ON users (id) WHERE admin;

CREATE TABLE groups (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX groups_name ON groups (lower(name));

CREATE TABLE group_members (
	group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_id ON group_members (user_id);

ALTER TABLE oidc_clients ADD COLUMN declared BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE oidc_client_groups (
	client_id TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	group_id  TEXT NOT NULL REFERENCES groups (id),
	PRIMARY KEY (client_id, group_id)
);
CREATE INDEX oidc_client_groups_group_id ON oidc_client_groups (group_id);

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE,
	hash         TEXT NOT NULL UNIQUE,              -- SHA-256 of the whole key, hex
	created_by   TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT NOT NULL DEFAULT 0
);

ALTER TABLE events ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN admin_id TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN admin_name TEXT NOT NULL DEFAULT '';
CREATE INDEX events_type ON events (type, created_at);
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX events_client_id ON events (client_id, id) WHERE client_id <> '';
CREATE INDEX events_admin_id ON events (admin_id, id) WHERE admin_id <> '';

ALTER TABLE tokens DROP CONSTRAINT tokens_user_only_for_sign_up;
ALTER TABLE tokens ADD CONSTRAINT tokens_user_only_for_sign_up
	CHECK ((user_id IS NULL) = (purpose IN ('sign_up', 'admin_setup')));

-- +goose Down
DELETE FROM tokens WHERE purpose = 'admin_setup';
ALTER TABLE tokens DROP CONSTRAINT tokens_user_only_for_sign_up;
ALTER TABLE tokens ADD CONSTRAINT tokens_user_only_for_sign_up CHECK ((user_id IS NULL) = (purpose = 'sign_up'));

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
