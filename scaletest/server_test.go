package scaletest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/postgres"
)

// origin is what the browser sees: the load balancer's address. No one
// listens there; the test's browser sends it as Origin and the
// authenticator signs it, while the requests go to one instance or the
// other, as a load balancer would send them.
const origin = "http://localhost:8443"

// secret is SESSION_SECRET, the same on every instance.
const secret = "scaletest-secret-0123456789abcdef"

func TestMain(m *testing.M) { testserver.Main(m) }

// openStore opens the instances' database beside them, to look at what
// they stored.
func openStore(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn, postgres.PoolConfig{MaxOpenConns: 4})
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// instance is one running passkeyd process.
type instance struct {
	Name string
	URL  string // http://127.0.0.1:PORT
	proc *testserver.Process
}

// startInstance starts passkeyd on a free loopback port with DATABASE_URL
// dsn, the shared origin and secret, and waits until it is healthy. It is
// stopped (SIGTERM) when the test ends; its log is printed if the test
// failed.
func startInstance(t testing.TB, name, dsn string) *instance {
	t.Helper()
	in := launch(t, name, dsn)
	waitHealthy(t, in)
	return in
}

// launch starts passkeyd without waiting for it.
func launch(t testing.TB, name, dsn string) *instance {
	t.Helper()
	port := testserver.FreePort(t)
	dir := t.TempDir()
	// Only what passkeyd needs: nothing from the test's environment (a
	// DATABASE_URL or SMTP_URL there) leaks in.
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"HOST=127.0.0.1",
		"PORT=" + port,
		"WEBAUTHN_RP_ID=localhost",
		"WEBAUTHN_ORIGIN=" + origin,
		"SESSION_SECRET=" + secret,
		"DATABASE_URL=" + dsn,
		"DATA_DIR=" + filepath.Join(dir, "data"),
		"RATE_LIMIT=off",
		"LOG_FORMAT=text",
		"SHUTDOWN_GRACE=2s",
	}
	proc := testserver.Run(t, testserver.Config{Name: "passkeyd " + name, Dir: dir, Env: env}, 10*time.Second)
	return &instance{Name: name, URL: "http://127.0.0.1:" + port, proc: proc}
}

// waitHealthy waits until in answers /healthz with 200.
func waitHealthy(t testing.TB, in *instance) {
	t.Helper()
	in.proc.WaitHealthy(t, in.URL+"/healthz", 30*time.Second)
}

// running reports whether the process has not exited.
func (in *instance) running() bool { return in.proc.Running() }

// transport is shared by every browser: connections to each instance are
// kept alive, as a load balancer keeps them.
var transport = &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}

// browser is one browser behind the load balancer: one cookie jar, whose
// requests can go to any instance. (Cookies do not depend on the port, so
// the instances, all on 127.0.0.1, share the browser's cookies as they
// share the origin's behind a real load balancer.)
type browser struct {
	http *http.Client
}

func newBrowser() *browser {
	c := softauthn.NewClient("http://unused", origin, transport)
	c.HTTP.Timeout = 30 * time.Second // no test waits for ever
	return &browser{http: c.HTTP}
}

// at returns the browser's client for requests to in.
func (b *browser) at(in *instance) *softauthn.Client {
	return &softauthn.Client{Base: in.URL, Origin: origin, HTTP: b.http}
}

// post posts body (JSON) to in and returns the answer.
func (b *browser) post(t testing.TB, in *instance, path string, body []byte) *softauthn.Response {
	t.Helper()
	res, err := b.at(in).Do(t.Context(), http.MethodPost, path, body)
	if err != nil {
		t.Fatalf("POST %s on %s: %v", path, in.Name, err)
	}
	return res
}

// get gets path from in.
func (b *browser) get(t testing.TB, in *instance, path string) *softauthn.Response {
	t.Helper()
	res, err := b.at(in).Do(t.Context(), http.MethodGet, path, nil)
	if err != nil {
		t.Fatalf("GET %s on %s: %v", path, in.Name, err)
	}
	return res
}

// tryOptions asks in for registration options (email) or authentication
// options (email "" for a username-less sign-in). Unlike the helpers
// below, it may run in any goroutine.
func (b *browser) tryOptions(ctx context.Context, in *instance, kind, email string) ([]byte, error) {
	body := []byte(`{}`)
	if email != "" {
		body, _ = json.Marshal(map[string]string{"email": email})
	}
	res, err := b.at(in).Do(ctx, http.MethodPost, "/api/passkeys/generate-"+kind+"-options", body)
	if err != nil {
		return nil, fmt.Errorf("%s options on %s: %w", kind, in.Name, err)
	}
	if res.Status != http.StatusOK {
		return nil, fmt.Errorf("%s options on %s: %d %s", kind, in.Name, res.Status, res.Body)
	}
	return res.Body, nil
}

// trySignIn signs in with key: options from optionsOn, verified by
// verifyOn. It returns the assertion sent and the verify answer, and may
// run in any goroutine.
func (b *browser) trySignIn(ctx context.Context, optionsOn, verifyOn *instance, key *softauthn.Authenticator) ([]byte, *softauthn.Response, error) {
	opts, err := b.tryOptions(ctx, optionsOn, "authentication", "")
	if err != nil {
		return nil, nil, err
	}
	a, err := key.Get(opts, nil)
	if err != nil {
		return nil, nil, err
	}
	res, err := b.at(verifyOn).Do(ctx, http.MethodPost, "/api/passkeys/verify-authentication", a)
	if err != nil {
		return a, nil, fmt.Errorf("verify on %s: %w", verifyOn.Name, err)
	}
	return a, res, nil
}

// options is tryOptions for the test goroutine.
func (b *browser) options(t testing.TB, in *instance, kind, email string) []byte {
	t.Helper()
	opts, err := b.tryOptions(t.Context(), in, kind, email)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

// register signs up email with key: options from optionsOn, the new
// passkey's response verified by verifyOn. It returns the verify answer.
func (b *browser) register(t testing.TB, optionsOn, verifyOn *instance, key *softauthn.Authenticator, email string) *softauthn.Response {
	t.Helper()
	att, _, err := key.Create(b.options(t, optionsOn, "registration", email))
	if err != nil {
		t.Fatalf("authenticator: %v", err)
	}
	return b.post(t, verifyOn, "/api/passkeys/verify-registration", att)
}

// assertion asks optionsOn for sign-in options and returns key's answer.
func (b *browser) assertion(t testing.TB, optionsOn *instance, key *softauthn.Authenticator) []byte {
	t.Helper()
	a, err := key.Get(b.options(t, optionsOn, "authentication", ""), nil)
	if err != nil {
		t.Fatalf("authenticator: %v", err)
	}
	return a
}

// signIn signs in with key: options from optionsOn, verified by verifyOn.
func (b *browser) signIn(t testing.TB, optionsOn, verifyOn *instance, key *softauthn.Authenticator) *softauthn.Response {
	t.Helper()
	return b.post(t, verifyOn, "/api/passkeys/verify-authentication", b.assertion(t, optionsOn, key))
}

// want200 fails the test unless res is 200.
func want200(t testing.TB, what string, res *softauthn.Response) {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("%s: %d %s", what, res.Status, res.Body)
	}
}

// signCountOf reads the sign counter out of an AuthenticationResponseJSON:
// bytes 33 to 36 of the authenticator data. It may run in any goroutine.
func signCountOf(t testing.TB, assertion []byte) uint32 {
	var r struct {
		Response struct {
			AuthenticatorData string `json:"authenticatorData"`
		} `json:"response"`
	}
	if err := json.Unmarshal(assertion, &r); err != nil {
		t.Errorf("read assertion: %v", err)
		return 0
	}
	data, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(r.Response.AuthenticatorData, "="))
	if err != nil || len(data) < 37 {
		t.Errorf("read authenticator data: %v (%d bytes)", err, len(data))
		return 0
	}
	return uint32(data[33])<<24 | uint32(data[34])<<16 | uint32(data[35])<<8 | uint32(data[36])
}
