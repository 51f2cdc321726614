-- Signing keys are made by whichever request first finds none, on any
-- instance. Each key of an algorithm has a generation, one more than the
-- newest key's, and a generation is stored once: of instances making the
-- first key (or a rotation) at the same time, one stores it and the others
-- use it, instead of each storing its own.
--
-- The keys already stored (possibly several made at once before this
-- migration) are numbered in the order they were made.
-- Keep postgres/migrations/00010_oidc_key_generation.sql in step.

-- +goose Up
ALTER TABLE oidc_keys ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
UPDATE oidc_keys SET generation = (
	SELECT COUNT(*) FROM oidc_keys o
	WHERE o.algorithm = oidc_keys.algorithm
		AND (o.created_at < oidc_keys.created_at OR (o.created_at = oidc_keys.created_at AND o.id <= oidc_keys.id)));
CREATE UNIQUE INDEX oidc_keys_algorithm_generation ON oidc_keys (algorithm, generation);

-- +goose Down
DROP INDEX oidc_keys_algorithm_generation;
ALTER TABLE oidc_keys DROP COLUMN generation;
