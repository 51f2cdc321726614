package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// TestMountedUnderPrefix runs the ceremonies through a host application's
// mux, with passkeyd under /auth and a protected app route beside it.
func TestMountedUnderPrefix(t *testing.T) {
	store, err := sqlite.Open(context.Background(), "file:"+filepath.Join(t.TempDir(), "host.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ts := httptest.NewUnstartedServer(nil)
	origin := "http://localhost:" + ts.Listener.Addr().String()[strings.LastIndexByte(ts.Listener.Addr().String(), ':')+1:]
	auth, err := web.New(web.Config{RPID: "localhost", Origins: []string{origin}, Secret: []byte(strings.Repeat("m", 32)),
		BasePath: "/auth", RateLimits: web.RateLimits{Off: true}}, web.Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", auth))
	mux.Handle("/app/", auth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello ", passkeyd.UserFromContext(r.Context()).Email)
	})))
	ts.Config.Handler = mux
	ts.Start()
	defer ts.Close()

	b := softauthn.NewClient(ts.URL+"/auth", origin, nil)
	a := softauthn.New("localhost", origin)
	ctx := context.Background()
	if _, err := b.Register(ctx, a, "host@example.com"); err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		res, err := b.HTTP.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if status, _ := get("/app/"); status != http.StatusSeeOther {
		t.Fatalf("signed out /app/ = %d, want a redirect", status)
	}
	if _, err := b.SignIn(ctx, a, "", nil); err != nil {
		t.Fatal(err)
	}
	if status, body := get("/app/"); status != 200 || body != "hello host@example.com" {
		t.Fatalf("signed in /app/ = %d %q", status, body)
	}
	status, page := get("/auth/dashboard")
	if status != 200 || !strings.Contains(page, `data-base="/auth"`) || !strings.Contains(page, `src="/auth/static/app.`) {
		t.Fatalf("dashboard under /auth: %d, base or script path missing", status)
	}
}

// ConsoleLimits counts the console API's requests per address and per API
// key (or signed-in account): a key at its limit gets 429, another key
// from the same address goes on until the address's limit.
func TestConsoleLimits(t *testing.T) {
	store, err := sqlite.Open(t.Context(), "file:"+filepath.Join(t.TempDir(), "limits.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	limits := web.DefaultRateLimits()
	limits.ConsolePerAccount = web.Limit{Count: 2, Window: time.Hour}
	limits.ConsolePerIP = web.Limit{Count: 4, Window: time.Hour} // counted first, refused requests too
	auth, err := web.New(web.Config{RPID: "localhost", Origins: []string{"http://localhost"}, Secret: []byte(strings.Repeat("m", 32)),
		RateLimits: limits}, web.Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	auth.Mount("/api/admin/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), web.BoundedBody, web.ConsoleLimits)
	call := func(key string) int {
		r := httptest.NewRequest("GET", "/api/admin/people", nil)
		r.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		auth.ServeHTTP(w, r)
		return w.Code
	}
	for i, c := range []struct {
		key  string
		want int
	}{{"pkd_one", 200}, {"pkd_one", 200}, {"pkd_one", 429}, {"pkd_two", 200}, {"pkd_three", 429}} {
		if got := call(c.key); got != c.want {
			t.Errorf("request %d with %s: %d, want %d", i+1, c.key, got, c.want)
		}
	}
}
