// Package storetest holds the suite every passkeyd.Store must pass. The
// sqlite and postgres packages run it on a real database; a host
// application that brings its own store can run it too:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) passkeyd.Store {
//			return mustOpenStore(t) // new, empty, migrated; closed in t.Cleanup
//		})
//	}
//
// RunOIDC and RunConsole are the suites of passkeyd.OIDCStore and
// passkeyd.ConsoleStore, for a store that implements them too.
package storetest

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/passkeyd/passkeyd"
)

// Run runs the whole suite as named subtests. open is called once per
// subtest and must return a new, empty, migrated store that it closes
// itself (with t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) passkeyd.Store) {
	t.Run("CreateUser", func(t *testing.T) { testCreateUser(t, open) })
	t.Run("FindUser", func(t *testing.T) { testFindUser(t, open) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open) })
	t.Run("Credential", func(t *testing.T) { testCredential(t, open) })
	t.Run("UsedChallenge", func(t *testing.T) { testUsedChallenge(t, open) })
	t.Run("CompleteSignIn", func(t *testing.T) { testCompleteSignIn(t, open) })
	t.Run("Session", func(t *testing.T) { testSession(t, open) })
	t.Run("Event", func(t *testing.T) { testEvent(t, open) })
	t.Run("DeleteExpired", func(t *testing.T) { testDeleteExpired(t, open) })
	t.Run("Account", func(t *testing.T) { testAccount(t, open) })
	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// t0 is the suite's "now". Stored times have millisecond precision, so every
// time the suite stores is a whole millisecond.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// cmpOpts compares what a store returns with what went in: nil and empty
// slices are the same, and times compare with Equal (whatever their zone).
var cmpOpts = []cmp.Option{cmpopts.EquateEmpty()}

// randomID returns a fresh, unguessable ID, so that tests never collide.
func randomID(prefix string) string { return prefix + "_" + rand.Text() }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// newUser returns a user with email and a first passkey for it, both valid
// and not yet stored.
func newUser(email string) (*passkeyd.User, *passkeyd.Credential) {
	u := &passkeyd.User{
		ID:          randomID("usr"),
		Email:       email,
		DisplayName: "Test User",
		Handle:      randomBytes(32),
		CreatedAt:   t0,
		UpdatedAt:   t0,
	}
	return u, newCredential(u.ID, t0)
}

// newCredential returns a passkey of userID created at created, not yet
// stored.
func newCredential(userID string, created time.Time) *passkeyd.Credential {
	return &passkeyd.Credential{
		ID:                randomID("pk"),
		UserID:            userID,
		CredentialID:      randomBytes(16),
		PublicKey:         randomBytes(77),
		SignCount:         0,
		Transports:        []string{"internal", "hybrid"},
		AAGUID:            make([]byte, 16),
		AttestationFormat: "none",
		Name:              "Passkey",
		CreatedAt:         created,
		UpdatedAt:         created,
	}
}

// mustCreateUser stores a new user with email and its first passkey.
func mustCreateUser(t testing.TB, s passkeyd.Store, email string) (*passkeyd.User, *passkeyd.Credential) {
	t.Helper()
	u, c := newUser(email)
	ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventUserCreated, CredentialID: c.ID, CreatedAt: t0}
	if err := s.CreateUser(t.Context(), u, c, ev); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u, c
}

// newSession returns a full session of u, signed in at at with c, idle for
// an hour and valid for a day.
func newSession(u *passkeyd.User, c *passkeyd.Credential, at time.Time) *passkeyd.Session {
	return &passkeyd.Session{
		ID:              randomID("ses"),
		UserID:          u.ID,
		Scope:           passkeyd.ScopeFull,
		CredentialID:    c.ID,
		UserAgent:       "Mozilla/5.0 (storetest)",
		IP:              "192.0.2.7",
		CreatedAt:       at,
		LastSeenAt:      at,
		AuthenticatedAt: at,
		IdleExpiresAt:   at.Add(time.Hour),
		ExpiresAt:       at.Add(24 * time.Hour),
	}
}

// mustSignIn opens session with c through CompleteSignIn, at the
// session's CreatedAt. The counter goes from c.SignCount to count if given,
// else stays; c.SignCount follows.
func mustSignIn(t testing.TB, s passkeyd.Store, c *passkeyd.Credential, session *passkeyd.Session, count ...uint32) {
	t.Helper()
	next := c.SignCount
	if len(count) > 0 {
		next = count[0]
	}
	in := &passkeyd.SignIn{
		Challenge: newUsedChallenge(),
		Use:       passkeyd.CredentialUse{CredentialID: c.CredentialID, PreviousSignCount: c.SignCount, SignCount: next, UsedAt: session.CreatedAt},
		Session:   session,
	}
	if err := s.CompleteSignIn(t.Context(), in); err != nil {
		t.Fatalf("CompleteSignIn: %v", err)
	}
	c.SignCount = next
}

// wantCode fails the test unless err carries the error code want ("" for
// no error).
func wantCode(t testing.TB, err error, want, what string) {
	t.Helper()
	if got := passkeyd.ErrorCode(err); got != want {
		t.Fatalf("%s: error code %q, want %q (error: %v)", what, got, want, err)
	}
}

// race runs f(0) ... f(n-1) in n goroutines released at once and returns
// their errors.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// countCodes counts errs by error code ("" for nil).
func countCodes(errs []error) map[string]int {
	m := make(map[string]int)
	for _, err := range errs {
		m[passkeyd.ErrorCode(err)]++
	}
	return m
}

// eventTypes lists the types of the user's events, newest first.
func eventTypes(t testing.TB, s passkeyd.Store, userID string) []string {
	t.Helper()
	events, err := s.ListEvents(t.Context(), userID, 0, 1000)
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	return types
}

// recoverySession returns a recovery session opened at at, for
// StartRecovery, which sets its user.
func recoverySession(at time.Time) *passkeyd.Session {
	return &passkeyd.Session{
		ID:              randomID("ses"),
		Scope:           passkeyd.ScopeRecovery,
		UserAgent:       "Mozilla/5.0 (storetest)",
		IP:              "192.0.2.8",
		CreatedAt:       at,
		LastSeenAt:      at,
		AuthenticatedAt: at,
		IdleExpiresAt:   at.Add(time.Hour),
		ExpiresAt:       at.Add(time.Hour),
	}
}

// useCode spends a recovery code the way the web layer does: StartRecovery
// opens a recovery session with it.
func useCode(ctx context.Context, s passkeyd.Store, userID, codeID string, at time.Time) error {
	_, err := s.StartRecovery(ctx, &passkeyd.Recovery{UserID: userID, CodeID: codeID, At: at, Session: recoverySession(at)})
	return err
}
