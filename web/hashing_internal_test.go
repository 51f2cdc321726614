package web

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/passkeyd/passkeyd/sqlite"
)

// Recovery code checks run Argon2id (19 MiB, a core for tens of ms each).
// Many at once must not run more than the slots allow: the rest are
// answered 503 with Retry-After at once (issue 13.2).
func TestArgon2idRunsAreBounded(t *testing.T) {
	store, err := sqlite.Open(context.Background(), "file:"+filepath.Join(t.TempDir(), "hash.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	s, err := New(Config{RPID: "localhost", Origins: []string{"http://localhost:8080"}, Secret: []byte(strings.Repeat("a", 32)),
		RateLimits: RateLimits{Off: true}}, Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	const slots, requests = 2, 7
	var (
		mu               sync.Mutex
		inFlight, most   int
		entered, release = make(chan struct{}, requests), make(chan struct{})
	)
	s.hashers = hashSlots{slots: make(chan struct{}, slots), running: func() {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		entered <- struct{}{}
		<-release // hold the slot until every request has been answered or is hashing
		mu.Lock()
		inFlight--
		mu.Unlock()
	}}

	statuses := make(chan *httptest.ResponseRecorder, requests)
	for range requests {
		go func() {
			req := httptest.NewRequest("POST", "/api/recovery/codes/verify",
				bytes.NewReader([]byte(`{"email":"nobody@example.com","code":"abcde-fghjkm-npqrst"}`)))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			statuses <- rec
		}()
	}
	for range slots {
		<-entered
	}
	for range requests - slots {
		rec := <-statuses
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("request beyond the slots: %d (Retry-After %q), want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	close(release)
	for range slots {
		if rec := <-statuses; rec.Code != http.StatusUnauthorized {
			t.Errorf("request in a slot: %d %s, want 401 (no such code)", rec.Code, rec.Body)
		}
	}
	if most != slots {
		t.Fatalf("%d Argon2id runs at once, want at most %d (and that many reached)", most, slots)
	}
}
