package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/passkeyd/passkeyd/internal/testserver"
)

// authjsDir is the Next.js app that signs in with passkeyd through Auth.js.
const authjsDir = "../examples/authjs"

const authjsSecret = "authjs-example-secret-0123456789-abcdefghijk"

// nodeAndNPM returns the paths of node and npm, or skips the test (fails it
// under CI=true) when either is missing.
func nodeAndNPM(t *testing.T) (node, npm string) {
	t.Helper()
	node, errNode := exec.LookPath("node")
	npm, errNPM := exec.LookPath("npm")
	if errNode == nil && errNPM == nil {
		return node, npm
	}
	msg := "Node.js or npm not found: install them with `apt-get install nodejs npm` (or run scripts/test)"
	if testserver.InCI() {
		t.Fatal(msg + " (CI=true: the Auth.js example must be tested)")
	}
	t.Skip(msg)
	return "", ""
}

// buildAuthjs installs (npm ci) and builds (next build) examples/authjs,
// and returns the folder holding the built app. The build is kept in the
// user's cache folder under a hash of the example's files and of the Node
// version, so that it is made again only when one of them changes: npm ci
// and next build take about two minutes on a small machine.
func buildAuthjs(t *testing.T) string {
	t.Helper()
	node, npm := nodeAndNPM(t)
	version, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	// The example's own files: everything but what npm and Next.js make,
	// and its README.
	var files []string
	err = filepath.WalkDir(authjsDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".next") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() && d.Name() != "README.md" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list examples/authjs: %v", err)
	}
	h := sha256.New()
	h.Write(version)
	for _, f := range files { // WalkDir's order is lexical: the hash is stable
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(authjsDir, f)
		h.Write([]byte(rel + "\x00"))
		h.Write(b)
		h.Write([]byte{0})
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "passkeyd-test", "authjs-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, ".next", "BUILD_ID")); err == nil {
		t.Logf("examples/authjs: using the build in %s", dir)
		now := time.Now()
		_ = os.Chtimes(dir, now, now) // in use: see pruneAuthjsBuilds
		return dir
	}

	// Build beside it and rename when done, so that a build cut short is
	// never used, and two tests building at once both end with a whole one.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "building-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp) // once renamed, there is nothing left to remove
	for _, f := range files {
		rel, _ := filepath.Rel(authjsDir, f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(tmp, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, rel), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) {
		t.Helper()
		start := time.Now()
		cmd := exec.Command(name, args...)
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "NEXT_TELEMETRY_DISABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("examples/authjs: %s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
		t.Logf("examples/authjs: %s %s took %s", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Second))
	}
	run(npm, "ci", "--no-audit", "--no-fund")
	run(node, "node_modules/next/dist/bin/next", "build")
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, ".next", "BUILD_ID")); statErr != nil {
			t.Fatalf("keep the build of examples/authjs: %v", err)
		}
		// Another test finished the same build first.
	}
	pruneAuthjsBuilds(filepath.Dir(dir), dir)
	return dir
}

// pruneAuthjsBuilds removes the builds of other versions of the example
// (about 350 MB each, node_modules mostly) and the builds cut short, once
// unused for an hour: a test on another branch may be running one.
func pruneAuthjsBuilds(parent, keep string) {
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		path := filepath.Join(parent, e.Name())
		info, err := e.Info()
		if path == keep || err != nil || time.Since(info.ModTime()) < time.Hour {
			continue
		}
		if strings.HasPrefix(e.Name(), "authjs-") || strings.HasPrefix(e.Name(), "building-") {
			os.RemoveAll(path)
		}
	}
}

// startAuthjs runs the built examples/authjs (next start) on port, signing
// in with passkeyd at issuer as client "authjs", configured as its README
// says.
func startAuthjs(t *testing.T, dir, port, issuer string) string {
	t.Helper()
	node, _ := nodeAndNPM(t)
	secret := make([]byte, 32)
	rand.Read(secret)
	url := "http://localhost:" + port
	p := testserver.Run(t, testserver.Config{
		Name: "examples/authjs", Bin: node, Dir: dir,
		Args: []string{"node_modules/next/dist/bin/next", "start", "-H", "127.0.0.1", "-p", port},
		Env: append(os.Environ(),
			"NEXT_TELEMETRY_DISABLED=1",
			// passkeyd listens on 127.0.0.1 only; Node 18 would try
			// localhost's ::1 first.
			"NODE_OPTIONS=--dns-result-order=ipv4first",
			"NEXTAUTH_URL="+url,
			"NEXTAUTH_SECRET="+hex.EncodeToString(secret),
			"PASSKEYD_ISSUER="+issuer,
			"PASSKEYD_CLIENT_ID=authjs",
			"PASSKEYD_CLIENT_SECRET="+authjsSecret,
		),
	}, 5*time.Second)
	p.WaitHealthy(t, "http://127.0.0.1:"+port+"/api/auth/providers", 60*time.Second)
	return url
}

// requestLines returns passkeyd's request log lines for a path.
func requestLines(srv *server, path string) []string {
	return regexp.MustCompile(`(?m)^.*msg=request .*path=`+regexp.QuoteMeta(path)+` .*$`).FindAllString(srv.log.String(), -1)
}

// TestAuthjs signs in to the Next.js app of examples/authjs, whose
// Auth.js (next-auth v4) provider has the settings of the README's Auth.js
// row: a passkey on passkeyd, consent once, back in the app with the email
// from the ID token; signed out and in again without consent; then, signed
// out of passkeyd too, in again with the passkey and still no consent.
func TestAuthjs(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and builds examples/authjs")
	}
	chromium(t)
	dir := buildAuthjs(t)
	appPort := testserver.FreePort(t)
	appURL := "http://localhost:" + appPort
	srv := startServer(t, withOIDCClients(t, `{"clients": [{"id": "authjs", "name": "Auth.js example", "secret": "`+authjsSecret+`",
		"redirect_uris": ["`+appURL+`/api/auth/callback/passkeyd"]}]}`), withMail(t))
	startAuthjs(t, dir, appPort, srv.URL)
	b := newBrowser(t, srv)
	auth := b.addAuthenticator(internal, true)
	const email = "authjs@example.com"

	// The authorization requests Auth.js sends the browser with.
	var mu sync.Mutex
	var authorize []url.Values
	err := chromedp.Listen(b.root, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && strings.HasPrefix(e.Request.URL, srv.URL+"/oidc/authorize?") {
			if u, err := url.Parse(e.Request.URL); err == nil {
				mu.Lock()
				authorize = append(authorize, u.Query())
				mu.Unlock()
			}
		}
	})
	if err != nil {
		t.Fatalf("watch the browser's requests: %v", err)
	}

	// The app's buttons work once React has hydrated the page, which
	// happens after the load event: React then keeps its props on the node.
	waitButton := func(id string) {
		b.t.Helper()
		b.waitFor("the app's "+id+" button, hydrated", `location.origin === `+jsString(appURL)+
			` && !!document.getElementById(`+jsString(id)+`) && Object.keys(document.getElementById(`+jsString(id)+
			`)).some(function (k) { return k.indexOf("__reactProps$") === 0; })`)
	}
	// session is what the app's Auth.js says of the browser's session.
	session := func() (s struct {
		User *struct {
			Email string `json:"email"`
		} `json:"user"`
	}) {
		b.t.Helper()
		raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
			`fetch("/api/auth/session", {cache: "no-store"}).then(function (r) { return r.text(); })`, chromedp.EvalAwaitPromise))
		if err != nil {
			b.fatalf("GET the app's /api/auth/session from the page: %v", err)
		}
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			b.fatalf("the app's /api/auth/session: %v (%q)", err, raw)
		}
		return s
	}
	signOutOfApp := func() {
		b.t.Helper()
		waitButton("sign-out")
		b.click("sign-out")
		waitButton("sign-in")
		if s := session(); s.User != nil {
			b.t.Errorf("after Sign out, the app's session still has %+v", *s.User)
		}
	}

	step(t, b, "SignUpOnPasskeyd", func(t *testing.T) {
		signUp(t, b, srv, auth, email)
	})

	step(t, b, "FirstSignInAsksConsent", func(t *testing.T) {
		b.goTo(appURL + "/")
		waitButton("sign-in")
		b.shot("the app signed out")
		b.click("sign-in")
		b.signInAtPasskeyd(auth)
		b.confirmAddressAtPasskeyd(t, srv, email)
		b.waitFor("the consent page", `location.pathname === "/oidc/login" && !!document.getElementById("allow")`)
		var text string
		b.eval(`document.querySelector("main").textContent`, &text)
		wantContains(t, "consent page", text, "Auth.js example", email, "email address")
		b.shot("consent")
		b.click("allow")
		b.waitFor("the app to show the email", shows(appURL, "#email", email))
		b.shot("signed in to the app")
		// The README's settings are the ones used: the scope, PKCE with
		// S256 and state (checks)...
		mu.Lock()
		sent := slices.Clone(authorize)
		mu.Unlock()
		if len(sent) != 1 {
			t.Fatalf("the browser went to passkeyd's authorization endpoint %d times, want once: %v", len(sent), sent)
		}
		for name, want := range map[string]string{
			"client_id": "authjs", "redirect_uri": appURL + "/api/auth/callback/passkeyd", "response_type": "code",
			"scope": "openid email profile", "code_challenge_method": "S256",
		} {
			if got := sent[0].Get(name); got != want {
				t.Errorf("authorization request: %s=%q, want %q", name, got, want)
			}
		}
		for _, name := range []string{"code_challenge", "state"} {
			if sent[0].Get(name) == "" {
				t.Errorf("authorization request without %s: %v", name, sent[0])
			}
		}
		if s := session(); s.User == nil || s.User.Email != email {
			t.Errorf("the app's session has user %+v, want the email %s", s.User, email)
		}
		// ...the code redeemed with the client's secret, and the email
		// taken from the ID token (idToken: true), userinfo never asked.
		if got := requestLines(srv, "/oidc/token"); len(got) != 1 || !strings.Contains(got[0], "status=200") {
			t.Errorf("passkeyd's token endpoint: %q, want one request answered 200", got)
		}
		if got := requestLines(srv, "/oidc/userinfo"); len(got) != 0 {
			t.Errorf("Auth.js called userinfo (%q): its email should come from the ID token", got)
		}
	})

	step(t, b, "SecondSignInSkipsConsent", func(t *testing.T) {
		// Auth.js v4 signs out of the app only: passkeyd's session goes on,
		// so the next sign-in shows no page of passkeyd at all.
		signOutOfApp()
		b.shot("signed out of the app")
		b.click("sign-in")
		b.waitFor("the app to show the email without a consent page", shows(appURL, "#email", email))
		if got := requestLines(srv, "/oidc/consent"); len(got) != 1 {
			t.Errorf("passkeyd's consent form was posted %d times, want once (the first sign-in): %q", len(got), got)
		}
	})

	step(t, b, "SignInAgainAfterSigningOutOfBoth", func(t *testing.T) {
		signOutOfApp()
		b.open("/dashboard")
		b.waitPath("/dashboard")
		signOut(t, b)
		b.goTo(appURL + "/")
		waitButton("sign-in")
		b.click("sign-in")
		b.signInAtPasskeyd(auth)
		b.waitFor("the app to show the email without a consent page", shows(appURL, "#email", email))
		b.shot("signed in to the app again")
		if got := requestLines(srv, "/oidc/consent"); len(got) != 1 {
			t.Errorf("passkeyd's consent form was posted %d times, want once (the first sign-in): %q", len(got), got)
		}
		if got := requestLines(srv, "/oidc/userinfo"); len(got) != 0 {
			t.Errorf("Auth.js called userinfo (%q): its email should come from the ID token", got)
		}
	})
}
