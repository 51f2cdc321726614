package console_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/console"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/sqlite"
)

var setupLink = regexp.MustCompile(`(http://localhost:[0-9]+/admin/setup\?token=[A-Za-z0-9_-]+)`)

// TestBinary runs the real passkeyd on a fresh SQLite file: the setup link
// it prints makes Alice the first administrator; then every route of the
// table is walked as an anonymous caller (401) and as Bob, who is not an
// administrator (403), changing nothing; an API key Alice makes reads the
// people list, and her pages render.
func TestBinary(t *testing.T) {
	port, dir := testserver.FreePort(t), t.TempDir()
	base := "http://localhost:" + port
	p := testserver.Run(t, testserver.Config{Dir: dir, Env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "HOST=127.0.0.1", "PORT=" + port,
		"WEBAUTHN_RP_ID=localhost", "WEBAUTHN_ORIGIN=" + base, "DATA_DIR=" + filepath.Join(dir, "data"),
		"SESSION_SECRET=" + testSecret, "RATE_LIMIT=off", "LOG_FORMAT=text",
	}}, 10*time.Second)
	p.WaitHealthy(t, "http://127.0.0.1:"+port+"/healthz", 2*time.Minute)
	m := setupLink.FindStringSubmatch(p.Out.String())
	if m == nil {
		t.Fatalf("passkeyd printed no setup link:\n%s", p.Out.String())
	}
	token := strings.SplitN(m[1], "token=", 2)[1]
	for _, line := range strings.Split(p.Out.String(), "\n") {
		if strings.Contains(line, "level=") && strings.Contains(line, token) {
			t.Errorf("a log line holds the setup link: %s", line)
		}
	}

	h := &harness{base: base, anon: softauthn.NewClient(base, base, loopback()), aliceEmail: "alice@example.com", bobEmail: "bob@example.com"}
	h.alice, h.aliceKey, h.aliceID = h.signUp(t, h.aliceEmail)
	h.bob, h.bobKey, h.bobID = h.signUp(t, h.bobEmail)

	// The link's page, then its button: Alice is the administrator.
	path := strings.TrimPrefix(m[1], base)
	res := call(t, h.alice, "GET", path, nil)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `data-section="setup"`) {
		t.Fatalf("setup page: %d %.300s", res.Status, res.Body)
	}
	want(t, call(t, h.bob, "POST", "/api/admin/setup", map[string]string{"token": "x" + token}), http.StatusNotFound, nil)
	want(t, call(t, h.alice, "POST", "/api/admin/setup", map[string]string{"token": token}), http.StatusNoContent, nil)
	want(t, call(t, h.alice, "GET", "/api/admin/me", nil), http.StatusOK, nil)

	// The test reads and prepares the server's database beside it.
	store, err := sqlite.Open(t.Context(), filepath.Join(dir, "data", "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ids := walkFixtures(t, store, h.bobID, time.Now())
	routes := routeTable(t, store)
	sent := func() int {
		return strings.Count(p.Out.String(), "kind=recovery") + strings.Count(p.Out.String(), "kind=takeover")
	}
	walk(t, routes, store, ids, h.bobEmail, map[string]*softauthn.Client{"anonymous": h.anon, "not an administrator": h.bob},
		func(who string, rt console.Route) int {
			switch {
			case who == "anonymous":
				return http.StatusUnauthorized
			case rt.Access != console.Setup:
				return http.StatusForbidden
			case rt.Page:
				return http.StatusOK
			}
			return http.StatusNotFound // no such link
		}, sent)

	// Alice's pages render in passkeyd's layout.
	for _, rt := range routes {
		if !rt.Page || rt.Access == console.Setup {
			continue
		}
		res := call(t, h.alice, "GET", pathFor(rt.Pattern, ids), nil)
		if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `id="console"`) {
			t.Errorf("Alice's %s: %d %.200s", rt.Pattern, res.Status, res.Body)
		}
	}

	// An API key made in the console works from a script, and its use is
	// logged with its name.
	var made struct{ Secret string }
	want(t, call(t, h.alice, "POST", "/api/admin/api-keys", map[string]string{"name": "backup script"}), http.StatusCreated, &made)
	var people struct{ Total int }
	want(t, call(t, withKey(base, made.Secret), "GET", "/api/admin/people", nil), http.StatusOK, &people)
	if people.Total != 2 {
		t.Errorf("people: %+v", people)
	}
	// The log reaches the test through a pipe, a moment after the answer.
	logged := false
	for range 200 {
		if logged = strings.Contains(p.Out.String(), `event=api_key_used api_key="backup script"`); logged {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !logged {
		t.Error("the key's use is not logged")
	}
	events, err := store.ListAuditEvents(t.Context(), passkeyd.AuditQuery{Type: passkeyd.EventAPIKeyCreated, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 1 || events[0].AdminName != h.aliceEmail {
		t.Errorf("api key events %+v", events)
	}
}

// routeTable is the console's route table (a console on store, with no
// server: the table depends on nothing else).
func routeTable(t *testing.T, store console.Store) []console.Route {
	t.Helper()
	c, err := console.New(console.Config{PublicURL: "http://localhost", Secret: []byte(testSecret), StepUpWindow: time.Minute,
		RecoveryLinkTTL: time.Minute}, console.Deps{Store: store, Pages: &recordedPages{}, Users: nobody{}})
	if err != nil {
		t.Fatal(err)
	}
	return c.Routes()
}

type nobody struct{}

func (nobody) SignedIn(*http.Request) (*passkeyd.User, *passkeyd.Session) { return nil, nil }
