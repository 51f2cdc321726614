-- events_type (type, created_at), made by 00013 for the console's overview
-- and audit filters, cost every passkey sign-in's store write about 8 %
-- (its event updates the index). BenchmarkStore's CompleteSignIn on
-- SQLite, idle machine, two runs each: 00013's two events indexes 332 and
-- 361 µs, events_created_at alone 309 and 330, neither 311 and 304. The
-- overview's counts are served as well by events_created_at (a range of
-- days, then the type), and the audit log's type filter walks the log
-- newest first. A sign-in's cost comes first.
-- Keep postgres/migrations/00014_events_type_index.sql in step.

-- +goose Up
DROP INDEX events_type;

-- +goose Down
CREATE INDEX events_type ON events (type, created_at);
