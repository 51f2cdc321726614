-- Two settings of the authorization step.
--
-- oidc_clients.allow_unverified_email: an operator's choice to let
-- accounts whose address is not confirmed sign in to this app (which must
-- not use the email to find its own accounts). Off by default: apps that
-- match accounts by email would otherwise let anyone who signs up with
-- someone else's address in as that person.
--
-- oidc_auth_requests.hint_subject: the subject of a valid id_token_hint,
-- so that the sign-in step can tell when the app asked for another account
-- than the one signed in.
--
-- Keep sqlite/migrations/00011_oidc_unverified_email_and_hint.sql in step.

-- +goose Up
ALTER TABLE oidc_clients ADD COLUMN allow_unverified_email BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE oidc_auth_requests ADD COLUMN hint_subject TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oidc_auth_requests DROP COLUMN hint_subject;
ALTER TABLE oidc_clients DROP COLUMN allow_unverified_email;
