package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/internal/loadresult"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// startServer runs passkeyd's handler on a SQLite file in t.TempDir(),
// behind a real HTTP server on 127.0.0.1, with rate limits off, and
// returns its URL.
func startServer(t *testing.T) string {
	return startWrappedServer(t, func(h http.Handler) http.Handler { return h })
}

// startWrappedServer is startServer with passkeyd's handler wrapped by wrap.
func startWrappedServer(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	store, err := sqlite.Open(t.Context(), "file:"+filepath.Join(t.TempDir(), "load.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	ts := httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	h, err := web.New(web.Config{
		RPID:       "localhost",
		Origins:    []string{"http://localhost:" + port},
		Secret:     []byte(strings.Repeat("s", 32)),
		RateLimits: web.RateLimits{Off: true},
	}, web.Deps{Store: store})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	ts.Config.Handler = wrap(h)
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestLoad(t *testing.T) {
	target := startServer(t)
	for _, mode := range []string{"email", "noemail", "mixed"} {
		t.Run(mode, func(t *testing.T) {
			sum, err := Load(t.Context(), Config{Target: target, Users: 6, Concurrency: 3, Count: 12, Mode: mode, Quiet: true}, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if sum.Register.Ceremonies != 6 || sum.Register.Failed != 0 {
				t.Errorf("registered %d, failed %d; want 6, 0 (errors %v)", sum.Register.Ceremonies, sum.Register.Failed, sum.Register.Errors)
			}
			if sum.SignIn.Ceremonies != 12 || sum.SignIn.Failed != 0 || len(sum.SignIn.Errors) != 0 {
				t.Errorf("signed in %d, failed %d, errors %v; want 12, 0, none", sum.SignIn.Ceremonies, sum.SignIn.Failed, sum.SignIn.Errors)
			}
			if sum.SignIn.PerSecond <= 0 {
				t.Errorf("%v sign-ins per second", sum.SignIn.PerSecond)
			}
			for _, ep := range []string{epSignInOptions, epSignInVerify} {
				if l := sum.SignIn.Endpoints[ep]; l.Count != 12 || l.P99 <= 0 || l.P50 > l.P99 {
					t.Errorf("%s latency %+v: want 12 requests with 0 < p50 <= p99", ep, l)
				}
			}
		})
	}
}

// TestLoadCountsServerErrors: an answer other than 200 fails the
// ceremony and is counted under its endpoint and status.
func TestLoadCountsServerErrors(t *testing.T) {
	var verifies atomic.Int64
	target := startWrappedServer(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == apiPrefix+epSignInVerify && verifies.Add(1)%2 == 0 {
				http.Error(w, `{"error":"injected"}`, http.StatusInternalServerError)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	sum, err := Load(t.Context(), Config{Target: target, Users: 2, Concurrency: 2, Count: 10, Quiet: true}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := sum.SignIn.Errors[epSignInVerify+" 500"], 5; got != want || len(sum.SignIn.Errors) != 1 {
		t.Errorf("errors %v, want %d × %q only", sum.SignIn.Errors, want, epSignInVerify+" 500")
	}
	if sum.SignIn.Ceremonies != 5 || sum.SignIn.Failed != 5 {
		t.Errorf("%d sign-ins, %d failed; want 5, 5", sum.SignIn.Ceremonies, sum.SignIn.Failed)
	}
	if l := sum.SignIn.Endpoints[epSignInVerify]; l.Count != 10 {
		t.Errorf("%d verify latencies, want 10 (failed requests too)", l.Count)
	}
}

// TestRun goes through the flags for a duration-bounded run and checks
// that the last line of the report is the JSON summary.
func TestRun(t *testing.T) {
	target := startServer(t)
	var out, errOut bytes.Buffer
	start := time.Now()
	err := run(t.Context(), []string{"-target", target, "-users", "4", "-concurrency", "2", "-duration", "300ms", "-fail-on-error"}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\n%s%s", err, out.String(), errOut.String())
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("a 300 ms run took %v", d)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var sum loadresult.Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last line is not the JSON summary: %v\n%s", err, out.String())
	}
	if sum.SignIn.Ceremonies == 0 || sum.SignIn.Failed != 0 || sum.Mode != "mixed" {
		t.Errorf("summary %+v: want sign-ins, none failed, mode mixed", sum.SignIn)
	}
	if !strings.Contains(out.String(), epSignInVerify) {
		t.Errorf("report lacks the per-endpoint table:\n%s", out.String())
	}
}

// TestRefusesRemoteTargets: nothing but loopback is loaded without
// -allow-remote, and nothing is sent before refusing.
func TestRefusesRemoteTargets(t *testing.T) {
	for _, target := range []string{
		"http://example.com:8080", "https://10.0.0.1", "http://192.168.1.10:8080",
		"http://[2001:db8::1]:8080", "http://0.0.0.0:8080", "http://localhost.example.com",
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, err := Load(ctx, Config{Target: target, Users: 1, Count: 1, Quiet: true}, nil)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
			t.Errorf("Load(%s) = %v, want a refusal", target, err)
		}
	}
	for _, host := range []string{"127.0.0.1", "127.9.9.9", "::1", "localhost", "LOCALHOST"} {
		if err := checkLoopback(host, false); err != nil {
			t.Errorf("checkLoopback(%s) = %v, want nil", host, err)
		}
	}
	if err := checkLoopback("example.com", true); err != nil {
		t.Errorf("with -allow-remote: %v", err)
	}
}

// TestDialRefusesNonLoopback: a name that passes the first check but
// resolves elsewhere is still refused at connect time.
func TestDialRefusesNonLoopback(t *testing.T) {
	_, err := newDialer(Config{}).DialContext(t.Context(), "tcp", "192.0.2.1:80") // TEST-NET-1, never routed
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("dial 192.0.2.1: %v, want a refusal", err)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Config{Target: "http://127.0.0.1:9999/"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Origin != "http://localhost:9999" || c.RPID != "localhost" || c.Target != "http://127.0.0.1:9999" {
		t.Errorf("origin %q, RP ID %q, target %q; want http://localhost:9999, localhost, http://127.0.0.1:9999", c.Origin, c.RPID, c.Target)
	}
	if _, err := (Config{Target: "http://127.0.0.1:1", Mode: "both"}).withDefaults(); err == nil {
		t.Error("mode both accepted")
	}
	if _, err := (Config{Target: "http://127.0.0.1:1", Mode: "oidc"}).withDefaults(); err == nil || !strings.Contains(err.Error(), "-client-id") {
		t.Errorf("mode oidc without a client: %v, want an error naming -client-id", err)
	}
	app := AppConfig{ClientID: "a", ClientSecret: "s", RedirectURI: "http://127.0.0.1:9/cb"}
	c, err = Config{Target: "http://127.0.0.1:9999/, http://127.0.0.1:9998", Mode: "oidc", App: app}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.targets, []string{"http://127.0.0.1:9999", "http://127.0.0.1:9998"}) || c.Origin != "http://localhost:9999" || c.App.Scope != "openid email profile offline_access" {
		t.Errorf("targets %q, origin %q, scope %q: want both targets, the first one's origin, the default scope", c.targets, c.Origin, c.App.Scope)
	}
	if _, err := (Config{Target: "http://127.0.0.1:1,http://example.com:1"}).withDefaults(); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("a remote second target: %v, want a refusal", err)
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := summarize(ds)
	if l.P50 != 50 || l.P95 != 95 || l.P99 != 99 || l.Max != 100 || l.Count != 100 {
		t.Errorf("summarize(1..100 ms) = %+v", l)
	}
}

// TestWarnToolBusy: the report says when the tool may have set the pace.
func TestWarnToolBusy(t *testing.T) {
	for _, tc := range []struct {
		cpu   float64
		procs int
		warn  bool
	}{{0.9, 1, true}, {0.9, 2, false}, {0.5, 1, false}} {
		var b bytes.Buffer
		warnToolBusy(&b, loadresult.Phase{Seconds: 1, ToolCPUSeconds: tc.cpu}, tc.procs)
		if got := strings.Contains(b.String(), "bottleneck"); got != tc.warn {
			t.Errorf("%.1f CPU seconds in 1 s on %d: warned %v, want %v (%q)", tc.cpu, tc.procs, got, tc.warn, b.String())
		}
	}
}
