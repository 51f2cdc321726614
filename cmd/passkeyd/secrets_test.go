package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PPROF=1 must not serve the command line, which may hold secrets given as
// flags (issue 13.10); the profiles stay.
func TestPprofServesNoCommandLine(t *testing.T) {
	srv := httptest.NewServer(metricsHandler(prometheus.NewRegistry(), true))
	defer srv.Close()
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if status, body := get("/debug/pprof/cmdline"); status != http.StatusNotFound || strings.Contains(body, "passkeyd") || strings.Contains(body, "-test.") {
		t.Fatalf("GET /debug/pprof/cmdline = %d %q, want 404 without the command line", status, body)
	}
	if status, _ := get("/debug/pprof/goroutine?debug=1"); status != http.StatusOK {
		t.Fatalf("GET /debug/pprof/goroutine = %d, want 200", status)
	}
	if status, _ := get("/metrics"); status != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200", status)
	}
}

func TestWarnsAboutSecretsGivenAsFlags(t *testing.T) {
	start := func(args []string, vars map[string]string) string {
		t.Helper()
		vars["DATA_DIR"], vars["PORT"], vars["HOST"] = t.TempDir(), "0", "127.0.0.1"
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan []string, 1)
		done := make(chan error, 1)
		var logs bytes.Buffer
		go func() { done <- serve(ctx, args, env(vars), &logs, func(a []string) { ready <- a }) }()
		select {
		case <-ready:
		case err := <-done:
			t.Fatalf("serve: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("server not ready")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return logs.String()
	}
	secret := strings.Repeat("s", 32)
	logs := start([]string{"-session-secret", secret, "-smtp-url", "smtp://mailer:hunter2@127.0.0.1:2525?tls=none"}, map[string]string{})
	for _, flag := range []string{"-session-secret", "-smtp-url"} {
		if !strings.Contains(logs, "WARN") || !strings.Contains(logs, flag) {
			t.Errorf("no warning naming %s:\n%s", flag, logs)
		}
	}
	if strings.Contains(logs, secret) || strings.Contains(logs, "hunter2") {
		t.Errorf("the warning repeats the secret:\n%s", logs)
	}
	logs = start(nil, map[string]string{"SESSION_SECRET": secret, "SMTP_URL": "smtp://mailer:hunter2@127.0.0.1:2525?tls=none"})
	if strings.Contains(logs, "-session-secret") || strings.Contains(logs, "-smtp-url") {
		t.Errorf("warned about secrets from the environment:\n%s", logs)
	}
}

func TestSMTPURLFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "smtp-url")
	if err := os.WriteFile(path, []byte("smtp://mailer:hunter2@127.0.0.1:2525?tls=none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := parseSettings("passkeyd", serveGroups, nil, env(map[string]string{"SMTP_URL_FILE": path}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if s.smtpURL != "smtp://mailer:hunter2@127.0.0.1:2525?tls=none" {
		t.Fatalf("smtpURL = %q, want the file's URL", s.smtpURL)
	}
	if w := s.secretFlagWarnings(); len(w) != 0 {
		t.Fatalf("warnings for a secret from a file: %q", w)
	}
	if _, err := parseSettings("passkeyd", serveGroups, nil, env(map[string]string{"SMTP_URL_FILE": path, "SMTP_URL": "smtp://x@y"}), io.Discard); err == nil {
		t.Fatal("SMTP_URL and SMTP_URL_FILE together accepted")
	}
}
