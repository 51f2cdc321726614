package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace/noop"
)

// env returns a getenv over the given variables only.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestStartupRefusals(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name      string
		vars      map[string]string
		fragments []string
	}{
		{"HTTPSWithoutSecret", map[string]string{"WEBAUTHN_ORIGIN": "https://app.example.com", "WEBAUTHN_RP_ID": "example.com"},
			[]string{"SESSION_SECRET", "https://app.example.com"}},
		{"HTTPSWithWeakSecret", map[string]string{"WEBAUTHN_ORIGIN": "https://app.example.com", "SESSION_SECRET": "hunter2"},
			[]string{"SESSION_SECRET", "at least 32"}},
		{"RPIDNotSuffix", map[string]string{"WEBAUTHN_ORIGIN": "https://app.example.com", "WEBAUTHN_RP_ID": "example.org",
			"SESSION_SECRET": strings.Repeat("x", 32)}, []string{`"example.org"`, `"https://app.example.com"`}},
		{"BadRateLimit", map[string]string{"RATE_LIMIT": "lots"}, []string{"RATE_LIMIT"}},
		{"BadLogFormat", map[string]string{"LOG_FORMAT": "xml"}, []string{"LOG_FORMAT"}},
		{"BadSignUpMode", map[string]string{"SIGNUP_MODE": "private"}, []string{"SIGNUP_MODE", `"private"`, "email-first"}},
		{"SessionIdleTooLong", map[string]string{"SESSION_IDLE_TIMEOUT": "2000h"}, []string{"SESSION_IDLE_TIMEOUT", "2000h", "720h"}},
		{"ChallengeTooShort", map[string]string{"CHALLENGE_TIMEOUT": "1s"}, []string{"CHALLENGE_TIMEOUT", "30s"}},
		{"RecoveryLinkTooLong", map[string]string{"RECOVERY_LINK_TTL": "48h"}, []string{"RECOVERY_LINK_TTL", "24h"}},
		{"EmailLinkNotADuration", map[string]string{"EMAIL_LINK_TTL": "7"}, []string{"EMAIL_LINK_TTL", "duration"}},
		{"SessionMaxAgeTooLong", map[string]string{"SESSION_MAX_AGE": "10000h"}, []string{"SESSION_MAX_AGE"}},
		{"StepUpWindowTooLong", map[string]string{"STEP_UP_WINDOW": "2h"}, []string{"STEP_UP_WINDOW", "1h"}},
		{"OIDCKeyPublishDelayTooShort", map[string]string{"OIDC_KEY_PUBLISH_DELAY": "1m"}, []string{"OIDC_KEY_PUBLISH_DELAY", "10m"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.vars["DATA_DIR"] = dir
			tc.vars["PORT"] = "0"
			var stderr bytes.Buffer
			err := run(context.Background(), nil, env(tc.vars), &stderr, &stderr)
			if err == nil {
				t.Fatal("started; want a refusal")
			}
			for _, f := range tc.fragments {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not mention %s", err, f)
				}
			}
		})
	}
}

// TestServeZeroConfig starts the real server with no settings but a data
// directory and a free port, as `go run ./cmd/passkeyd` does, and checks
// that it answers and that the generated secret survives a restart.
func TestServeZeroConfig(t *testing.T) {
	dir := t.TempDir()
	start := func() (string, context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan []string, 1)
		done := make(chan error, 1)
		var logs bytes.Buffer
		go func() {
			done <- serve(ctx, nil, env(map[string]string{"DATA_DIR": dir, "PORT": "0", "HOST": "127.0.0.1"}), &logs, func(a []string) { ready <- a })
		}()
		select {
		case addrs := <-ready:
			return "http://" + addrs[0], cancel, done
		case err := <-done:
			t.Fatalf("serve: %v\n%s", err, logs.String())
		case <-time.After(10 * time.Second):
			t.Fatal("server not ready")
		}
		return "", cancel, done
	}
	base, stop, done := start()
	// The provider's library starts a span in each of its functions: with
	// nothing exported, the no-op tracer provider makes them cost least
	// (issue 22).
	if tp := otel.GetTracerProvider(); tp != (noop.TracerProvider{}) {
		t.Errorf("the global tracer provider is %T, want the no-op one", tp)
	}
	for _, path := range []string{"/healthz", "/readyz", "/"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("GET %s = %d", path, res.StatusCode)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	secret, err := filepath.Glob(filepath.Join(dir, "session-secret"))
	if err != nil || len(secret) != 1 {
		t.Fatalf("no generated secret in the data directory")
	}
	if db, _ := filepath.Glob(filepath.Join(dir, "passkeyd.db")); len(db) != 1 {
		t.Fatalf("no SQLite file in the data directory")
	}
	_, stop, done = start() // restart on the same data
	stop()
	<-done
}
