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
