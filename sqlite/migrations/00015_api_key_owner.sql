-- An API key made in the console belongs to the administrator who made it
-- (or, made with another key, to that key's administrator): created_by_id
-- is their user ID, '' for a key made at the shell. The key ends when its
-- administrator stops being one (role revoked, account disabled, deleted
-- or taken over by the owner of its address). Keys made before this have
-- no owner recorded and stay until revoked.
-- Keep postgres/migrations/00015_api_key_owner.sql in step.

-- +goose Up
ALTER TABLE api_keys ADD COLUMN created_by_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE api_keys DROP COLUMN created_by_id;
