package scaletest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/postgres"
)

// origin is what the browser sees: the load balancer's address. No one
// listens there; the test's browser sends it as Origin and the
// authenticator signs it, while the requests go to one instance or the
// other, as a load balancer would send them.
const origin = "http://localhost:8443"

// secret is SESSION_SECRET, the same on every instance.
const secret = "scaletest-secret-0123456789abcdef"

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// inCI reports whether CI=true: then a test that cannot run fails.
func inCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// testPostgres returns PASSKEYD_TEST_POSTGRES, or skips (fails in CI).
func testPostgres(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv("PASSKEYD_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	const how = "scripts/test starts a throwaway PostgreSQL and sets it; or set PASSKEYD_TEST_POSTGRES=postgres://user:password@127.0.0.1:5432/db yourself (each test works in a schema of its own)"
	if inCI() {
		t.Fatal("PASSKEYD_TEST_POSTGRES is not set, and CI must run the scale-out tests: " + how)
	}
	t.Skip("PASSKEYD_TEST_POSTGRES is not set, so the scale-out tests are skipped: " + how)
	return ""
}

// freshSchema creates an empty schema, dropped when the test ends, and
// returns dsn with its search_path set to it.
func freshSchema(t testing.TB, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open PASSKEYD_TEST_POSTGRES: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "passkeyd_scale_" + strings.ToLower(rand.Text())
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("PASSKEYD_TEST_POSTGRES is not a postgres:// URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

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

// serverBinary builds ./cmd/passkeyd once per test binary.
func serverBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		gomod := strings.TrimSpace(string(out))
		if err != nil || gomod == "" || gomod == os.DevNull {
			buildErr = fmt.Errorf("find the module root: %v", err)
			return
		}
		if buildDir, err = os.MkdirTemp("", "passkeyd-scaletest-"); err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(buildDir, "passkeyd")
		cmd := exec.Command("go", "build", "-o", buildBin, "./cmd/passkeyd")
		cmd.Dir = filepath.Dir(gomod)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/passkeyd: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// instance is one running passkeyd process.
type instance struct {
	Name   string
	URL    string // http://127.0.0.1:PORT
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan error
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
	bin := serverBinary(t)
	port := freePort(t)
	dir := t.TempDir()
	in := &instance{Name: name, URL: "http://127.0.0.1:" + port, log: &syncBuffer{}, exited: make(chan error, 1)}
	// Only what passkeyd needs: nothing from the test's environment (a
	// DATABASE_URL or SMTP_URL there) leaks in.
	in.cmd = exec.Command(bin)
	in.cmd.Dir = dir
	in.cmd.Env = []string{
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
	in.cmd.Stdout, in.cmd.Stderr = in.log, in.log
	if err := in.cmd.Start(); err != nil {
		t.Fatalf("start passkeyd %s: %v", name, err)
	}
	go func() { in.exited <- in.cmd.Wait() }()
	t.Cleanup(func() {
		_ = in.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.exited:
		case <-time.After(10 * time.Second):
			_ = in.cmd.Process.Kill()
			<-in.exited
		}
		if t.Failed() {
			t.Logf("passkeyd %s log:\n%s", name, in.log.String())
		}
	})
	return in
}

// waitHealthy waits until in answers /healthz with 200.
func waitHealthy(t testing.TB, in *instance) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := client.Get(in.URL + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-in.exited:
			in.exited <- err
			t.Fatalf("passkeyd %s exited before it was healthy (%v); log:\n%s", in.Name, err, in.log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("passkeyd %s: GET /healthz not 200 after 30s (last error: %v)", in.Name, err)
		}
	}
}

// running reports whether the process has not exited.
func (in *instance) running() bool {
	select {
	case err := <-in.exited:
		in.exited <- err
		return false
	default:
		return true
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// syncBuffer collects a process's output from two pipes at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

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
