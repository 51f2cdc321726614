-- Sign-up links (SIGNUP_MODE=email-first): a token for an address that
-- has no account yet, so tokens.user_id may be NULL for them.
-- Keep sqlite/migrations/00005_signup_tokens.sql in step.

-- +goose Up
ALTER TABLE tokens ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE tokens ADD CONSTRAINT tokens_user_only_for_sign_up CHECK ((user_id IS NULL) = (purpose = 'sign_up'));
CREATE INDEX tokens_sign_up_email ON tokens (email) WHERE user_id IS NULL;

-- +goose Down
DELETE FROM tokens WHERE user_id IS NULL;
DROP INDEX tokens_sign_up_email;
ALTER TABLE tokens DROP CONSTRAINT tokens_user_only_for_sign_up;
ALTER TABLE tokens ALTER COLUMN user_id SET NOT NULL;
