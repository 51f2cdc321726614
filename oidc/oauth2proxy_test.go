package oidc_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/internal/testserver"
)

// oauth2ProxyVersion is the oauth2-proxy the README's settings are tested
// with.
const oauth2ProxyVersion = "v7.15.6"

// oauth2Proxy returns an oauth2-proxy binary: OAUTH2_PROXY_BINARY, or one
// go install builds (the Go build cache makes later builds quick).
func oauth2Proxy(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("OAUTH2_PROXY_BINARY"); p != "" {
		return p
	}
	bin := t.TempDir()
	cmd := exec.Command("go", "install", "github.com/oauth2-proxy/oauth2-proxy/v7@"+oauth2ProxyVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install oauth2-proxy %s: %v\n%s", oauth2ProxyVersion, err, out)
	}
	return filepath.Join(bin, "oauth2-proxy")
}

// TestOAuth2Proxy puts the real oauth2-proxy, configured as the README
// says, in front of a small upstream, and signs in through it.
func TestOAuth2Proxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds oauth2-proxy")
	}
	proxyBin := oauth2Proxy(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.Header.Get("X-Forwarded-Email"))
	}))
	t.Cleanup(upstream.Close)

	proxyPort := testserver.FreePort(t)
	proxyURL := "http://localhost:" + proxyPort
	// The operator lets unconfirmed addresses through to this app
	// (allow_unverified_email), so that oauth2-proxy's own check is seen.
	s := startServerWithClients(t, `{"clients": [{"id": "oauth2-proxy", "name": "Proxied app", "secret": "`+appSecret+`",
		"redirect_uris": ["`+proxyURL+`/oauth2/callback"], "allow_unverified_email": true}]}`, aliceUnconfirmed())

	runOAuth2Proxy(t, proxyBin, s, proxyPort, upstream.URL)

	// Unless told otherwise, oauth2-proxy refuses an email that is not
	// verified (the README says so): passkeyd says email_verified=false
	// until the user opens the link emailed at sign-up, also when the
	// operator lets unconfirmed addresses through.
	if status, body := s.follow(t, proxyURL+"/"); status != http.StatusForbidden {
		t.Fatalf("through oauth2-proxy with an unverified email: status %d %q, want 403", status, body)
	}
	link := regexp.MustCompile(`verify-email\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(s.out.String())
	if link == nil {
		t.Fatal("no email confirmation link in passkeyd's log")
	}
	if res, err := s.browser.PostJSON(t.Context(), "/api/email/verify", map[string]string{"token": link[1]}); err != nil || res.Status != http.StatusOK {
		t.Fatalf("confirm the email: %v %v", res, err)
	}
	if status, body := s.follow(t, proxyURL+"/"); status != http.StatusOK || body != "hello alice@example.com" {
		t.Fatalf("through oauth2-proxy: status %d %q, want 200 \"hello alice@example.com\"", status, body)
	}
}

// runOAuth2Proxy runs oauth2-proxy on proxyPort for the client
// "oauth2-proxy" of s, in front of upstream, with the README's flags (and
// more, as NAME=value), plus what a test on plain http needs.
func runOAuth2Proxy(t *testing.T, bin string, s *server, proxyPort, upstream string, more ...string) {
	t.Helper()
	proxyURL := "http://localhost:" + proxyPort
	cookieSecret := make([]byte, 32)
	rand.Read(cookieSecret)
	dir := t.TempDir()
	p := testserver.Run(t, testserver.Config{Name: "oauth2-proxy", Bin: bin, Dir: dir, Env: append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"OAUTH2_PROXY_PROVIDER=oidc",
		"OAUTH2_PROXY_OIDC_ISSUER_URL=" + s.issuer,
		"OAUTH2_PROXY_CLIENT_ID=oauth2-proxy",
		"OAUTH2_PROXY_CLIENT_SECRET=" + appSecret,
		"OAUTH2_PROXY_REDIRECT_URL=" + proxyURL + "/oauth2/callback",
		"OAUTH2_PROXY_CODE_CHALLENGE_METHOD=S256",
		"OAUTH2_PROXY_EMAIL_DOMAINS=*",
		"OAUTH2_PROXY_UPSTREAMS=" + upstream + "/",
		"OAUTH2_PROXY_HTTP_ADDRESS=127.0.0.1:" + proxyPort,
		"OAUTH2_PROXY_COOKIE_SECRET=" + base64.RawURLEncoding.EncodeToString(cookieSecret),
		"OAUTH2_PROXY_COOKIE_SECURE=false",
		"OAUTH2_PROXY_SKIP_PROVIDER_BUTTON=true",
	}, more...)}, 5*time.Second)
	p.WaitHealthy(t, "http://127.0.0.1:"+proxyPort+"/ping", 30*time.Second)
}

// TestOAuth2ProxyAllowedGroup (issue 20, item 3): oauth2-proxy with
// --allowed-group, reading passkeyd's groups claim, as the README says:
// a member of the group reaches the upstream, with the groups passed on;
// anyone else is refused by oauth2-proxy.
func TestOAuth2ProxyAllowedGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds oauth2-proxy")
	}
	proxyBin := oauth2Proxy(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s in %s", r.Header.Get("X-Forwarded-Email"), strings.Join(r.Header.Values("X-Forwarded-Groups"), ","))
	}))
	t.Cleanup(upstream.Close)
	proxyPort := testserver.FreePort(t)
	s := startServerWithClients(t, `{"clients": [{"id": "oauth2-proxy", "name": "Proxied app", "secret": "`+appSecret+`",
		"redirect_uris": ["http://localhost:`+proxyPort+`/oauth2/callback"], "scopes": ["openid", "email", "profile", "groups"]}]}`)
	s.passkeyd(t, "groups", "add", "ops")
	s.passkeyd(t, "groups", "add", "staff")
	s.passkeyd(t, "groups", "members", "staff", "-add", "alice@example.com")
	// --allowed-group=ops --scope="openid email profile groups"
	runOAuth2Proxy(t, proxyBin, s, proxyPort, upstream.URL,
		"OAUTH2_PROXY_ALLOWED_GROUPS=ops", "OAUTH2_PROXY_SCOPE=openid email profile groups")

	proxyURL := "http://localhost:" + proxyPort
	if status, body := s.follow(t, proxyURL+"/"); status != http.StatusForbidden || strings.Contains(body, "hello") {
		t.Fatalf("through oauth2-proxy --allowed-group=ops, alice in staff only: status %d %q, want 403", status, body)
	}
	s.passkeyd(t, "groups", "members", "ops", "-add", "alice@example.com")
	if status, body := s.follow(t, proxyURL+"/"); status != http.StatusOK || body != "hello alice@example.com in ops,staff" {
		t.Fatalf("through oauth2-proxy --allowed-group=ops, alice in ops and staff: status %d %q, want 200 \"hello alice@example.com in ops,staff\"", status, body)
	}
}

// follow makes the browser GET u and follow every redirect, on any host,
// consenting on passkeyd when asked; it returns the final answer.
func (s *server) follow(t *testing.T, u string) (int, string) {
	t.Helper()
	next := u
	for range 20 {
		res, err := s.browser.HTTP.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode >= 300 && res.StatusCode < 400:
			loc, err := res.Request.URL.Parse(res.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			next = loc.String()
		case res.StatusCode == http.StatusOK && strings.HasPrefix(next, s.issuer+"/oidc/login"):
			m := consentID.FindSubmatch(body)
			if m == nil {
				t.Fatalf("passkeyd's login step shows no consent form:\n%s", body)
			}
			form := url.Values{"id": {string(m[1])}, "decision": {"allow"}}
			req, _ := http.NewRequest(http.MethodPost, s.issuer+"/oidc/consent", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", s.issuer)
			if res, err = s.browser.HTTP.Do(req); err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			next = res.Header.Get("Location")
		default:
			return res.StatusCode, string(body)
		}
	}
	t.Fatal("too many redirects")
	return 0, ""
}
