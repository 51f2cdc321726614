// Package testserver is what the tests that run the real passkeyd binary
// share: building it once per test binary, a free loopback port, starting
// the process and waiting until it answers, keeping what it writes,
// stopping it, and a fresh PostgreSQL schema for a test.
//
// It is for tests only: its functions take a testing.TB and fail or skip
// the test.
package testserver
