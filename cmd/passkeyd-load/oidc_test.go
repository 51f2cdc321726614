package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/passkeyd/passkeyd/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

const appRedirect = "http://127.0.0.1:9/callback"

// oidcServer is one or more passkeyd binaries on one database, as behind
// a load balancer, with a client per ID token algorithm.
type oidcServer struct {
	issuer  string
	targets []string
	pids    []int
	secrets map[string]string // client ID → secret
	procs   []*testserver.Process
}

// startOIDCServer makes the database ("passkeyd migrate"), registers the
// clients load-RS256, load-ES256 and load-EdDSA with "passkeyd clients
// add", as BENCHMARKS.md says to, then
// starts n instances with the first one's address as origin and issuer.
func startOIDCServer(t *testing.T, databaseURL string, n int) *oidcServer {
	t.Helper()
	bin := testserver.Binary(t)
	dir := t.TempDir()
	port := testserver.FreePort(t)
	s := &oidcServer{issuer: "http://localhost:" + port, secrets: map[string]string{}}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "HOST=127.0.0.1", "PORT=" + port,
		"WEBAUTHN_RP_ID=localhost", "WEBAUTHN_ORIGIN=" + s.issuer,
		"DATABASE_URL=" + databaseURL, "DATA_DIR=" + filepath.Join(dir, "data"),
		"SESSION_SECRET=a-load-test-secret-of-at-least-32-characters", "RATE_LIMIT=off", "LOG_FORMAT=text",
	}
	// The clients commands administer an installation and create no
	// database: make it first, as a deployment's migration step would.
	migrate := exec.Command(bin, "migrate")
	migrate.Dir, migrate.Env = dir, env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("passkeyd migrate: %v\n%s", err, out)
	}
	extra := unconfirmedAddressFlag(t, bin, env)
	secretLine := regexp.MustCompile(`(?m)^client_secret:\s+(\S+)$`)
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		id := "load-" + alg
		cmd := exec.Command(bin, append([]string{"clients", "add", "-id", id, "-name", "Load " + alg,
			"-redirect-uri", appRedirect, "-id-token-alg", alg}, extra...)...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		m := secretLine.FindSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("passkeyd clients add %s: %v\n%s", id, err, out)
		}
		s.secrets[id] = string(m[1])
	}
	for i := range n {
		p, instanceEnv := port, env
		if i > 0 {
			p = testserver.FreePort(t)
			instanceEnv = append(slices.Clone(env), "PORT="+p) // the last setting wins
		}
		proc := testserver.Run(t, testserver.Config{Name: fmt.Sprintf("passkeyd %d", i+1), Bin: bin, Dir: dir, Env: instanceEnv}, 10*time.Second)
		proc.WaitHealthy(t, "http://127.0.0.1:"+p+"/healthz", 60*time.Second)
		s.targets = append(s.targets, "http://127.0.0.1:"+p)
		s.pids = append(s.pids, proc.Pid())
		s.procs = append(s.procs, proc)
	}
	return s
}

// unconfirmedAddressFlag is -allow-unverified-email when the binary has
// it: a provider that asks apps' users to confirm their address first
// would stop the load's fresh accounts at that page.
func unconfirmedAddressFlag(t *testing.T, bin string, env []string) []string {
	cmd := exec.Command(bin, "clients", "-h")
	cmd.Env = env
	out, _ := cmd.CombinedOutput() // -h may exit with status 2
	if strings.Contains(string(out), "-allow-unverified-email") {
		return []string{"-allow-unverified-email"}
	}
	return nil
}

// loopbackClient reaches the issuer's localhost at 127.0.0.1, where
// passkeyd listens.
func loopbackClient() *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, _ := net.SplitHostPort(addr)
		if host == "localhost" {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return d.DialContext(ctx, network, addr)
	}}}
}

// TestOIDCMode runs the oidc mode against the real binary for each ID
// token algorithm, on SQLite and on two instances sharing PostgreSQL, and
// checks every app sign-in it reports as done the way an app would: the ID
// token verified with go-oidc against the provider's JWKS, its nonce and
// email, userinfo's email, a new refresh token.
func TestOIDCMode(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		testOIDCMode(t, startOIDCServer(t, "file:"+filepath.Join(t.TempDir(), "passkeyd.db"), 1))
	})
	t.Run("PostgresTwoInstances", func(t *testing.T) {
		testOIDCMode(t, startOIDCServer(t, testserver.PostgresDSN(t), 2))
	})
}

func testOIDCMode(t *testing.T, s *oidcServer) {
	ctx := gooidc.ClientContext(t.Context(), loopbackClient())
	provider, err := gooidc.NewProvider(ctx, s.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	const users, count = 3, 6
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			id := "load-" + alg
			var mu sync.Mutex
			var done []AppSignIn
			cfg := Config{Target: strings.Join(s.targets, ","), Users: users, Concurrency: 2, Count: count, Mode: "oidc", Quiet: true,
				ServerPIDs: s.pids, App: AppConfig{ClientID: id, ClientSecret: s.secrets[id], RedirectURI: appRedirect},
				OnAppSignIn: func(a AppSignIn) { mu.Lock(); done = append(done, a); mu.Unlock() }}
			sum, err := Load(t.Context(), cfg, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if sum.Register.Ceremonies != users || sum.Register.Failed != 0 {
				t.Fatalf("registered %d, failed %d (errors %v); want %d, 0", sum.Register.Ceremonies, sum.Register.Failed, sum.Register.Errors, users)
			}
			first := sum.AppFirst
			if first == nil || first.Ceremonies != users || first.Failed != 0 || len(first.Errors) != 0 {
				t.Fatalf("first app sign-ins %+v: want %d, none failed, no errors", first, users)
			}
			// The first time: no session (registration signs nobody in), so a
			// passkey sign-in, and the consent page.
			for _, step := range []string{stepAuthorize, epSignInOptions, epSignInVerify, stepConsent, stepToken, stepUserinfo, stepRefresh} {
				if n := first.Endpoints[step].Count; n != users {
					t.Errorf("first app sign-ins: %d %s requests, want %d", n, step, users)
				}
			}
			if n := first.Endpoints[stepLogin].Count; n != 2*users {
				t.Errorf("first app sign-ins: %d login requests, want %d (the sign-in page, then the consent page)", n, 2*users)
			}
			// Then the session stays and the consent is remembered.
			if sum.SignIn.Ceremonies != count || sum.SignIn.Failed != 0 || len(sum.SignIn.Errors) != 0 {
				t.Errorf("app sign-ins %d, failed %d, errors %v; want %d, 0, none", sum.SignIn.Ceremonies, sum.SignIn.Failed, sum.SignIn.Errors, count)
			}
			for _, step := range []string{stepAuthorize, stepLogin, stepToken, stepUserinfo, stepRefresh} {
				if l := sum.SignIn.Endpoints[step]; l.Count != count || l.P50 > l.P99 || l.P99 > l.Max {
					t.Errorf("app sign-ins: %s latency %+v, want %d requests, p50 ≤ p99 ≤ max", step, l, count)
				}
			}
			for _, step := range []string{stepConsent, epSignInOptions, epSignInVerify} {
				if n := sum.SignIn.Endpoints[step].Count; n != 0 {
					t.Errorf("app sign-ins with a session and consent: %d %s requests, want none", n, step)
				}
			}
			if sum.App == nil || sum.App.ClientID != id || sum.App.IDTokenAlg != alg {
				t.Fatalf("summary's app %+v, want client %s with ID tokens signed %s", sum.App, id, alg)
			}
			if want := s.pids; len(want) > 1 && !slices.Equal(sum.ServerPIDs, want) {
				t.Errorf("server PIDs %v, want %v", sum.ServerPIDs, want)
			}

			if len(done) != users+count {
				t.Fatalf("%d app sign-ins reported to OnAppSignIn, want %d", len(done), users+count)
			}
			verifier := provider.Verifier(&gooidc.Config{ClientID: id, SupportedSigningAlgs: []string{alg}})
			refreshTokens := map[string]bool{}
			for _, a := range done {
				tok, err := verifier.Verify(ctx, a.IDToken)
				if err != nil {
					t.Errorf("%s: ID token: %v", a.Email, err)
					continue
				}
				var claims struct {
					Email string `json:"email"`
				}
				if err := tok.Claims(&claims); err != nil || claims.Email != a.Email || tok.Nonce != a.Nonce {
					t.Errorf("ID token email %q nonce %q (%v), want %q and the request's nonce %q", claims.Email, tok.Nonce, err, a.Email, a.Nonce)
				}
				if a.UserinfoEmail != a.Email {
					t.Errorf("userinfo email %q, want %q", a.UserinfoEmail, a.Email)
				}
				if a.NewRefresh == "" || a.NewRefresh == a.RefreshToken || refreshTokens[a.RefreshToken] || refreshTokens[a.NewRefresh] {
					t.Errorf("refresh token %q refreshed to %q: want a new one each time", a.RefreshToken, a.NewRefresh)
				}
				refreshTokens[a.RefreshToken], refreshTokens[a.NewRefresh] = true, true
				if a.IDTokenAfter != "" {
					if _, err := verifier.Verify(ctx, a.IDTokenAfter); err != nil {
						t.Errorf("%s: the refresh's ID token: %v", a.Email, err)
					}
				}
			}
			// The summary counts the signatures of phase two's sign-ins: one
			// for the code, one for each refresh that answered with an ID token.
			afterInPhaseTwo := 0
			for _, a := range done {
				if !a.Passkey && a.IDTokenAfter != "" {
					afterInPhaseTwo++
				}
			}
			if want := float64(count+afterInPhaseTwo) / count; sum.App.IDTokensPerSignIn != want {
				t.Errorf("%.2f ID tokens per app sign-in, want %.2f", sum.App.IDTokensPerSignIn, want)
			}
		})
	}
	// Every instance took part: the app sign-ins' token requests went round
	// the targets.
	for _, p := range s.procs {
		if !strings.Contains(p.Out.String(), "/oidc/token") {
			t.Errorf("%s logged no token request:\n%s", p.Name, p.Out.String())
		}
	}

	t.Run("WrongSecret", func(t *testing.T) {
		cfg := Config{Target: strings.Join(s.targets, ","), Users: 2, Concurrency: 2, Count: 2, Mode: "oidc", Quiet: true,
			App: AppConfig{ClientID: "load-ES256", ClientSecret: "not-the-secret", RedirectURI: appRedirect}}
		sum, err := Load(t.Context(), cfg, nil)
		if err == nil || !strings.Contains(err.Error(), "no user could sign in to the app") {
			t.Fatalf("Load with a wrong secret: %v, want an error", err)
		}
		if sum.AppFirst == nil || sum.AppFirst.Failed != 2 || sum.AppFirst.Errors[stepToken+" 401"] != 2 {
			t.Errorf("first app sign-ins %+v: want 2 failed at the token step with 401", sum.AppFirst)
		}
	})
}
