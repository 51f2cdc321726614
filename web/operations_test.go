package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/web"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnvWithDeps(t, web.Deps{Metrics: web.NewMetrics(reg)}, func(c *web.Config) { c.RateLimits = web.DefaultRateLimits() })
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "metrics@example.com")
	e.signIn(t, b, a, "", nil)
	a.UserNotVerified = true
	if _, err := b.SignIn(context.Background(), a, "", nil); err == nil {
		t.Fatal("unverified sign-in succeeded")
	}
	res, _ := b.PostJSON(context.Background(), "/api/client-errors", map[string]string{"ceremony": "authentication", "name": "NotAllowedError"})
	if res.Status != http.StatusNoContent {
		t.Fatalf("client error report: %d %s", res.Status, res.Body)
	}
	res, _ = b.PostJSON(context.Background(), "/api/client-errors", map[string]string{"ceremony": "authentication", "name": "<script>"})
	if res.Status != http.StatusNoContent {
		t.Fatalf("client error report: %d", res.Status)
	}
	for i := 0; i < 70; i++ {
		b.PostJSON(context.Background(), authOptions, map[string]string{})
	}

	want := map[string]string{
		`passkeyd_ceremonies_started_total{ceremony="registration"}`:                                                "1",
		`passkeyd_ceremonies_succeeded_total{ceremony="registration",provider="unknown"}`:                           "1",
		`passkeyd_ceremonies_succeeded_total{ceremony="authentication",provider="unknown"}`:                         "1",
		`passkeyd_ceremonies_failed_total{ceremony="authentication",reason="verification"}`:                         "1",
		`passkeyd_client_errors_total{ceremony="authentication",name="NotAllowedError"}`:                            "1",
		`passkeyd_client_errors_total{ceremony="authentication",name="other"}`:                                      "1",
		`passkeyd_rate_limited_total{limit="ip"}`:                                                                   "",
		`passkeyd_http_request_duration_seconds_count{code="2xx",route="POST /api/passkeys/verify-authentication"}`: "1",
	}
	got := scrape(t, reg)
	for series, value := range want {
		v, ok := got[series]
		if !ok {
			t.Errorf("missing %s", series)
			continue
		}
		if value != "" && v != value {
			t.Errorf("%s = %s, want %s", series, v, value)
		}
	}
}

// scrape returns every series of reg as "name{labels}" → value.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.Counter != nil:
				out[key] = trimFloat(m.GetCounter().GetValue())
			case m.Histogram != nil:
				out[f.GetName()+"_count{"+strings.Join(labels, ",")+"}"] = trimFloat(float64(m.GetHistogram().GetSampleCount()))
			}
		}
	}
	return out
}

func trimFloat(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func TestRequestIDAndSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/", "/api/auth/me"} {
		res, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		h := res.Header
		if id := h.Get("X-Request-Id"); len(id) != 16 {
			t.Errorf("%s: X-Request-Id %q", path, id)
		}
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: missing nosniff or Referrer-Policy", path)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS on plain http", path)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	limits := web.RateLimits{OptionsPerIP: web.Limit{Count: 3, Window: 60e9}, OptionsPerEmail: web.Limit{Count: 100, Window: 60e9},
		VerifyPerIP: web.Limit{Count: 100, Window: 60e9}, FailuresPerCredential: web.Limit{Count: 100, Window: 60e9}}
	send := func(e *env, forwarded string) int {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+authOptions, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", forwarded)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// Behind a trusted proxy each forwarded client has its own limit.
	e := newEnv(t, func(c *web.Config) {
		c.RateLimits = limits
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	for i := 0; i < 10; i++ {
		if s := send(e, "198.51.100."+string(rune('0'+i))+", 127.0.0.1"); s != 200 {
			t.Fatalf("client %d limited: %d", i, s)
		}
	}
	// A client cannot pick its own address: the proxy appends the real
	// one, which is the one counted.
	var spoofed []int
	for i := 0; i < 4; i++ {
		spoofed = append(spoofed, send(e, "203.0.113."+string(rune('0'+i))+", 198.51.100.200"))
	}
	if spoofed[2] != http.StatusOK || spoofed[3] != http.StatusTooManyRequests {
		t.Fatalf("spoofed left-most addresses changed who is counted: %v, want 3 × 200 then 429", spoofed)
	}
	// Without trust, X-Forwarded-For is ignored.
	e = newEnv(t, func(c *web.Config) { c.RateLimits = limits })
	statuses := []int{}
	for i := 0; i < 4; i++ {
		statuses = append(statuses, send(e, "198.51.100."+string(rune('0'+i))))
	}
	if statuses[3] != http.StatusTooManyRequests {
		t.Fatalf("untrusted X-Forwarded-For changed the client address: %v", statuses)
	}
}

func TestRelatedOrigins(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.RelatedOrigins = []string{"https://shop.example.net"} })
	res, err := http.Get(e.srv.URL + "/.well-known/webauthn")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Origins []string }
	_ = json.NewDecoder(res.Body).Decode(&body)
	if res.StatusCode != 200 || len(body.Origins) != 2 || body.Origins[1] != "https://shop.example.net" {
		t.Fatalf("/.well-known/webauthn: %d %v", res.StatusCode, body.Origins)
	}
	// A passkey for this RP ID, used on the related site, signs in there.
	b := softauthn.NewClient(e.srv.URL, "https://shop.example.net", nil)
	a := softauthn.New(e.rpID, "https://shop.example.net")
	e.signUp(t, b, a, "sibling@example.com")
	e.signIn(t, b, a, "", nil)

	plain := newEnv(t)
	res, _ = http.Get(plain.srv.URL + "/.well-known/webauthn")
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("without related origins: %d, want 404", res.StatusCode)
	}
}

// downStore fails every session look-up as a database outage would.
type downStore struct{ passkeyd.Store }

func (downStore) FindSession(context.Context, string, time.Time) (*passkeyd.Session, *passkeyd.User, error) {
	return nil, nil, passkeyd.Errorf(passkeyd.EUNAVAILABLE, "The database is unavailable.")
}

// TestDatabaseDownIsNotSignedOut: while sessions cannot be looked up, a
// signed-in browser gets 503, not "not signed in" (which would send it to
// the sign-in page); health checks and static files still answer.
func TestDatabaseDownIsNotSignedOut(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "outage@example.com")
	e.signIn(t, b, a, "", nil)
	h, err := web.New(web.Config{RPID: e.rpID, Origins: []string{e.origin}, Secret: []byte(strings.Repeat("s", 32)), Now: e.clock.Now},
		web.Deps{Store: downStore{e.store}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = h
	res := call(t, b, "GET", "/api/auth/me", nil)
	wantError(t, res, http.StatusServiceUnavailable, "unavailable")
	if res.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if res := call(t, b, "GET", "/healthz", nil); res.Status != 200 {
		t.Fatalf("/healthz during the outage: %d", res.Status)
	}
}

// NewMetrics called twice with one registry gives Metrics that count in
// the same series, where it used to panic on the second registration.
func TestNewMetricsTwiceOnOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	web.NewMetrics(reg)
	e := newEnvWithDeps(t, web.Deps{Metrics: web.NewMetrics(reg)})
	if res := call(t, e.browser(), "GET", "/healthz", nil); res.Status != 200 {
		t.Fatalf("/healthz: %d", res.Status)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "passkeyd_http_request_duration_seconds" {
			return
		}
	}
	t.Error("no passkeyd_http_request_duration_seconds after a request")
}

// A Metrics value counts one Server. Giving it to a second one used to
// panic inside web.New (issue 11.12); now New says what is wrong.
func TestMetricsSharedByTwoServersIsAnError(t *testing.T) {
	m := web.NewMetrics(prometheus.NewRegistry())
	first := newEnvWithDeps(t, web.Deps{Metrics: m})
	cfg := web.Config{RPID: first.rpID, Origins: []string{first.origin}, Secret: []byte(strings.Repeat("s", 32))}
	_, err := web.New(cfg, web.Deps{Store: first.store, Metrics: m})
	if err == nil || !strings.Contains(err.Error(), "NewMetrics") {
		t.Fatalf("second web.New with the same Metrics: err = %v, want one naming NewMetrics", err)
	}
}
