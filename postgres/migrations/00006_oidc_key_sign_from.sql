-- A rotated signing key is published in JWKS before it signs, so that
-- relying parties with a cached JWKS have it by the time ID tokens carry
-- its kid. sign_from is when it starts signing; 0 for the keys made before
-- this column, which sign already.
-- Keep sqlite/migrations/00006_oidc_key_sign_from.sql in step.

-- +goose Up
ALTER TABLE oidc_keys ADD COLUMN sign_from BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE oidc_keys DROP COLUMN sign_from;
