package sqlstore_test

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/sqlite"
)

// One batch of SQLite's group commit holds a sign-in that commits and one
// that fails after it has written (its used challenge, before the counter
// check refused it): the first is stored, nothing of the second is.
func TestGroupCommitRollsBackOnlyTheFailedWrite(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := &passkeyd.User{ID: "usr_1", Email: "a@example.com", DisplayName: "a", Handle: make([]byte, 32), CreatedAt: now, UpdatedAt: now}
	c := &passkeyd.Credential{ID: "pk_1", UserID: u.ID, CredentialID: []byte("cred-1"), PublicKey: make([]byte, 77),
		AAGUID: make([]byte, 16), AttestationFormat: "none", Name: "Passkey", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u, c, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	signIn := func(ch string, previous, next uint32) *passkeyd.SignIn {
		return &passkeyd.SignIn{
			Challenge: passkeyd.UsedChallenge{ID: ch, ExpiresAt: now.Add(time.Hour)},
			Use:       passkeyd.CredentialUse{CredentialID: c.CredentialID, PreviousSignCount: previous, SignCount: next, UsedAt: now},
			Session: &passkeyd.Session{ID: "ses_" + ch, UserID: u.ID, Scope: passkeyd.ScopeFull, CreatedAt: now, LastSeenAt: now,
				AuthenticatedAt: now, IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)},
		}
	}

	queued, release := sqlstore.HoldGroupCommit(s)
	defer release()
	leader := make(chan error, 1)
	go func() { leader <- s.RecordEvent(ctx, &passkeyd.Event{Type: passkeyd.EventLoginFailed, CreatedAt: now}) }()
	// Each write queues behind the held leader's, in this order.
	waitQueued := func(n int) {
		for queued() < n {
			runtime.Gosched()
		}
	}
	waitQueued(1)
	good, bad := make(chan error, 1), make(chan error, 1)
	go func() { good <- s.CompleteSignIn(ctx, signIn("chl-good", 0, 1)) }()
	waitQueued(2)
	go func() { bad <- s.CompleteSignIn(ctx, signIn("chl-bad", 0, 1)) }() // the counter is 1 when it runs
	waitQueued(3)
	release()
	if err := <-leader; err != nil {
		t.Fatalf("leader's write: %v", err)
	}
	if err := <-good; err != nil {
		t.Fatalf("the sign-in that should commit: %v", err)
	}
	if err := <-bad; passkeyd.ErrorCode(err) != passkeyd.ECONFLICT {
		t.Fatalf("the sign-in against a moved counter: %v, want ECONFLICT", err)
	}
	if _, _, err := s.FindSession(ctx, "ses_chl-good", now); err != nil {
		t.Errorf("the committed sign-in's session: %v", err)
	}
	// The refused sign-in's used challenge was rolled back with it.
	err = s.CompleteSignIn(ctx, signIn("chl-bad", 1, 2))
	if errors.Is(err, passkeyd.ErrChallengeUsed) {
		t.Fatal("the refused sign-in's used challenge was committed with its batch")
	}
	if err != nil {
		t.Fatalf("CompleteSignIn(chl-bad again): %v", err)
	}
}
