-- An authorization request is bound to the browser that started it: the
-- keyed hash of a random value in that browser's OpenID Connect cookie,
-- checked by the sign-in and consent steps, so that a link to someone
-- else's pending request cannot be completed by a victim. Requests made
-- before this column have none and are refused (they last minutes).
-- Keep sqlite/migrations/00007_oidc_request_browser.sql in step.

-- +goose Up
ALTER TABLE oidc_auth_requests ADD COLUMN browser_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oidc_auth_requests DROP COLUMN browser_hash;
