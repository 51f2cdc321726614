package web_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// heldStore holds every FindUserByEmail until release is closed, and
// hands the context it was called with to started.
type heldStore struct {
	passkeyd.Store
	started chan context.Context
	release chan struct{}
}

func (s *heldStore) FindUserByEmail(ctx context.Context, email string) (*passkeyd.User, error) {
	s.started <- ctx
	<-s.release
	return s.Store.FindUserByEmail(ctx, email)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newHeldServer runs a Server whose recovery look-ups wait for release.
func newHeldServer(t *testing.T) (*web.Server, *heldStore, *softauthn.Client, *syncBuffer) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), "file:"+filepath.Join(t.TempDir(), "held.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &heldStore{Store: db, started: make(chan context.Context, 100), release: make(chan struct{})}
	logs := &syncBuffer{}
	ts := httptest.NewUnstartedServer(nil)
	origin := "http://localhost:" + ts.Listener.Addr().String()[strings.LastIndexByte(ts.Listener.Addr().String(), ':')+1:]
	srv, err := web.New(web.Config{RPID: "localhost", Origins: []string{origin}, Secret: []byte(strings.Repeat("h", 32)),
		RateLimits: web.RateLimits{Off: true}, RequestTimeout: 7 * time.Second},
		web.Deps{Store: store, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		select {
		case <-store.release:
		default:
			close(store.release)
		}
	})
	return srv, store, softauthn.NewClient(ts.URL, origin, nil), logs
}

func askRecovery(t *testing.T, b *softauthn.Client, email string) {
	t.Helper()
	if res := call(t, b, "POST", "/api/recovery/email", map[string]string{"email": email}); res.Status != 202 {
		t.Fatalf("recovery request: %d %s", res.Status, res.Body)
	}
}

// The look-up after the 202 answer has a deadline, outlives its request,
// and Close waits for it (issue 11.8).
func TestRecoveryLookUpRunsAfterTheAnswerUntilClose(t *testing.T) {
	srv, store, b, logs := newHeldServer(t)
	askRecovery(t, b, "held@example.com")
	ctx := <-store.started // the answer is in: the request is over
	deadline, ok := ctx.Deadline()
	if !ok || time.Until(deadline) > 7*time.Second {
		t.Fatalf("look-up deadline %v (set: %v), want one within RequestTimeout", deadline, ok)
	}
	if ctx.Err() != nil {
		t.Fatalf("look-up context ended with its request: %v", ctx.Err())
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Close(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close with a look-up in flight and no time left: %v, want context.Canceled", err)
	}
	askRecovery(t, b, "late@example.com") // after Close: answered, but not looked up
	if !strings.Contains(logs.String(), "background work dropped") {
		t.Errorf("work refused after Close is not in the log:\n%s", logs)
	}
	close(store.release)
	if err := srv.Close(context.Background()); err != nil {
		t.Fatalf("Close after the look-up could finish: %v", err)
	}
	if n := len(store.started); n != 0 {
		t.Fatalf("%d look-ups started after Close", n)
	}
}

// When every background slot is taken, a recovery request is still
// answered, and the log says its look-up was dropped.
func TestRecoveryLookUpsBeyondTheSlotsAreLogged(t *testing.T) {
	srv, store, b, logs := newHeldServer(t)
	const slots = 64
	for i := 0; i < slots; i++ {
		askRecovery(t, b, "held@example.com")
	}
	if strings.Contains(logs.String(), "slots full") {
		t.Fatalf("dropped before the slots were full:\n%s", logs)
	}
	askRecovery(t, b, "one-too-many@example.com")
	if !strings.Contains(logs.String(), "background slots full; work dropped") {
		t.Fatalf("a dropped look-up is not in the log:\n%s", logs)
	}
	close(store.release)
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
