package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/internal/softauthn"
)

// withEnv adds settings to the server's environment.
func withEnv(vars ...string) serverOption {
	return func(_ *server, env *[]string) { *env = append(*env, vars...) }
}

// The lifetimes are settings of the real binary (issue 11.15): a session
// maximum age of 2 seconds ends a session in use, however often it is used.
func TestSessionMaxAgeSettingEndsSession(t *testing.T) {
	srv := startServer(t, withEnv("SESSION_MAX_AGE=2s"))
	ctx := context.Background()
	b, a := softauthn.NewClient(srv.URL, srv.URL, nil), softauthn.New("localhost", srv.URL)
	if _, err := b.Register(ctx, a, "short@example.com"); err != nil {
		t.Fatal(err)
	}
	signedInAt := time.Now()
	if _, err := b.SignIn(ctx, a, "", nil); err != nil {
		t.Fatal(err)
	}
	me := func() int {
		t.Helper()
		res, err := b.Do(ctx, http.MethodGet, "/api/auth/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Status
	}
	if got := me(); got != http.StatusOK && time.Since(signedInAt) < 2*time.Second {
		t.Fatalf("right after sign-in /api/auth/me = %d, want 200", got)
	}
	// Polled every 100 ms, the session stays in use; it must end anyway.
	deadline := time.Now().Add(30 * time.Second)
	for {
		status := me()
		if status == http.StatusUnauthorized {
			break
		}
		if status != http.StatusOK {
			t.Fatalf("/api/auth/me = %d, want 200 then 401", status)
		}
		if time.Now().After(deadline) {
			t.Fatal("the session still works 30 s after sign-in with SESSION_MAX_AGE=2s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if age := time.Since(signedInAt); age < 2*time.Second {
		t.Fatalf("the session ended after %s, before its maximum age of 2s", age)
	}
}
