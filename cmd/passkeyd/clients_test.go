package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/sqlite"
)

func TestClientsCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	vars := env(map[string]string{"DATA_DIR": dir, "SESSION_SECRET": strings.Repeat("s", 32)}) // the server's settings
	runClients := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, args, vars, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	find := func(id string) *passkeyd.OIDCClient {
		t.Helper()
		store, err := sqlite.Open(ctx, "file:"+filepath.Join(dir, "passkeyd.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		c, err := store.FindOIDCClient(ctx, id)
		if err != nil {
			t.Fatalf("FindOIDCClient(%s): %v", id, err)
		}
		return c
	}

	// The installation exists: the commands below administer it, and
	// create no database (TestAdminCommandsNeedAnInstallation).
	if out, err := runClients("migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err := runClients("clients", "add", "-id", "grafana", "-name", "Grafana", "-redirect-uri", "https://grafana.example.com/login/generic_oauth",
		"-redirect-uri", "http://127.0.0.1:3000/login/generic_oauth", "--post-logout-uri=https://grafana.example.com/login", "-trusted")
	if err != nil {
		t.Fatalf("clients add: %v\n%s", err, out)
	}
	secret := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out)
	if secret == nil || !strings.Contains(out, "client_id:     grafana") {
		t.Fatalf("clients add printed no client ID and secret:\n%s", out)
	}
	c := find("grafana")
	if c.SecretHash != oidc.HashSecret(secret[1]) || strings.Contains(c.SecretHash, secret[1]) {
		t.Errorf("stored secret hash %q is not the hash of the printed secret", c.SecretHash)
	}
	if !c.Trusted || len(c.RedirectURIs) != 2 || c.IDTokenAlg != "RS256" || strings.Join(c.Scopes, " ") != "openid email profile offline_access" {
		t.Errorf("stored client %+v: want trusted, two redirect URIs, RS256 and the default scopes", c)
	}

	for _, bad := range [][]string{
		{"-name", "Plain", "-redirect-uri", "http://app.example.com/cb"},   // http off loopback
		{"-name", "Frag", "-redirect-uri", "https://app.example.com/cb#x"}, // fragment
		{"-name", "Star", "-redirect-uri", "https://*.example.com/cb"},     // a wildcard host, which exact matching never honours
		{"-name", "StarPath", "-redirect-uri", "https://app.example.com/*"},
		{"-name", "StarLogout", "-redirect-uri", "https://app.example.com/cb", "-post-logout-uri", "https://*/"},
		{"-name", "NoURI"}, // no redirect URI
		{"-name", "Alg", "-redirect-uri", "https://a.example/cb", "-id-token-alg", "HS256"},
		{"-id", "grafana", "-name", "Again", "-redirect-uri", "https://a.example/cb"}, // taken ID
	} {
		if out, err := runClients(append([]string{"clients", "add"}, bad...)...); err == nil {
			t.Errorf("clients add %q succeeded:\n%s", bad, out)
		}
	}

	out, err = runClients("clients", "update", "grafana", "-id-token-alg", "ES256", "-allow", "@example.com", "-trusted=false")
	if err != nil {
		t.Fatalf("clients update: %v\n%s", err, out)
	}
	c = find("grafana")
	if c.IDTokenAlg != "ES256" || c.Trusted || len(c.AllowedUsers) != 1 || len(c.RedirectURIs) != 2 || c.Name != "Grafana" {
		t.Errorf("after update %+v: want ES256, not trusted, the allow-list, and the rest unchanged", c)
	}

	// Unconfirmed addresses: asked to confirm unless the operator says
	// otherwise for the app.
	if c.AllowUnverifiedEmail {
		t.Errorf("a new client lets unconfirmed addresses in by default")
	}
	if out, err = runClients("clients", "update", "grafana", "-allow-unverified-email", "-allow", ""); err != nil {
		t.Fatalf("clients update -allow-unverified-email: %v\n%s", err, out)
	}
	if !find("grafana").AllowUnverifiedEmail {
		t.Error("clients update -allow-unverified-email did not store it")
	}
	if out, err = runClients("clients", "show", "grafana"); err != nil || !regexp.MustCompile(`unconfirmed:\s+may sign in`).MatchString(out) {
		t.Errorf("clients show after -allow-unverified-email: %v\n%s", err, out)
	}

	out, err = runClients("clients", "list")
	if err != nil || !strings.Contains(out, "grafana") || !strings.Contains(out, "confidential") {
		t.Fatalf("clients list: %v\n%s", err, out)
	}
	out, err = runClients("clients", "show", "grafana")
	if err != nil || !strings.Contains(out, "http://localhost:8080/.well-known/openid-configuration") || strings.Contains(out, secret[1]) {
		t.Fatalf("clients show (want the discovery URL, never the secret): %v\n%s", err, out)
	}

	out, err = runClients("clients", "rotate-secret", "grafana")
	next := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out)
	if err != nil || next == nil || next[1] == secret[1] {
		t.Fatalf("rotate-secret: %v\n%s", err, out)
	}
	if find("grafana").SecretHash != oidc.HashSecret(next[1]) {
		t.Error("rotate-secret did not store the new secret's hash")
	}

	out, err = runClients("clients", "add", "-name", "SPA", "-public", "-redirect-uri", "com.example.app:/callback")
	if err != nil || strings.Contains(out, "client_secret") {
		t.Fatalf("clients add -public (no secret printed): %v\n%s", err, out)
	}

	if _, err := runClients("clients", "delete", "grafana"); err == nil || !strings.Contains(err.Error(), "-yes") {
		t.Fatalf("delete without -yes: %v", err)
	}
	if out, err := runClients("clients", "delete", "grafana", "-yes"); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	if _, err := runClients("clients", "show", "grafana"); err == nil {
		t.Error("show after delete succeeded")
	}
	// Each change is in the audit log, by an operator; the refused add
	// of a taken ID wrote none.
	store, err := sqlite.Open(ctx, "file:"+filepath.Join(dir, "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	events, err := store.ListAuditEvents(ctx, passkeyd.AuditQuery{ClientID: "grafana", Limit: 100})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		if !strings.Contains(e.Detail, "(by an operator)") || e.UserID != "" {
			t.Errorf("event %+v: want one by an operator, of no account", e)
		}
		types = append(types, e.Type)
	}
	if got, want := strings.Join(types, " "), "app_deleted app_secret_rotated app_updated app_updated app_created"; got != want {
		t.Errorf("grafana's events %q, want %q", got, want)
	}

	if out, err := runClients("oidc", "rotate-keys"); err != nil {
		t.Fatalf("oidc rotate-keys: %v\n%s", err, out)
	}
}

// TestClientsFile: OIDC_CLIENTS_FILE is applied at start, again and again
// with the same result; a bad file stops the start.
func TestClientsFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "clients.json")
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("a-secret-from-a-file-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(body string) {
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"clients": [{"id": "wiki", "name": "Wiki", "secret_file": "` + secretFile + `",
		"redirect_uris": ["https://wiki.example.com/cb"], "refresh_token_ttl": "240h", "allowed_users": ["Ada@Example.com"]}]}`)
	vars := map[string]string{"DATA_DIR": dir, "OIDC_CLIENTS_FILE": file, "PORT": "0", "HOST": "127.0.0.1"}
	start := func() error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var errOut bytes.Buffer
		done := make(chan error, 1)
		go func() { done <- serve(ctx, nil, env(vars), &errOut, func([]string) { cancel() }) }()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			t.Fatal("passkeyd did not start within a minute")
			return nil
		}
	}
	for range 2 {
		if err := start(); err != nil {
			t.Fatalf("start with OIDC_CLIENTS_FILE: %v", err)
		}
	}
	store, err := sqlite.Open(context.Background(), "file:"+filepath.Join(dir, "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	list, err := store.ListOIDCClients(context.Background())
	store.Close()
	if err != nil || len(list) != 1 {
		t.Fatalf("after two starts: %d clients, %v; want the file's one", len(list), err)
	}
	c := list[0]
	if c.SecretHash != oidc.HashSecret("a-secret-from-a-file-0123456789abcdef") || c.RefreshTokenTTL != 240*time.Hour || c.AllowedUsers[0] != "ada@example.com" {
		t.Errorf("client from the file %+v: want the secret_file's hash, 240h and the allow-list lower-cased", c)
	}

	for name, body := range map[string]string{
		"UnknownField": `{"clients": [{"id": "x", "name": "X", "secret": "0123456789abcdef0123456789abcdef", "redirect_uris": ["https://x.example/cb"], "trusted_": true}]}`,
		"ShortSecret":  `{"clients": [{"id": "x", "name": "X", "secret": "short", "redirect_uris": ["https://x.example/cb"]}]}`,
		"HTTPRedirect": `{"clients": [{"id": "x", "name": "X", "public": true, "redirect_uris": ["http://x.example/cb"]}]}`,
		"Wildcard":     `{"clients": [{"id": "x", "name": "X", "public": true, "redirect_uris": ["https://*.x.example/cb"]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			write(body)
			if err := start(); err == nil || !strings.Contains(err.Error(), "OIDC_CLIENTS_FILE") {
				t.Errorf("start with a bad file: %v; want a refusal naming OIDC_CLIENTS_FILE", err)
			}
		})
	}

	// A file holding a client secret that other users may read stops the
	// start (as ssh refuses such a key), and no client of it is saved.
	chmod := func(path string, mode os.FileMode) {
		t.Helper()
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	saved := func(id string) bool {
		t.Helper()
		store, err := sqlite.Open(context.Background(), "file:"+filepath.Join(dir, "passkeyd.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		_, err = store.FindOIDCClient(context.Background(), id)
		return err == nil
	}
	t.Run("InlineSecretReadableByOthers", func(t *testing.T) {
		write(`{"clients": [{"id": "inline", "name": "Inline", "secret": "0123456789abcdef0123456789abcdef", "redirect_uris": ["https://x.example/cb"]}]}`)
		for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
			chmod(file, mode)
			if err := start(); err == nil || !strings.Contains(err.Error(), "OIDC_CLIENTS_FILE") || !strings.Contains(err.Error(), "chmod 600") {
				t.Errorf("start with the secret in a file of mode %#o: %v; want a refusal naming OIDC_CLIENTS_FILE and the fix", mode, err)
			}
			if saved("inline") {
				t.Fatalf("a client from a refused file (mode %#o) was saved", mode)
			}
		}
		chmod(file, 0o600)
		if err := start(); err != nil || !saved("inline") {
			t.Errorf("start with the secret in a file of mode 0600: %v; want it applied", err)
		}
	})
	t.Run("SecretFileReadableByOthers", func(t *testing.T) {
		write(`{"clients": [{"id": "fromfile", "name": "From file", "secret_file": "` + secretFile + `", "redirect_uris": ["https://x.example/cb"]}]}`)
		chmod(file, 0o644) // holds no secret itself: may be readable
		chmod(secretFile, 0o640)
		if err := start(); err == nil || !strings.Contains(err.Error(), secretFile) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("start with a secret_file of mode 0640: %v; want a refusal naming the file and the fix", err)
		}
		if saved("fromfile") {
			t.Fatal("a client whose secret_file was refused was saved")
		}
		chmod(secretFile, 0o400)
		if err := start(); err != nil || !saved("fromfile") {
			t.Errorf("start with a secret_file of mode 0400 in a clients file of mode 0644: %v; want it applied", err)
		}
	})
}
