package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// TestMountedRoutesDeclareTheirRules: a handler mounted in the Server
// (as cmd/passkeyd mounts the OpenID Connect provider) gets what its
// line declares and nothing else: the session unless Sessionless, the
// same-origin check unless CrossOrigin, and its errors on a page where
// ErrorPage says so.
func TestMountedRoutesDeclareTheirRules(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "file:"+filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ts := httptest.NewUnstartedServer(nil)
	origin := "http://localhost:" + ts.Listener.Addr().String()[strings.LastIndexByte(ts.Listener.Addr().String(), ':')+1:]
	limits := web.DefaultRateLimits()
	limits.AuthorizePerIP = web.Limit{Count: 1, Window: time.Hour}
	auth, err := web.New(web.Config{RPID: "localhost", Origins: []string{origin}, Secret: []byte(strings.Repeat("r", 32)), RateLimits: limits},
		web.Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, _ := auth.SignedIn(r); u != nil {
			w.Write([]byte(u.Email))
		}
	})
	auth.Mount("/whoami", whoami)
	auth.Mount("/whoami-sessionless", whoami, web.Sessionless)
	auth.Mount("POST /cross", whoami, web.Sessionless, web.CrossOrigin)
	auth.Mount("/limited", whoami, web.Sessionless, web.AppSignInLimits, web.ErrorPage(func(w http.ResponseWriter, _ *http.Request, err error) {
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("page: " + err.Error()))
	}))
	ts.Config.Handler = auth
	ts.Start()
	t.Cleanup(ts.Close)

	b := softauthn.NewClient(ts.URL, origin, nil)
	a := softauthn.New("localhost", origin)
	if _, err := b.Register(ctx, a, "alice@example.com"); err != nil {
		t.Fatalf("register: %v", err)
	}
	if r, err := b.SignIn(ctx, a, "alice@example.com", nil); err != nil || !r.Verified {
		t.Fatalf("sign in: %v %v", r, err)
	}
	get := func(path string) (int, string) {
		t.Helper()
		res, err := b.Do(ctx, http.MethodGet, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Status, string(res.Body)
	}
	if status, body := get("/whoami"); status != http.StatusOK || body != "alice@example.com" {
		t.Errorf("GET /whoami = %d %q; want the signed-in user", status, body)
	}
	if status, body := get("/whoami-sessionless"); status != http.StatusOK || body != "" {
		t.Errorf("GET /whoami-sessionless = %d %q; want no session read", status, body)
	}

	post := func(path string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader("x=1"))
		req.Header.Set("Origin", "https://other.example")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post("/whoami"); got != http.StatusForbidden {
		t.Errorf("cross-site POST /whoami = %d; want 403", got)
	}
	if got := post("/cross"); got != http.StatusOK {
		t.Errorf("cross-site POST /cross (CrossOrigin) = %d; want 200", got)
	}

	get("/limited")
	if status, body := get("/limited"); status != http.StatusTeapot || !strings.HasPrefix(body, "page: ") {
		t.Errorf("GET /limited over the limit = %d %q; want the ErrorPage's answer", status, body)
	}
	res, err := b.Do(ctx, http.MethodPost, "/limited", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusTooManyRequests || res.Error() == "" {
		t.Errorf("POST /limited over the limit = %d %q; want web's JSON 429", res.Status, res.Body)
	}
}
