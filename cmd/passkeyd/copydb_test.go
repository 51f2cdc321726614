package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/postgres"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// copyOrigin is the origin the copy-db tests' browser uses, whichever
// server it talks to.
const copyOrigin = "http://localhost:8443"

// copyServer serves passkeyd on store, as both databases' servers share
// one secret.
func copyServer(t *testing.T, store passkeyd.Store) *httptest.Server {
	t.Helper()
	h, err := web.New(web.Config{
		RPID:       "localhost",
		Origins:    []string{copyOrigin},
		Secret:     []byte(strings.Repeat("k", 32)),
		RateLimits: web.RateLimits{Off: true},
	}, web.Deps{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestCopyDB fills a SQLite database through real ceremonies and through
// the store, copies it with "passkeyd copy-db", and checks that PostgreSQL
// holds the same rows, value for value, and that passkeyd on PostgreSQL
// goes on where passkeyd on SQLite stopped: the session stays valid, the
// passkey signs in, the security log continues in order.
func TestCopyDB(t *testing.T) {
	pgURL := testserver.PostgresDSN(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	src, err := sqlite.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	defer src.Close()

	// Alice signs up and in on the SQLite server with a security key whose
	// counter counts.
	srvA := copyServer(t, src)
	browser := softauthn.NewClient(srvA.URL, copyOrigin, nil)
	key := softauthn.New("localhost", copyOrigin)
	key.Counting, key.BackupEligible, key.BackupState = true, false, false
	if _, err := browser.Register(ctx, key, "alice@example.com"); err != nil {
		t.Fatalf("register on SQLite: %v", err)
	}
	for range 2 {
		if _, err := browser.SignIn(ctx, key, "", nil); err != nil {
			t.Fatalf("sign in on SQLite: %v", err)
		}
	}
	populate(t, src)
	srvA.Close()
	before := dumpSQLite(t, path)
	if err := src.Close(); err != nil {
		t.Fatalf("close SQLite: %v", err)
	}

	var stdout, stderr bytes.Buffer
	args := []string{"copy-db", "-from", "sqlite:" + path, "--to", pgURL}
	if err := run(ctx, args, env(nil), &stdout, &stderr); err != nil {
		t.Fatalf("copy-db: %v\n%s", err, stderr.String())
	}
	t.Logf("copy-db:\n%s", stdout.String())
	for _, want := range []string{"users", "credentials", "sessions", "events", "tokens", "recovery_codes", "used_challenges", "oidc_clients", "oidc_keys", "oidc_auth_requests not copied"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("copy-db output does not mention %s:\n%s", want, stdout.String())
		}
	}

	// Row for row, value for value.
	after := dumpPostgres(t, pgURL)
	if n := len(after["oidc_auth_requests"]); len(before["oidc_auth_requests"]) == 0 || n != 0 {
		t.Errorf("OpenID Connect sign-ins in progress: %d in SQLite, %d copied; want some, none copied", len(before["oidc_auth_requests"]), n)
	}
	for _, skipped := range copySkippedTables {
		delete(before, skipped)
		delete(after, skipped)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("PostgreSQL differs from SQLite (-sqlite +postgres):\n%s", diff)
	}
	for table, rows := range before {
		if len(rows) == 0 {
			t.Errorf("the SQLite database has no %s: the test copies nothing of them", table)
		}
	}

	// The same through the store: every user's account reads the same.
	oldStore, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	defer oldStore.Close()
	pg, err := postgres.Open(ctx, pgURL, postgres.PoolConfig{})
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	defer pg.Close()
	// (EquateEmpty: the rows are equal, as compared above, but an empty
	// BLOB reads back as a nil slice from SQLite and an empty one from
	// PostgreSQL.)
	if diff := cmp.Diff(accounts(t, oldStore), accounts(t, pg), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("accounts differ through the store (-sqlite +postgres):\n%s", diff)
	}

	// Copying again is refused, and changes nothing.
	stdout.Reset()
	err = run(ctx, args, env(nil), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "holds passkeyd data already") {
		t.Errorf("second copy-db: %v; want a refusal naming the data already there", err)
	}
	if diff := cmp.Diff(after, withoutSkipped(dumpPostgres(t, pgURL))); diff != "" {
		t.Errorf("the refused copy changed PostgreSQL (-before +after):\n%s", diff)
	}

	// passkeyd on PostgreSQL, with the same secret: Alice's session cookie
	// from the SQLite server is still valid, and her passkey signs in.
	srvB := copyServer(t, pg)
	onB := &softauthn.Client{Base: srvB.URL, Origin: copyOrigin, HTTP: browser.HTTP}
	res, err := onB.Do(ctx, http.MethodGet, "/api/auth/me", nil)
	if err != nil || res.Status != http.StatusOK || !strings.Contains(string(res.Body), "alice@example.com") {
		t.Fatalf("GET /api/auth/me on PostgreSQL with the SQLite session = %v, %v; want 200 and alice", res, err)
	}
	maxEventID := maxInt64(t, after["events"], "id")
	if _, err := onB.SignIn(ctx, key, "alice@example.com", nil); err != nil {
		t.Fatalf("sign in on PostgreSQL with the copied passkey: %v", err)
	}
	cred, owner, err := pg.FindCredential(ctx, key.Credentials()[0].ID)
	if err != nil {
		t.Fatalf("FindCredential: %v", err)
	}
	if cred.SignCount != 3 || cred.CloneWarning || owner.Email != "alice@example.com" {
		t.Errorf("copied passkey after a third sign-in: counter %d, clone warning %v, owner %s; want 3, false, alice",
			cred.SignCount, cred.CloneWarning, owner.Email)
	}
	// New events continue after the copied ones.
	events, err := pg.ListEvents(ctx, owner.ID, 0, 1)
	if err != nil || len(events) != 1 {
		t.Fatalf("ListEvents = %v, %v", events, err)
	}
	if events[0].Type != passkeyd.EventLoginSucceeded || events[0].ID <= maxEventID {
		t.Errorf("newest event %s #%d, want %s with an ID above the copied ones (%d)", events[0].Type, events[0].ID, passkeyd.EventLoginSucceeded, maxEventID)
	}
}

// populate stores what the ceremonies did not make: every kind of row,
// with edge values (the highest counter, NULL and empty bytes, Unicode, zero
// times, used codes, expired rows, a deleted user's log).
func populate(t *testing.T, s passkeyd.Store) {
	t.Helper()
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 9, 30, 15, 123e6, time.UTC)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	newUser := func(email string) (*passkeyd.User, *passkeyd.Credential) {
		u := &passkeyd.User{ID: "usr-" + email, Email: email, DisplayName: "Ünïcode ✓ " + email,
			Handle: []byte("handle\x00\xff" + email), CreatedAt: t0, UpdatedAt: t0}
		c := &passkeyd.Credential{ID: "pk-" + email, UserID: u.ID, CredentialID: []byte("cred\x00\xfe" + email),
			PublicKey: bytes.Repeat([]byte{0xa5, 0x01, 0x02}, 26), SignCount: 7, Transports: []string{"usb", "nfc", "hybrid"},
			AAGUID: []byte("0123456789abcdef"), AttestationFormat: "packed", AttestationType: "basic_full",
			BackupEligible: true, BackupState: true, UserVerified: true, Attachment: "cross-platform",
			Name: "YubiKey 5 «NFC»", CreatedAt: t0, LastUsedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour)}
		return u, c
	}

	bob, bobKey := newUser("Bob.Builder@Example.COM")
	bobKey.SignCount = 4294967295 // the highest a counter can be
	must("CreateUser(bob)", s.CreateUser(ctx, bob, bobKey, &passkeyd.Event{UserID: bob.ID, Type: passkeyd.EventUserCreated, IP: "2001:db8::1", UserAgent: "curl/8", CreatedAt: t0}))
	phone := &passkeyd.Credential{ID: "pk-bob-phone", UserID: bob.ID, CredentialID: []byte{0}, PublicKey: []byte{1},
		AAGUID: nil, Transports: nil, CreatedAt: t0.Add(time.Minute)} // NULL AAGUID, no transports, never used
	must("AddCredential(phone)", s.AddCredential(ctx, phone, nil))
	empty := &passkeyd.Credential{ID: "pk-bob-empty", UserID: bob.ID, CredentialID: []byte{0, 0}, PublicKey: []byte{2},
		AAGUID: []byte{}, CreatedAt: t0.Add(2 * time.Minute)} // empty, not NULL
	must("AddCredential(empty)", s.AddCredential(ctx, empty, nil))
	must("FlagCredentialCloned", s.FlagCredentialCloned(ctx, passkeyd.UsedChallenge{ID: "chl-bob-clone", ExpiresAt: t0.Add(100 * 365 * 24 * time.Hour)}, bobKey.CredentialID, &passkeyd.Event{UserID: bob.ID, Type: passkeyd.EventCloneWarning, CredentialID: bobKey.ID, Detail: "counter 5 after 7", CreatedAt: t0.Add(time.Hour)}))
	must("SetUserDisabled(bob)", s.SetUserDisabled(ctx, bob.ID, true, &passkeyd.Event{UserID: bob.ID, Type: passkeyd.EventSessionRevoked, CreatedAt: t0.Add(2 * time.Hour)}))

	carol, carolKey := newUser("carol@example.org")
	must("CreateUser(carol)", s.CreateUser(ctx, carol, carolKey, nil))
	must("VerifyEmail(carol)", s.VerifyEmail(ctx, carol.ID, carol.Email, t0.Add(time.Minute), &passkeyd.Event{UserID: carol.ID, Type: passkeyd.EventEmailVerified, CreatedAt: t0.Add(time.Minute)}))
	session := func(id string, scope passkeyd.SessionScope, at time.Time, life time.Duration) *passkeyd.Session {
		return &passkeyd.Session{ID: id, UserID: carol.ID, Scope: scope, CredentialID: carolKey.ID, UserAgent: "Mozilla/5.0 (X11; Linux)",
			IP: "192.0.2.44", CreatedAt: at, LastSeenAt: at.Add(time.Second), AuthenticatedAt: at, IdleExpiresAt: at.Add(life), ExpiresAt: at.Add(2 * life)}
	}
	must("CompleteSignIn(carol)", s.CompleteSignIn(ctx, &passkeyd.SignIn{
		Challenge: passkeyd.UsedChallenge{ID: "chl-carol", ExpiresAt: t0.Add(100 * 365 * 24 * time.Hour)},
		Use:       passkeyd.CredentialUse{CredentialID: carolKey.CredentialID, PreviousSignCount: 7, SignCount: 8, BackupEligible: true, UserVerified: true, UsedAt: t0.Add(3 * time.Minute)},
		Session:   session("ses-carol-full", passkeyd.ScopeFull, t0.Add(3*time.Minute), 100*365*24*time.Hour),
		Events:    []*passkeyd.Event{{UserID: carol.ID, Type: passkeyd.EventLoginSucceeded, CredentialID: carolKey.ID, CreatedAt: t0.Add(3 * time.Minute)}, {UserID: carol.ID, Type: passkeyd.EventBackupStateChanged, Detail: "no longer synced", CreatedAt: t0.Add(3 * time.Minute)}},
	}))
	must("CompleteSignIn(carol, expired)", s.CompleteSignIn(ctx, &passkeyd.SignIn{
		Challenge: passkeyd.UsedChallenge{ID: "chl-carol-expired", ExpiresAt: t0.Add(15 * time.Minute)},
		Use:       passkeyd.CredentialUse{CredentialID: carolKey.CredentialID, PreviousSignCount: 8, SignCount: 8, BackupEligible: true, UserVerified: true, UsedAt: t0},
		Session:   session("ses-carol-expired", passkeyd.ScopeFull, t0, time.Minute),
	}))
	for i, p := range []passkeyd.TokenPurpose{passkeyd.TokenVerifyEmail, passkeyd.TokenRecovery, passkeyd.TokenChangeEmail} {
		must("SaveToken", s.SaveToken(ctx, &passkeyd.Token{ID: fmt.Sprintf("tok-%d", i), UserID: carol.ID, Purpose: p,
			Email: "Carol.New@Example.org", CreatedAt: t0, ExpiresAt: t0.Add(time.Duration(i) * 24 * time.Hour)}))
	}
	// A sign-up link belongs to no account: its user_id is NULL, and stays so.
	must("SaveToken(sign-up)", s.SaveToken(ctx, &passkeyd.Token{ID: "tok-sign-up", Purpose: passkeyd.TokenSignUp,
		Email: "Erin@Example.org", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}))
	codes := []*passkeyd.RecoveryCode{
		{ID: "aaaa1111", Hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", CreatedAt: t0},
		{ID: "bbbb2222", Hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaB", CreatedAt: t0},
		{ID: "cccc3333", Hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaC", CreatedAt: t0},
	}
	must("ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, carol.ID, codes, &passkeyd.Event{UserID: carol.ID, Type: passkeyd.EventRecoveryCodesGenerated, CreatedAt: t0}))
	recovery := session("ses-carol-recovery", passkeyd.ScopeRecovery, t0.Add(time.Hour), 15*time.Minute)
	recovery.CredentialID = ""
	// A recovery session of another user, opened with a code (which gets
	// used), so that the first user's sessions and links stay.
	dave, daveKey := newUser("dave@example.net")
	must("CreateUser(dave)", s.CreateUser(ctx, dave, daveKey, &passkeyd.Event{UserID: dave.ID, Type: passkeyd.EventUserCreated, CreatedAt: t0}))
	must("ReplaceRecoveryCodes(dave)", s.ReplaceRecoveryCodes(ctx, dave.ID, []*passkeyd.RecoveryCode{
		{ID: "bbbb2222", Hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaD", CreatedAt: t0}}, nil))
	_, err := s.StartRecovery(ctx, &passkeyd.Recovery{UserID: dave.ID, CodeID: "bbbb2222", Session: recovery, At: t0.Add(time.Hour),
		Event: &passkeyd.Event{Type: passkeyd.EventRecoveryUsed, CreatedAt: t0.Add(time.Hour)}})
	must("StartRecovery(dave)", err)
	// Erin's account is deleted: her security log stays.
	erin, erinKey := newUser("erin@example.net")
	must("CreateUser(erin)", s.CreateUser(ctx, erin, erinKey, &passkeyd.Event{UserID: erin.ID, Type: passkeyd.EventUserCreated, CreatedAt: t0}))
	must("DeleteUser(erin)", s.DeleteUser(ctx, erin.ID))
	// A failed sign-in that names no account.
	must("RecordEvent", s.RecordEvent(ctx, &passkeyd.Event{Type: passkeyd.EventLoginFailed, IP: "198.51.100.9", Detail: "unknown passkey"}))
	// The OpenID Connect provider: a client Carol uses, with her consent and
	// tokens, a signing key, and a sign-in in progress (not copied).
	o := s.(passkeyd.OIDCStore)
	must("CreateOIDCClient", o.CreateOIDCClient(ctx, &passkeyd.OIDCClient{ID: "grafana", Name: "Grafana", SecretHash: "abc",
		RedirectURIs: []string{"https://grafana.example.org/login/generic_oauth"}, Scopes: []string{"openid", "email"},
		IDTokenAlg: "ES256", AccessTokenTTL: 5 * time.Minute, Trusted: true, AllowedUsers: []string{"@example.org"}, CreatedAt: t0}, nil))
	must("SaveOIDCConsent", o.SaveOIDCConsent(ctx, &passkeyd.OIDCConsent{UserID: carol.ID, ClientID: "grafana", Scopes: []string{"openid", "email"}, CredentialID: "pk-carol", CreatedAt: t0}))
	must("CreateOIDCTokens", o.CreateOIDCTokens(ctx,
		&passkeyd.OIDCToken{ID: "at-1", Kind: passkeyd.OIDCAccessToken, GrantID: "g-1", ClientID: "grafana", UserID: carol.ID,
			Scopes: []string{"openid"}, Audience: []string{"grafana"}, AuthTime: t0, AMR: []string{"pop", "mfa"}, CredentialID: "pk-carol", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)},
		&passkeyd.OIDCToken{ID: "rt-1", Kind: passkeyd.OIDCRefreshToken, GrantID: "g-1", ClientID: "grafana", UserID: carol.ID,
			Scopes: []string{"openid", "offline_access"}, CreatedAt: t0, ExpiresAt: t0.Add(720 * time.Hour)}))
	must("AddOIDCKey", o.AddOIDCKey(ctx, &passkeyd.OIDCKey{ID: "kid-1", Algorithm: "RS256", PrivateKey: []byte{1, 2, 3}, CreatedAt: t0, SignFrom: t0.Add(time.Hour), Generation: 1}, t0))
	must("SaveOIDCAuthRequest", o.SaveOIDCAuthRequest(ctx, &passkeyd.OIDCAuthRequest{ID: "ar-1", ClientID: "grafana",
		RedirectURI: "https://grafana.example.org/login/generic_oauth", Scopes: []string{"openid"}, ResponseType: "code",
		MaxAge: -1, CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}))
	// The console's: an administrator, a group the client admits, an API
	// key, an administrator's event naming the app, the setup link.
	c := s.(passkeyd.ConsoleStore)
	adminEvent := func(typ string) *passkeyd.Event {
		return &passkeyd.Event{UserID: carol.ID, Type: typ, ClientID: "grafana", AdminID: carol.ID, AdminName: carol.Email, CreatedAt: t0}
	}
	must("SetAdmin(carol)", c.SetAdmin(ctx, carol.ID, true, adminEvent(passkeyd.EventAdminGranted)))
	must("CreateGroup", c.CreateGroup(ctx, &passkeyd.Group{ID: "grp-ops", Name: "Ops", CreatedAt: t0, UpdatedAt: t0.Add(time.Second)}, nil))
	must("AddGroupMember", c.AddGroupMember(ctx, "grp-ops", carol.ID, nil))
	grafana, err := o.FindOIDCClient(ctx, "grafana")
	must("FindOIDCClient", err)
	grafana.AllowedGroups, grafana.Declared = []string{"Ops"}, true
	must("SaveOIDCClient", o.SaveOIDCClient(ctx, grafana, nil))
	must("CreateAPIKey", c.CreateAPIKey(ctx, &passkeyd.APIKey{ID: "key-1", Name: "deploy", Hash: "hash", CreatedBy: carol.Email, CreatedAt: t0}, adminEvent(passkeyd.EventAPIKeyCreated)))
	_, err = c.FindAPIKey(ctx, "hash", t0.Add(time.Minute))
	must("FindAPIKey", err)
	must("SaveToken(admin setup)", s.SaveToken(ctx, &passkeyd.Token{ID: "tok-setup", Purpose: passkeyd.TokenAdminSetup, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
}

// tableRows are a table's rows, each a column → value map, sorted.
type tableRows []map[string]any

// dump reads every table but goose's: every column of every row, booleans
// as 0 and 1 (SQLite's form), so that the two databases compare. NULL is
// nil; an empty BLOB or BYTEA is an empty []byte.
func dump(t *testing.T, db *sql.DB, tablesQuery string) map[string]tableRows {
	t.Helper()
	ctx := t.Context()
	rows, err := db.QueryContext(ctx, tablesQuery)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	tables, err := collectStrings(rows)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	out := map[string]tableRows{}
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		list := tableRows{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("read %s: %v", table, err)
			}
			row := map[string]any{}
			for i, c := range cols {
				v := vals[i]
				switch b := v.(type) {
				case bool:
					v = int64(0)
					if b {
						v = int64(1)
					}
				case []byte:
					// The SQLite driver reads an empty BLOB as a nil
					// []byte (NULL is a nil any).
					if b == nil {
						v = []byte{}
					}
				}
				row[c] = v
			}
			list = append(list, row)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		rows.Close()
		sort.Slice(list, func(i, j int) bool { return rowKey(list[i]) < rowKey(list[j]) })
		out[table] = list
	}
	return out
}

func rowKey(row map[string]any) string {
	return fmt.Sprintf("%v\x00%020v", row["user_id"], row["id"])
}

func dumpSQLite(t *testing.T, path string) map[string]tableRows {
	t.Helper()
	s, err := sqlite.Connect(t.Context(), path)
	if err != nil {
		t.Fatalf("sqlite.Connect: %v", err)
	}
	defer s.Close()
	return dump(t, sqlstore.DB(s), `SELECT name FROM sqlite_schema WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'goose_db_version'`)
}

func dumpPostgres(t *testing.T, url string) map[string]tableRows {
	t.Helper()
	s, err := postgres.Connect(t.Context(), url, postgres.PoolConfig{})
	if err != nil {
		t.Fatalf("postgres.Connect: %v", err)
	}
	defer s.Close()
	return dump(t, sqlstore.DB(s), `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'goose_db_version'`)
}

func withoutSkipped(d map[string]tableRows) map[string]tableRows {
	for _, skipped := range copySkippedTables {
		delete(d, skipped)
	}
	return d
}

func maxInt64(t *testing.T, rows tableRows, col string) int64 {
	t.Helper()
	var m int64
	for _, r := range rows {
		v, ok := r[col].(int64)
		if !ok {
			t.Fatalf("%s is %T, not int64", col, r[col])
		}
		m = max(m, v)
	}
	return m
}

// account is what the store tells about one user.
type account struct {
	User        *passkeyd.User
	Credentials []*passkeyd.Credential
	Sessions    []*passkeyd.Session
	Codes       int
	Events      []*passkeyd.Event
}

// accounts reads every account through the store.
func accounts(t *testing.T, s passkeyd.Store) []account {
	t.Helper()
	ctx := t.Context()
	users, err := s.ListUsers(ctx, "", 1000)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	var out []account
	for _, u := range users {
		a := account{User: u}
		if a.Credentials, err = s.ListCredentials(ctx, u.ID); err != nil {
			t.Fatalf("ListCredentials: %v", err)
		}
		if a.Sessions, err = s.ListSessions(ctx, u.ID, time.Date(2025, 3, 1, 9, 31, 0, 0, time.UTC)); err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		if a.Codes, err = s.CountRecoveryCodes(ctx, u.ID); err != nil {
			t.Fatalf("CountRecoveryCodes: %v", err)
		}
		if a.Events, err = s.ListEvents(ctx, u.ID, 0, 1000); err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		out = append(out, a)
	}
	return out
}

// TestCopyDBAllOrNothing: a row PostgreSQL refuses (a NUL character,
// which SQLite's TEXT takes and PostgreSQL's does not), in the last table
// copied, leaves PostgreSQL without a single row.
func TestCopyDBAllOrNothing(t *testing.T) {
	pgURL := testserver.PostgresDSN(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	populate(t, src)
	if err := src.RecordEvent(ctx, &passkeyd.Event{Type: passkeyd.EventLoginFailed, Detail: "a NUL \x00 here"}); err != nil {
		t.Fatalf("RecordEvent: %v", err)
	}
	src.Close()

	err = run(ctx, []string{"copy-db", "-from", path, "-to", pgURL}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "events") {
		t.Fatalf("copy-db = %v; want an error about the events", err)
	}
	for table, rows := range dumpPostgres(t, pgURL) {
		if len(rows) != 0 {
			t.Errorf("PostgreSQL has %d %s after a failed copy, want none", len(rows), table)
		}
	}
}

// TestCopyDBRefusals: wrong or missing databases are refused before
// anything is written, and a mistyped SQLite path creates no file.
func TestCopyDBRefusals(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	for _, tc := range []struct {
		name     string
		args     []string
		vars     map[string]string
		fragment string
	}{
		{"NoFlags", nil, nil, "-from"},
		{"NoTo", []string{"-from", missing}, nil, "-to"},
		{"FromPostgres", []string{"-from", "postgres://x/y", "-to", "postgres://x/z"}, nil, "SQLite"},
		{"ToSQLite", []string{"-from", missing, "-to", "sqlite:" + filepath.Join(dir, "b.db")}, nil, "PostgreSQL URL"},
		{"MissingFile", []string{"-from", "sqlite:" + missing, "-to", "postgres://127.0.0.1:1/x"}, nil, "typo.db"},
		// -to defaults to a PostgreSQL DATABASE_URL.
		{"ToFromEnv", []string{"-from", "file:" + missing}, map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x"}, "typo.db"},
		{"Argument", []string{"-from", missing, "-to", "postgres://127.0.0.1:1/x", "extra"}, nil, "extra"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(t.Context(), append([]string{"copy-db"}, tc.args...), env(tc.vars), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.fragment) {
				t.Errorf("copy-db %v = %v; want an error mentioning %q", tc.args, err, tc.fragment)
			}
		})
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("copy-db created the missing SQLite file (%v)", err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"copy-db", "-h"}, env(nil), &out, &out); err != nil || !strings.Contains(out.String(), "SESSION_SECRET") {
		t.Errorf("copy-db -h = %v:\n%s", err, out.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"help"}, env(nil), &out, &out); err != nil || !strings.Contains(out.String(), "copy-db") {
		t.Errorf("help does not list copy-db:\n%s", out.String())
	}
}

// TestCopyDBKnowsTheSchema fails when a migration adds a table or a
// column that copy-db would not copy.
func TestCopyDBKnowsTheSchema(t *testing.T) {
	known := slices.Clone(copySkippedTables)
	for _, tbl := range copyTables {
		known = append(known, tbl.name)
	}
	slices.Sort(known)
	check := func(t *testing.T, d map[string]tableRows, columns func(table string) []string) {
		var tables []string
		for name := range d {
			tables = append(tables, name)
		}
		slices.Sort(tables)
		if !slices.Equal(tables, known) {
			t.Errorf("tables %v, copy-db knows %v", tables, known)
		}
		for _, tbl := range copyTables {
			if err := sameColumns("migrated", tbl, columns(tbl.name)); err != nil {
				t.Error(err)
			}
		}
	}
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "new.db")
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		check(t, dumpSQLite(t, path), func(table string) []string {
			rows, err := sqlstore.DB(s).QueryContext(t.Context(), `SELECT name FROM pragma_table_info($1)`, table)
			if err != nil {
				t.Fatal(err)
			}
			cols, err := collectStrings(rows)
			if err != nil {
				t.Fatal(err)
			}
			return cols
		})
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		url := testserver.PostgresDSN(t)
		s, err := postgres.Open(t.Context(), url, postgres.PoolConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		check(t, dumpPostgres(t, url), func(table string) []string {
			rows, err := sqlstore.DB(s).QueryContext(t.Context(), `SELECT column_name FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = $1`, table)
			if err != nil {
				t.Fatal(err)
			}
			cols, err := collectStrings(rows)
			if err != nil {
				t.Fatal(err)
			}
			return cols
		})
	})
}
