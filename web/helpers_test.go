package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/testclock"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// env is a running passkeyd handler on a real SQLite file. Its helpers
// take the calling (sub)test's t, so a failure stops the subtest that
// failed and is reported against it.
type env struct {
	srv    *httptest.Server
	store  passkeyd.Store
	clock  *testclock.Clock
	origin string
	rpID   string
}

// newEnv starts the handler behind a real HTTP server on loopback, with
// rate limits off unless configure turns them on.
func newEnv(t testing.TB, configure ...func(*web.Config)) *env {
	t.Helper()
	return newEnvWithDeps(t, web.Deps{}, configure...)
}

// newEnvWithDeps is newEnv with extra dependencies (the store is always
// a fresh SQLite file).
func newEnvWithDeps(t testing.TB, deps web.Deps, configure ...func(*web.Config)) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "file:"+filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	ts := httptest.NewUnstartedServer(nil)
	port := ts.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndexByte(port, ':')+1:]
	e := &env{store: store, clock: testclock.New(time.Now()), origin: "http://localhost:" + port, rpID: "localhost"}
	cfg := web.Config{
		RPID:       e.rpID,
		RPName:     "passkeyd test",
		Origins:    []string{e.origin},
		Secret:     []byte(strings.Repeat("s", 32)),
		Now:        e.clock.Now,
		RateLimits: web.RateLimits{Off: true},
	}
	for _, f := range configure {
		f(&cfg)
	}
	deps.Store = store
	h, err := web.New(cfg, deps)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	ts.Config.Handler = h
	ts.Start()
	t.Cleanup(ts.Close)
	e.srv = ts
	return e
}

// browser returns a new scripted browser (own cookie jar) for this server.
func (e *env) browser() *softauthn.Client {
	return softauthn.NewClient(e.srv.URL, e.origin, nil)
}

// authenticator returns a new software authenticator for this server.
func (e *env) authenticator() *softauthn.Authenticator {
	return softauthn.New(e.rpID, e.origin)
}

// signUp registers a new account and fails the test on error.
func (e *env) signUp(t testing.TB, b *softauthn.Client, a *softauthn.Authenticator, email string) *softauthn.Credential {
	t.Helper()
	c, err := b.Register(context.Background(), a, email)
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return c
}

func (e *env) signIn(t testing.TB, b *softauthn.Client, a *softauthn.Authenticator, email string, pick *softauthn.Credential) *softauthn.SignInResult {
	t.Helper()
	r, err := b.SignIn(context.Background(), a, email, pick)
	if err != nil {
		t.Fatalf("sign in %q: %v", email, err)
	}
	if !r.Verified {
		t.Fatalf("sign in %q: verified = false", email)
	}
	return r
}

// me returns the status of GET /api/auth/me and the email it names.
func (e *env) me(t testing.TB, b *softauthn.Client) (int, string) {
	t.Helper()
	res, err := b.Do(context.Background(), http.MethodGet, "/api/auth/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		User struct{ Email string } `json:"user"`
	}
	_ = json.Unmarshal(res.Body, &body)
	return res.Status, body.User.Email
}

func (e *env) user(t testing.TB, email string) *passkeyd.User {
	t.Helper()
	u, err := e.store.FindUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("find user %s: %v", email, err)
	}
	return u
}

func (e *env) credentials(t testing.TB, email string) []*passkeyd.Credential {
	t.Helper()
	cs, err := e.store.ListCredentials(context.Background(), e.user(t, email).ID)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func (e *env) events(t testing.TB, email string) []string {
	t.Helper()
	evs, err := e.store.ListEvents(context.Background(), e.user(t, email).ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	return types
}

func (e *env) noUser(t testing.TB, email string) {
	t.Helper()
	_, err := e.store.FindUserByEmail(context.Background(), email)
	if got, want := passkeyd.ErrorCode(err), passkeyd.ENOTFOUND; got != want {
		t.Fatalf("user %s: error code %q, want %q (no account)", email, got, want)
	}
}

// post sends a raw body and returns the answer.
func (e *env) post(t testing.TB, b *softauthn.Client, path string, body []byte) *softauthn.Response {
	t.Helper()
	res, err := b.Do(context.Background(), http.MethodPost, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wantError checks an error answer: the status and a JSON "error" message
// that contains each of the given fragments.
func wantError(t *testing.T, res *softauthn.Response, status int, fragments ...string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d; body %s", res.Status, status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON", ct)
	}
	msg := res.Error()
	if msg == "" {
		t.Fatalf("no error message in %s", res.Body)
	}
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("error %q does not mention %q", msg, f)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// copyCookies gives to the cookies from has for url, as a thief would.
func copyCookies(t *testing.T, from, to *softauthn.Client, rawURL string) {
	t.Helper()
	u, _ := url.Parse(rawURL)
	to.HTTP.Jar.SetCookies(u, from.HTTP.Jar.Cookies(u))
}

func sessionCookie(t *testing.T, b *softauthn.Client, rawURL string) string {
	t.Helper()
	u, _ := url.Parse(rawURL)
	for _, c := range b.HTTP.Jar.Cookies(u) {
		if strings.Contains(c.Name, "session") {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// findSetCookie returns the Set-Cookie whose name contains part, or nil.
func findSetCookie(t *testing.T, h http.Header, part string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if strings.Contains(c.Name, part) {
			return c
		}
	}
	return nil
}

// postWithCookie posts body with exactly one cookie, bypassing the jar.
func postWithCookie(t *testing.T, e *env, path string, body []byte, c *http.Cookie) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", e.origin)
	if c != nil {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}
