package oidc_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/sqlite"
)

// TestSignInEventNamesTheApp: the security-log event of a sign-in to an
// app names the app (Event.ClientID): the console's overview counts each
// app's sign-ins by it, and its audit log filters by it.
func TestSignInEventNamesTheApp(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := startInProcessOn(t, store)
	p := s.provider(t)
	s.signIn(t, p, s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader))
	events, err := store.ListAuditEvents(t.Context(), passkeyd.AuditQuery{Type: passkeyd.EventOIDCSignIn, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].ClientID != "app" {
		t.Fatalf("sign-in events %+v; want one naming the app", events)
	}
}

// TestApplyClientsDeclares: the clients of OIDC_CLIENTS_FILE are stored
// Declared, so the console shows them read-only (the file would undo a
// change at the next start).
func TestApplyClientsDeclares(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c := &passkeyd.OIDCClient{ID: "wiki", Name: "Wiki", Public: true, RedirectURIs: []string{"https://wiki.example.com/cb"}}
	if err := oidc.ApplyClients(t.Context(), store, []*passkeyd.OIDCClient{c}, time.Now()); err != nil {
		t.Fatalf("ApplyClients: %v", err)
	}
	got, err := store.FindOIDCClient(t.Context(), "wiki")
	if err != nil || !got.Declared {
		t.Fatalf("the file's client: %+v, %v; want it Declared", got, err)
	}
}

// TestApplyClientsRecordsChanges: applying OIDC_CLIENTS_FILE records an
// event for each client it creates or changes, with the change, and none
// for a client stored as the file declares it (every start applies it).
func TestApplyClientsRecordsChanges(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now()
	if err := store.CreateGroup(t.Context(), &passkeyd.Group{ID: "grp-ops", Name: "Ops", CreatedAt: now, UpdatedAt: now}, nil); err != nil {
		t.Fatal(err)
	}
	// The file's client as LoadClientsFile makes it, afresh at each start.
	declare := func(name, secret string) *passkeyd.OIDCClient {
		c := &passkeyd.OIDCClient{ID: "wiki", Name: name, SecretHash: oidc.HashSecret(secret), RedirectURIs: []string{"https://wiki.example.com/cb"},
			PostLogoutRedirectURIs: []string{}, AllowedGroups: []string{"ops", "OPS"}}
		if err := oidc.ValidateClient(c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	apply := func(c *passkeyd.OIDCClient) []string {
		t.Helper()
		now = now.Add(time.Hour)
		if err := oidc.ApplyClients(t.Context(), store, []*passkeyd.OIDCClient{c}, now); err != nil {
			t.Fatalf("ApplyClients: %v", err)
		}
		events, err := store.ListAuditEvents(t.Context(), passkeyd.AuditQuery{ClientID: "wiki", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range events {
			if !strings.Contains(e.Detail, "(OIDC_CLIENTS_FILE)") {
				t.Errorf("event %+v does not name the file", e)
			}
			types = append(types, e.Type)
		}
		return types
	}
	secret := strings.Repeat("a", 40)
	for _, step := range []struct {
		what string
		c    *passkeyd.OIDCClient
		want string // the client's events, newest first
	}{
		{"first start", declare("Wiki", secret), "app_created"},
		{"the same file", declare("Wiki", secret), "app_created"},
		{"the same file again", declare("Wiki", secret), "app_created"},
		{"a new name", declare("Team wiki", secret), "app_updated app_created"},
		{"a new secret", declare("Team wiki", strings.Repeat("b", 40)), "app_secret_rotated app_updated app_created"},
		{"the same file after the changes", declare("Team wiki", strings.Repeat("b", 40)), "app_secret_rotated app_updated app_created"},
	} {
		if got := strings.Join(apply(step.c), " "); got != step.want {
			t.Errorf("%s: events %q, want %q", step.what, got, step.want)
		}
	}
}
