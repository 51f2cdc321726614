-- The OpenID Connect provider (package oidc): clients, authorization
-- requests and their codes, tokens, consents and signing keys.
-- Keep sqlite/migrations/00003_oidc.sql in step.

-- +goose Up
CREATE TABLE oidc_clients (
	id                        TEXT PRIMARY KEY,
	name                      TEXT NOT NULL,
	secret_hash               TEXT NOT NULL DEFAULT '',    -- SHA-256 of the secret, hex; '' for public clients
	public                    BOOLEAN NOT NULL DEFAULT FALSE,
	redirect_uris             TEXT NOT NULL DEFAULT '[]',  -- JSON array, compared exactly
	post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
	scopes                    TEXT NOT NULL DEFAULT '',    -- space-separated
	id_token_alg              TEXT NOT NULL DEFAULT 'RS256',
	access_token_ttl          BIGINT NOT NULL DEFAULT 0,  -- milliseconds; 0: the default
	id_token_ttl              BIGINT NOT NULL DEFAULT 0,
	refresh_token_ttl         BIGINT NOT NULL DEFAULT 0,
	trusted                   BOOLEAN NOT NULL DEFAULT FALSE,
	allowed_users             TEXT NOT NULL DEFAULT '[]',  -- JSON array of emails and @domains
	created_at                BIGINT NOT NULL,
	updated_at                BIGINT NOT NULL,
	last_used_at              BIGINT NOT NULL DEFAULT 0
);

-- Authorization requests in progress and, once done, their single code.
-- The row outlives its redemption (until expires_at) so that a code used
-- twice is recognised and what it granted revoked.
CREATE TABLE oidc_auth_requests (
	id                    TEXT PRIMARY KEY,
	client_id             TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	redirect_uri          TEXT NOT NULL,
	scopes                TEXT NOT NULL,
	state                 TEXT NOT NULL DEFAULT '',
	nonce                 TEXT NOT NULL DEFAULT '',
	response_type         TEXT NOT NULL,
	response_mode         TEXT NOT NULL DEFAULT '',
	code_challenge        TEXT NOT NULL DEFAULT '',
	code_challenge_method TEXT NOT NULL DEFAULT '',
	prompt                TEXT NOT NULL DEFAULT '',
	max_age               BIGINT NOT NULL DEFAULT -1,  -- seconds; -1: none
	login_hint            TEXT NOT NULL DEFAULT '',
	user_id               TEXT NOT NULL DEFAULT '',
	auth_time             BIGINT NOT NULL DEFAULT 0,
	amr                   TEXT NOT NULL DEFAULT '',
	done                  BOOLEAN NOT NULL DEFAULT FALSE,
	created_at            BIGINT NOT NULL,
	expires_at            BIGINT NOT NULL,
	code_hash             TEXT UNIQUE,                   -- keyed hash of the code; NULL until issued
	code_expires_at       BIGINT NOT NULL DEFAULT 0,
	code_redeemed_at      BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX oidc_auth_requests_expires_at ON oidc_auth_requests (expires_at);

-- Access tokens (by random ID) and refresh tokens (by keyed hash). grant_id
-- is the authorization request they came from: a refresh family.
CREATE TABLE oidc_tokens (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
	grant_id   TEXT NOT NULL,
	client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	scopes     TEXT NOT NULL,
	audience   TEXT NOT NULL DEFAULT '',
	auth_time  BIGINT NOT NULL DEFAULT 0,
	amr        TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX oidc_tokens_grant_id ON oidc_tokens (grant_id);
CREATE INDEX oidc_tokens_user_client ON oidc_tokens (user_id, client_id);
CREATE INDEX oidc_tokens_expires_at ON oidc_tokens (expires_at);

CREATE TABLE oidc_consents (
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id    TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	scopes       TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, client_id)
);

CREATE TABLE oidc_keys (
	id          TEXT PRIMARY KEY,                      -- JWK kid
	algorithm   TEXT NOT NULL,
	private_key BYTEA NOT NULL,                         -- sealed PKCS #8
	created_at  BIGINT NOT NULL,
	retire_at   BIGINT NOT NULL DEFAULT 0             -- 0: current
);

-- +goose Down
DROP TABLE oidc_keys;
DROP TABLE oidc_consents;
DROP TABLE oidc_tokens;
DROP TABLE oidc_auth_requests;
DROP TABLE oidc_clients;
