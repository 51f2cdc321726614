-- What apps receive under the profile scope is what the user chose, never
-- the email address. Sign-up used to set display_name to the address (there
-- was no way to set it), so every display name holding an address is one
-- passkeyd filled in: it is cleared, and an unset name is left out of the
-- claims. username is the preferred_username claim: unset (''), or unique,
-- 3 to 32 of a-z 0-9 . _ - (passkeyd.ValidateUsername).
-- Keep postgres/migrations/00012_user_profile.sql in step.

-- +goose Up
ALTER TABLE users ADD COLUMN username TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_username ON users (username) WHERE username <> '';
UPDATE users SET display_name = '' WHERE display_name LIKE '%@%';

-- +goose Down
DROP INDEX users_username;
ALTER TABLE users DROP COLUMN username;
