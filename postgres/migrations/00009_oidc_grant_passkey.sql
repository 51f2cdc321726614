-- App grants follow the account (issue 18). Each authorization request,
-- token and consent records the passkey whose session made it (the API ID
-- of the credential, as sessions.credential_id does), so that deleting a
-- passkey ends the app grants made with it, as it ends its sessions.
-- Rows made before this column have none: deleting a passkey leaves them
-- (recovery, takeover, disabling and Connected apps still end them).
-- The index on oidc_auth_requests.user_id serves the deletes by account.
-- Keep sqlite/migrations/00009_oidc_grant_passkey.sql in step.

-- +goose Up
ALTER TABLE oidc_auth_requests ADD COLUMN credential_id TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_tokens ADD COLUMN credential_id TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_consents ADD COLUMN credential_id TEXT NOT NULL DEFAULT '';
CREATE INDEX oidc_auth_requests_user_id ON oidc_auth_requests (user_id);

-- +goose Down
DROP INDEX oidc_auth_requests_user_id;
ALTER TABLE oidc_consents DROP COLUMN credential_id;
ALTER TABLE oidc_tokens DROP COLUMN credential_id;
ALTER TABLE oidc_auth_requests DROP COLUMN credential_id;
