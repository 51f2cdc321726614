// Package scaletest runs passkeyd as operators run it past one machine:
// several instances of the real binary, each with its own connection pool,
// behind one origin, sharing one PostgreSQL database. Its tests check that a
// ceremony begun on one instance finishes on any other, that a ceremony
// completes once across instances, that parallel sign-ins lose no update, and
// that an instance whose database goes away answers 503 and recovers by
// itself when the database returns.
//
// The tests need PASSKEYD_TEST_POSTGRES (scripts/test sets it), and the
// database-restart test needs PostgreSQL's initdb and pg_ctl; without them
// they skip, except under CI=true, where they fail.
package scaletest
