// Package systemtest holds tests of the real passkeyd binary as a process:
// crash safety and a soak. It has no code besides its tests.
//
// The tests build ./cmd/passkeyd once (or use the binary named by
// PASSKEYD_TEST_BINARY), start it on a free loopback port, and drive it
// with softauthn's scripted browsers and software authenticators:
//
//   - TestCrash runs registrations and sign-ins from several goroutines,
//     kills the server with SIGKILL at random moments (some aimed at a
//     sign-up in progress or at its acknowledgment), restarts it on the
//     same database, and checks that every registration the server
//     acknowledged survived and signs in, and that no half-written account,
//     passkey or session exists. -crash-rounds=N sets how many kills (9).
//   - TestSoak holds a steady load for a bounded time (45 s by default;
//     -soak=10m or PASSKEYD_SOAK_DURATION=10m for longer, with a -timeout to
//     match) and checks that no request fails and that the server's memory,
//     file descriptors and goroutines stay flat.
//
// Both run on SQLite, and on PostgreSQL when PASSKEYD_TEST_POSTGRES holds a
// database URL (scripts/test sets it); each test works in a schema of its
// own, and TestCrash reaches it through a proxy that adds network latency.
// Without it the PostgreSQL variants skip, except under CI=true, where they
// fail.
//
// The tests need Linux (/proc, and the kernel killing the server should the
// test process die first).
//
//	go test ./systemtest -v -count=1
//	go test ./systemtest -run Soak -soak=10m -timeout 30m -v
package systemtest
