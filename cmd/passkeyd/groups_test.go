package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/apikey"
	"github.com/passkeyd/passkeyd/sqlite"
)

// adminFixture is an installation (a SQLite file made as the server
// would) with ada and bob, and a runner of passkeyd's subcommands with the
// server's settings.
type adminFixture struct {
	t    *testing.T
	dir  string
	vars func(string) string
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "file:"+filepath.Join(dir, "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, id := range []string{"ada", "bob"} {
		u := &passkeyd.User{ID: id, Email: id + "@example.com", Handle: []byte(id), CreatedAt: now, UpdatedAt: now}
		c := &passkeyd.Credential{ID: id + "-key", UserID: id, CredentialID: []byte(id + "-cred"), PublicKey: []byte{1}, Name: "Laptop", CreatedAt: now}
		if err := store.CreateUser(ctx, u, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	return &adminFixture{t: t, dir: dir, vars: env(map[string]string{"DATA_DIR": dir, "SESSION_SECRET": strings.Repeat("s", 32)})}
}

// run runs passkeyd with args and returns what it printed.
func (f *adminFixture) run(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, f.vars, &out, &errOut)
	return out.String() + errOut.String(), err
}

// must runs passkeyd with args, which must succeed.
func (f *adminFixture) must(args ...string) string {
	f.t.Helper()
	out, err := f.run(args...)
	if err != nil {
		f.t.Fatalf("passkeyd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// refused runs passkeyd with args, which must fail with an error holding
// each of want.
func (f *adminFixture) refused(args []string, want ...string) {
	f.t.Helper()
	out, err := f.run(args...)
	if err == nil {
		f.t.Errorf("passkeyd %s succeeded:\n%s", strings.Join(args, " "), out)
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			f.t.Errorf("passkeyd %s: %v; want an error saying %q", strings.Join(args, " "), err, w)
		}
	}
}

// store opens the installation's database, closed at the end of the test.
func (f *adminFixture) store() *sqlite.Store {
	f.t.Helper()
	store, err := sqlite.Open(context.Background(), "file:"+filepath.Join(f.dir, "passkeyd.db"))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { store.Close() })
	return store
}

// members returns the emails of the group's members, as the store has them.
func (f *adminFixture) members(name string) []string {
	f.t.Helper()
	ctx := context.Background()
	store := f.store()
	g, err := store.FindGroup(ctx, name)
	if err != nil {
		f.t.Fatalf("FindGroup(%s): %v", name, err)
	}
	list, err := store.ListGroupMembers(ctx, g.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	var emails []string
	for _, u := range list {
		emails = append(emails, u.Email)
	}
	return emails
}

// lastEvent returns the newest event of the account's security log.
func (f *adminFixture) lastEvent(userID string) *passkeyd.Event {
	f.t.Helper()
	events, err := f.store().ListEvents(context.Background(), userID, 0, 1)
	if err != nil || len(events) == 0 {
		f.t.Fatalf("events of %s: %v, %d", userID, err, len(events))
	}
	return events[0]
}

func TestGroupsCommands(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()

	if out := f.must("groups", "add", " ops "); !strings.Contains(out, "Group ops added") {
		t.Errorf("groups add: %s", out)
	}
	f.refused([]string{"groups", "add", "OPS"}, "exists already")
	f.refused([]string{"groups", "add", "two words"}, "letters, digits")
	f.refused([]string{"groups", "add"}, "needs a group NAME")
	f.must("groups", "add", "admins")

	out := f.must("groups", "members", "ops", "-add", "ada@example.com", "--add=BOB@example.com")
	if !strings.Contains(out, "2 members") || !strings.Contains(out, "ada@example.com") || !strings.Contains(out, "bob@example.com") {
		t.Errorf("groups members -add: %s", out)
	}
	if ev := f.lastEvent("bob"); ev.Type != passkeyd.EventGroupMemberAdded || !strings.Contains(ev.Detail, "ops") || !strings.Contains(ev.Detail, "(by an operator)") {
		t.Errorf("bob's security log: %+v; want group_member_added naming ops, by an operator", ev)
	}
	// A typo changes nothing, the right address included.
	f.refused([]string{"groups", "members", "ops", "-remove", "bob@example.com", "-remove", "nobody@example.com"}, "nobody@example.com", "nothing was changed")
	if got := f.members("ops"); !slices.Equal(got, []string{"ada@example.com", "bob@example.com"}) {
		t.Errorf("after a refused -remove: members %v", got)
	}
	f.must("groups", "members", "ops", "-remove", "bob@example.com")
	if got := f.members("ops"); !slices.Equal(got, []string{"ada@example.com"}) {
		t.Errorf("after -remove bob: members %v, want ada only", got)
	}
	if ev := f.lastEvent("bob"); ev.Type != passkeyd.EventGroupMemberGone || !strings.Contains(ev.Detail, "(by an operator)") {
		t.Errorf("bob's security log: %+v; want group_member_removed, by an operator", ev)
	}
	if out := f.must("groups", "members", "ops"); !strings.Contains(out, "1 members") || strings.Contains(out, "bob@") {
		t.Errorf("groups members (list): %s", out)
	}

	f.must("groups", "rename", "ops", "ops-team")
	f.refused([]string{"groups", "rename", "ops-team", "admins"}, "exists already")
	f.refused([]string{"groups", "members", "ops", "-add", "bob@example.com"}, "no group named ops")
	if got := f.members("ops-team"); !slices.Equal(got, []string{"ada@example.com"}) {
		t.Errorf("after rename: members %v, want ada kept", got)
	}

	// An app admits the group: it cannot be deleted until the app stops.
	f.must("clients", "add", "-id", "grafana", "-name", "Grafana", "-redirect-uri", "https://grafana.example.com/cb", "-allow-group", "ops-team")
	out = f.must("groups", "list")
	if !regexp.MustCompile(`ops-team\s+1\s+Grafana \(grafana\)`).MatchString(out) || !regexp.MustCompile(`admins\s+0\s+-`).MatchString(out) {
		t.Errorf("groups list: want ops-team with 1 member admitted by Grafana, admins empty:\n%s", out)
	}
	f.refused([]string{"groups", "delete", "ops-team"}, "-yes")
	f.refused([]string{"groups", "delete", "ops-team", "-yes"}, "Grafana (grafana)", "clients update")
	f.must("clients", "update", "grafana", "-allow-group", "")
	f.must("groups", "delete", "ops-team", "-yes")
	if _, err := f.store().FindGroup(ctx, "ops-team"); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
		t.Errorf("after delete: FindGroup = %v, want ENOTFOUND", err)
	}
	f.refused([]string{"groups", "frobnicate"}, "unknown groups command")
}

func TestUsersAdminCommand(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	isAdmin := func(id string) bool {
		t.Helper()
		ok, err := f.store().IsAdmin(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	if out := f.must("users", "admin", "Ada@example.com"); !strings.Contains(out, "administrator") || !isAdmin("ada") {
		t.Fatalf("users admin ada: ada admin %v\n%s", isAdmin("ada"), out)
	}
	if ev := f.lastEvent("ada"); ev.Type != passkeyd.EventAdminGranted || !strings.Contains(ev.Detail, "(by an operator)") {
		t.Errorf("ada's security log: %+v; want admin_granted, by an operator", ev)
	}
	// The last administrator keeps the role.
	f.refused([]string{"users", "admin", "ada@example.com", "-revoke"}, "last administrator", "users admin EMAIL")
	if !isAdmin("ada") {
		t.Fatal("the last administrator lost the role")
	}
	f.must("users", "admin", "bob@example.com")
	f.must("users", "admin", "ada@example.com", "-revoke")
	if isAdmin("ada") || !isAdmin("bob") {
		t.Errorf("after granting bob and revoking ada: ada %v, bob %v", isAdmin("ada"), isAdmin("bob"))
	}
	if ev := f.lastEvent("ada"); ev.Type != passkeyd.EventAdminRevoked {
		t.Errorf("ada's security log: %+v; want admin_revoked", ev)
	}
	f.refused([]string{"users", "admin", "nobody@example.com"}, "no user")
}

func TestAPIKeysCommands(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()

	out := f.must("api-keys", "add", "-name", "terraform")
	m := regexp.MustCompile(`(?m)^(pkd_[A-Za-z0-9_-]{43})$`).FindStringSubmatch(out)
	if m == nil || !apikey.Valid(m[1]) {
		t.Fatalf("api-keys add printed no key:\n%s", out)
	}
	key := m[1]
	k, err := f.store().FindAPIKey(ctx, apikey.Hash(key), time.Now())
	if err != nil || k.Name != "terraform" || k.CreatedBy != "shell" || k.Hash != apikey.Hash(key) || strings.Contains(k.Hash, key[4:]) {
		t.Fatalf("the printed key is not stored by its hash: %+v, %v", k, err)
	}
	f.refused([]string{"api-keys", "add", "-name", "terraform"}, "exists already")
	f.refused([]string{"api-keys", "add"}, "-name NAME")
	f.refused([]string{"api-keys", "add", "-name", " "}, "name the API key")

	out = f.must("api-keys", "list")
	if !strings.Contains(out, k.ID) || !strings.Contains(out, "terraform") || !strings.Contains(out, "shell") || strings.Contains(out, key) || strings.Contains(out, k.Hash) {
		t.Errorf("api-keys list (want ID, name, creator; never the key or its hash):\n%s", out)
	}

	f.refused([]string{"api-keys", "revoke", "no-such-key"}, "no API key")
	f.must("api-keys", "revoke", k.ID)
	if _, err := f.store().FindAPIKey(ctx, apikey.Hash(key), time.Now()); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
		t.Errorf("after revoke: FindAPIKey = %v, want ENOTFOUND", err)
	}
	f.must("api-keys", "add", "-name", "backup")
	f.must("api-keys", "revoke", "backup") // by name
	if out := f.must("api-keys", "list"); strings.Contains(out, "backup") || strings.Contains(out, "terraform") {
		t.Errorf("api-keys list after revoking both:\n%s", out)
	}
}

// TestClientsAllowedGroups: the clients CLI and OIDC_CLIENTS_FILE keep
// allowed groups; the file creates the groups it names.
func TestClientsAllowedGroups(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()

	f.must("groups", "add", "ops")
	f.must("groups", "add", "admins")
	f.refused([]string{"clients", "add", "-id", "wiki", "-name", "Wiki", "-redirect-uri", "https://wiki.example.com/cb", "-allow-group", "nosuch"}, "groups add")
	f.must("clients", "add", "-id", "wiki", "-name", "Wiki", "-redirect-uri", "https://wiki.example.com/cb", "-allow-group", "ops", "-allow-group", "admins,ops",
		"-allow", "@example.org", "-scopes", "openid email groups")
	c, err := f.store().FindOIDCClient(ctx, "wiki")
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(c.AllowedGroups)); !slices.Equal(got, []string{"admins", "ops"}) || !slices.Contains(c.Scopes, "groups") {
		t.Errorf("stored client: allowed groups %v, scopes %v; want admins and ops once each, and the groups scope", c.AllowedGroups, c.Scopes)
	}
	out := f.must("clients", "show", "wiki")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") { // the values in one column
		if len(line) < 17 || line[15] != ' ' || line[16] == ' ' {
			t.Errorf("clients show: %q does not start its value at column 16, as \"allowed groups: \" does", line)
		}
	}
	if !regexp.MustCompile(`allowed groups: (admins, ops|ops, admins)`).MatchString(out) || !regexp.MustCompile(`allowed users:  @example.org`).MatchString(out) {
		t.Errorf("clients show:\n%s", out)
	}
	if out := f.must("clients", "list"); !regexp.MustCompile(`wiki\s+Wiki\s+confidential\s+no\s+(admins, ops|ops, admins)`).MatchString(out) {
		t.Errorf("clients list:\n%s", out)
	}
	f.must("clients", "update", "wiki", "-allow-group", "", "-allow", "")
	out = f.must("clients", "show", "wiki")
	if !strings.Contains(out, "allowed users:  everyone") || !strings.Contains(out, "allowed groups: everyone") {
		t.Errorf("clients show after clearing both lists:\n%s", out)
	}
	// A client without the groups scope is not given it by default.
	f.must("clients", "add", "-id", "plain", "-name", "Plain", "-redirect-uri", "https://plain.example.com/cb")
	if c, err := f.store().FindOIDCClient(ctx, "plain"); err != nil || slices.Contains(c.Scopes, "groups") {
		t.Errorf("a client given no scopes: %v, %v; want the defaults, without groups", c.Scopes, err)
	}

	// The clients file: a group it names is created at start, once.
	file := filepath.Join(f.dir, "clients.json")
	if err := os.WriteFile(file, []byte(`{"clients": [{"id": "grafana", "name": "Grafana", "public": true,
		"redirect_uris": ["https://grafana.example.com/cb"], "scopes": ["openid", "profile", "groups"],
		"allowed_groups": ["ops", "grafana-viewers"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"DATA_DIR": f.dir, "OIDC_CLIENTS_FILE": file, "PORT": "0", "HOST": "127.0.0.1"}
	var log bytes.Buffer
	for range 2 {
		sctx, cancel := context.WithCancel(ctx)
		err := serve(sctx, nil, env(vars), &log, func([]string) { cancel() })
		cancel()
		if err != nil {
			t.Fatalf("start with allowed_groups in OIDC_CLIENTS_FILE: %v\n%s", err, log.String())
		}
	}
	if n := strings.Count(log.String(), "created a group named in OIDC_CLIENTS_FILE"); n != 1 || !strings.Contains(log.String(), "group=grafana-viewers") {
		t.Errorf("two starts logged %d group creations, want one (grafana-viewers):\n%s", n, log.String())
	}
	c, err = f.store().FindOIDCClient(ctx, "grafana")
	if err != nil || !slices.Equal(slices.Sorted(slices.Values(c.AllowedGroups)), []string{"grafana-viewers", "ops"}) {
		t.Fatalf("client from the file: %+v, %v; want allowed groups grafana-viewers and ops", c, err)
	}
	if out := f.must("groups", "list"); !regexp.MustCompile(`grafana-viewers\s+0\s+Grafana \(grafana\)`).MatchString(out) {
		t.Errorf("groups list after the file's start:\n%s", out)
	}
	if err := os.WriteFile(file, []byte(`{"clients": [{"id": "grafana", "name": "Grafana", "public": true,
		"redirect_uris": ["https://grafana.example.com/cb"], "allowed_groups": ["two words"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := serve(sctx, nil, env(vars), &log, func([]string) { cancel() }); err == nil || !strings.Contains(err.Error(), "OIDC_CLIENTS_FILE") || !strings.Contains(err.Error(), "two words") {
		t.Errorf("start with a bad group name in the file: %v; want a refusal naming OIDC_CLIENTS_FILE and the name", err)
	}
}
