package oidc_test

import (
	"path/filepath"
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
