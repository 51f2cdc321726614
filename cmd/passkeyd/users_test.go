package main

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/emailtoken"
	"github.com/passkeyd/passkeyd/mail/mailtest"
	"github.com/passkeyd/passkeyd/sqlite"
)

func TestUsersCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "file:"+filepath.Join(dir, "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i, email := range []string{"ada@example.com", "bob@example.com", "cy@example.com"} {
		id := string(rune('a'+i)) + "-user"
		u := &passkeyd.User{ID: id, Email: email, Handle: []byte(id), CreatedAt: now, UpdatedAt: now}
		if email != "cy@example.com" { // Cy's address was never confirmed
			u.EmailVerifiedAt = now
		}
		c := &passkeyd.Credential{ID: id + "-key", UserID: id, CredentialID: []byte(id + "-cred"), PublicKey: []byte{1}, Name: "Laptop", CreatedAt: now}
		if err := store.CreateUser(ctx, u, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()

	vars := env(map[string]string{"DATA_DIR": dir, "SESSION_SECRET": strings.Repeat("s", 32)}) // the server's settings
	runUsers := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"users"}, args...), vars, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	out, err := runUsers("list")
	if err != nil || !strings.Contains(out, "ada@example.com") || !strings.Contains(out, "bob@example.com") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, err = runUsers("show", "ADA@example.com")
	if err != nil || !strings.Contains(out, "Laptop") || !strings.Contains(out, "a-user-key") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	out, err = runUsers("recovery-link", "ada@example.com")
	if err != nil || !strings.Contains(out, "http://localhost:8080/recover/email?token=") || !strings.Contains(out, "valid 15m0s") {
		t.Fatalf("recovery-link: %v\n%s", err, out)
	}
	// An address never confirmed gets a takeover link, as from the
	// console and "Lost your passkey?".
	out, err = runUsers("recovery-link", "cy@example.com")
	takeover := mailtest.Link(out, "http://localhost:8080/recover/takeover?token=")
	if err != nil || takeover == "" || strings.Contains(out, "/recover/email") {
		t.Fatalf("recovery-link of an address never confirmed (want a takeover link): %v\n%s", err, out)
	}
	if _, err := runUsers("disable", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := runUsers("delete", "bob@example.com"); err == nil || !strings.Contains(err.Error(), "-yes") {
		t.Fatalf("delete without -yes: %v", err)
	}
	if _, err := runUsers("delete", "bob@example.com", "-yes"); err != nil {
		t.Fatal(err)
	}
	if _, err := runUsers("show", "nobody@example.com"); err == nil {
		t.Fatal("show of an unknown user succeeded")
	}

	store, err = sqlite.Open(ctx, "file:"+filepath.Join(dir, "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.FindUserByEmail(ctx, "bob@example.com"); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
		t.Fatalf("bob still there: %v", err)
	}
	// The takeover link is stored as one (the server's secret), for Cy,
	// and Cy's security log says which link was issued.
	link, err := url.Parse(takeover)
	if err != nil {
		t.Fatal(err)
	}
	tokens := emailtoken.New(store, []byte(strings.Repeat("s", 32)), "http://localhost:8080", time.Now)
	if tok, err := tokens.Take(ctx, passkeyd.TokenTakeover, link.Query().Get("token")); err != nil || tok.UserID != "c-user" {
		t.Errorf("the printed takeover link's token: %+v, %v; want Cy's takeover token", tok, err)
	}
	events, err := store.ListEvents(ctx, "c-user", 0, 1)
	if err != nil || len(events) != 1 || events[0].Type != passkeyd.EventRecoveryLinkIssued || !strings.Contains(events[0].Detail, "takeover link issued") {
		t.Errorf("Cy's newest event: %+v, %v; want the takeover link issued, by an operator", events, err)
	}
	// That the link opens a recovery session is web's TestOperatorRecoveryLink.
}

// What users typed (passkey names, user agents) must not reach the
// operator's terminal as escape sequences (issue 13.8), and a printed
// recovery link leaves an entry in the account's security log.
func TestUsersOutputEscapedAndRecoveryLinkLogged(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "file:"+filepath.Join(dir, "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	u := &passkeyd.User{ID: "eve-user", Email: "eve@example.com", Handle: []byte("eve"), CreatedAt: now, UpdatedAt: now}
	// Stored before names were validated, or through another client.
	c := &passkeyd.Credential{ID: "eve-key", UserID: u.ID, CredentialID: []byte("eve-cred"), PublicKey: []byte{1},
		Name: "\x1b]8;;https://attacker.example\x07Laptop\x1b]8;;\x07 \u202eenohp", CreatedAt: now}
	if err := store.CreateUser(ctx, u, c, &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventUserCreated,
		UserAgent: "Mozilla/5.0 \x1b[2J\x1b[31mpwned", IP: "192.0.2.1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	vars := env(map[string]string{"DATA_DIR": dir, "SESSION_SECRET": strings.Repeat("s", 32)}) // the server's settings
	runUsers := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, append([]string{"users"}, args...), vars, &out, &out); err != nil {
			t.Fatalf("users %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	for _, args := range [][]string{{"list"}, {"show", "eve@example.com"}} {
		out := runUsers(args...)
		if strings.ContainsAny(out, "\x1b\x07\u202e") {
			t.Errorf("users %v printed raw control or bidi characters:\n%q", args, out)
		}
	}
	out := runUsers("show", "eve@example.com")
	for _, want := range []string{`\x1b]8;;https://attacker.example\x07Laptop`, `\u202eenohp`, `Mozilla/5.0 \x1b[2J\x1b[31mpwned`} {
		if !strings.Contains(out, want) {
			t.Errorf("show does not print %s escaped:\n%s", want, out)
		}
	}

	runUsers("recovery-link", "eve@example.com")
	store, err = sqlite.Open(ctx, "file:"+filepath.Join(dir, "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	events, err := store.ListEvents(ctx, u.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 || events[0].Type != passkeyd.EventRecoveryLinkIssued || !strings.Contains(events[0].Detail, "operator") {
		t.Fatalf("newest security log entry after recovery-link: %+v, want %s by an operator", events[0], passkeyd.EventRecoveryLinkIssued)
	}
}
