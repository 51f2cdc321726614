package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/console"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/testclock"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// harness is passkeyd's web handler with the OpenID Connect provider and
// the console mounted as cmd/passkeyd mounts them, on a real SQLite file
// and a real loopback listener, with a clock the test moves. Alice is the
// administrator, Bob a signed-in person who is not one; both signed in
// with passkeys.
type harness struct {
	store   console.Store
	console *console.Console
	clock   *testclock.Clock
	pages   *recordedPages
	mails   *inbox
	base    string

	alice, bob, anon     *softauthn.Client
	aliceID, bobID       string
	aliceKey, bobKey     *softauthn.Authenticator
	aliceEmail, bobEmail string
}

const testSecret = "a-console-test-secret-of-at-least-32-characters"

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarnessWithoutAdmin(t)
	if err := h.store.SetAdmin(t.Context(), h.aliceID, true, passkeyd.NewEvent(h.clock.Now(), passkeyd.Actor{}, h.aliceID, passkeyd.EventAdminGranted, "", "test")); err != nil {
		t.Fatal(err)
	}
	return h
}

// newHarnessWithoutAdmin is a harness on a fresh installation: nobody is
// an administrator yet.
func newHarnessWithoutAdmin(t *testing.T) *harness {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	base := "http://localhost:" + port
	clk := testclock.New(time.Now().UTC().Truncate(time.Millisecond))
	cfg := web.Config{RPID: "localhost", Origins: []string{base}, Secret: []byte(testSecret),
		RateLimits: web.RateLimits{Off: true}, Now: clk.Now, ConnectedApps: true, Console: true}
	mails := &inbox{}
	auth, err := web.New(cfg, web.Deps{Store: store, Mailer: mails})
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.WithDefaults()
	provider, err := oidc.New(oidc.Config{Issuer: cfg.PublicURL, Secret: cfg.Secret, Now: cfg.Now, StepUpWindow: cfg.StepUpWindow},
		oidc.Deps{Store: store, Pages: auth, Users: auth})
	if err != nil {
		t.Fatal(err)
	}
	auth.Mount("POST /oidc/token", provider.Handler(), web.Sessionless, web.CrossOrigin, web.BoundedBody, web.ClientAuthFailureLimit)
	auth.Mount("/oidc/revoke", provider.Handler(), web.Sessionless, web.CrossOrigin, web.BoundedBody)
	auth.Mount("/oidc/", provider.Handler(), web.BoundedBody)

	// The pages are web template "admin", helper D's; here a recorder
	// stands in for it, so that the statuses and sections are checked
	// whatever the template says (the real-binary test renders it).
	pages := &recordedPages{}
	c, err := console.New(console.Config{PublicURL: cfg.PublicURL, Secret: cfg.Secret, StepUpWindow: cfg.StepUpWindow,
		RecoveryLinkTTL: cfg.RecoveryLinkTTL, SiteName: cfg.RPName, ConnectedApps: true, Now: cfg.Now},
		console.Deps{Store: store, Pages: pages, Users: auth, Mailer: mails, ClientIP: web.ClientIP})
	if err != nil {
		t.Fatal(err)
	}
	// As cmd/passkeyd's mountConsole.
	auth.Mount("/admin", c.Handler())
	auth.Mount("/admin/", c.Handler())
	auth.Mount("/api/admin/", c.Handler(), web.BoundedBody, web.ConsoleLimits)

	srv := httptest.NewUnstartedServer(auth)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)

	h := &harness{store: store, console: c, clock: clk, pages: pages, mails: mails, base: base,
		anon: softauthn.NewClient(base, base, loopback()), aliceEmail: "alice@example.com", bobEmail: "bob@example.com"}
	h.alice, h.aliceKey, h.aliceID = h.signUp(t, h.aliceEmail)
	h.bob, h.bobKey, h.bobID = h.signUp(t, h.bobEmail)
	return h
}

// signUp registers a person with a passkey and signs them in.
func (h *harness) signUp(t *testing.T, email string) (*softauthn.Client, *softauthn.Authenticator, string) {
	t.Helper()
	browser := softauthn.NewClient(h.base, h.base, loopback())
	a := softauthn.New("localhost", h.base)
	if _, err := browser.Register(t.Context(), a, email); err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	res, err := browser.SignIn(t.Context(), a, email, nil)
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	return browser, a, res.User.ID
}

// signInAgain verifies a passkey again (a fresh step-up).
func (h *harness) signInAgain(t *testing.T, browser *softauthn.Client, a *softauthn.Authenticator, email string) {
	t.Helper()
	if _, err := browser.SignIn(t.Context(), a, email, nil); err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
}

// call sends a request as browser (a JSON body if body is not nil) and
// returns the answer.
func call(t *testing.T, browser *softauthn.Client, method, path string, body any) *softauthn.Response {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	res, err := browser.Do(t.Context(), method, path, b)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return res
}

// withKey returns a client that sends an API key and no cookies, as a
// script does (no Origin either).
func withKey(base, key string) *softauthn.Client {
	c := softauthn.NewClient(base, "", &bearer{key: key, next: loopback()})
	return c
}

type bearer struct {
	key  string
	next http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}

// want checks a response's status, and decodes its body into v if v is
// not nil.
func want(t *testing.T, res *softauthn.Response, status int, v any) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
	if v != nil {
		if err := json.Unmarshal(res.Body, v); err != nil {
			t.Fatalf("decode %s: %v", res.Body, err)
		}
	}
}

// errorCode is the "code" of an error answer.
func errorCode(res *softauthn.Response) string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(res.Body, &e)
	return e.Code
}

// recordedPages answers the console's pages with their status and
// section, and keeps the last page.
type recordedPages struct {
	mu   sync.Mutex
	last *console.Page
}

func (p *recordedPages) Render(w http.ResponseWriter, _ *http.Request, status int, name string, data any) error {
	page, ok := data.(*console.Page)
	if name != "admin" || !ok {
		return fmt.Errorf("render %s with %T: want admin with *console.Page", name, data)
	}
	p.mu.Lock()
	p.last = page
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>%s</title><main data-section=%q data-id=%q>", page.Heading, page.Section, page.ID)
	return nil
}

func (p *recordedPages) lastPage() *console.Page {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// inbox keeps the email passkeyd sends.
type inbox struct {
	mu    sync.Mutex
	mails []passkeyd.Email
}

func (b *inbox) Enqueue(e passkeyd.Email) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mails = append(b.mails, e)
	return true
}

func (b *inbox) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.mails)
}

func (b *inbox) last() passkeyd.Email {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.mails) == 0 {
		return passkeyd.Email{}
	}
	return b.mails[len(b.mails)-1]
}

// loopback dials localhost as 127.0.0.1, so the origin can be localhost
// (a WebAuthn RP ID) while the listener is on the loopback address.
func loopback() *http.Transport {
	d := &net.Dialer{}
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, _ := net.SplitHostPort(addr)
		if host == "localhost" {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return d.DialContext(ctx, network, addr)
	}}
}

// snapshot is what the console can change, read from the store: the
// accounts (with their role, passkeys, sessions and groups), apps, groups,
// API keys and the whole audit log, as JSON to compare.
func snapshot(t *testing.T, store console.Store) string {
	t.Helper()
	ctx := t.Context()
	type account struct {
		User     *passkeyd.User
		Admin    bool
		Passkeys []string
		Sessions []string
		Groups   []string
	}
	var s struct {
		Accounts []account
		Apps     []*passkeyd.OIDCClient
		Groups   []*passkeyd.Group
		Keys     []*passkeyd.APIKey
		Events   []*passkeyd.Event
	}
	users, err := store.ListUsers(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		a := account{User: u}
		if a.Admin, err = store.IsAdmin(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		creds, err := store.ListCredentials(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range creds {
			a.Passkeys = append(a.Passkeys, c.ID+" "+c.Name)
		}
		// Their IDs only: reading a page touches the session (LastSeenAt).
		sessions, err := store.ListSessions(ctx, u.ID, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, ss := range sessions {
			a.Sessions = append(a.Sessions, ss.ID)
		}
		groups, err := store.ListUserGroups(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range groups {
			a.Groups = append(a.Groups, g.ID+" "+g.Name)
		}
		s.Accounts = append(s.Accounts, a)
	}
	if s.Apps, err = store.ListOIDCClients(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Groups, err = store.ListGroups(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Keys, err = store.ListAPIKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Events, err = store.ListAuditEvents(ctx, passkeyd.AuditQuery{Limit: 10000}); err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pathFor fills in a route's pattern with IDs that exist, so that a call
// the access check let through would act.
func pathFor(pattern string, ids map[string]string) string {
	section := strings.Split(strings.TrimPrefix(strings.TrimPrefix(pattern, "/api"), "/admin/"), "/")[0]
	p := strings.ReplaceAll(pattern, "{id}", ids[section])
	p = strings.ReplaceAll(p, "{clientId}", ids["apps"])
	p = strings.ReplaceAll(p, "{groupId}", ids["groups"])
	return p
}
