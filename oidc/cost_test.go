package oidc_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	msqlite "modernc.org/sqlite"

	"golang.org/x/oauth2"

	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/sqlite"
)

// sqlCounter counts the transactions begun and the statements run through
// the database pools of a store opened by countingStore, and notes those
// run unprepared: parsed again on every call.
type sqlCounter struct {
	mu         sync.Mutex
	tx         int
	statements []string
	unprepared []string
}

func (c *sqlCounter) begin() {
	c.mu.Lock()
	c.tx++
	c.mu.Unlock()
}

func (c *sqlCounter) statement(q string, prepared bool) {
	c.mu.Lock()
	q = strings.Join(strings.Fields(q), " ")
	c.statements = append(c.statements, q)
	if !prepared {
		c.unprepared = append(c.unprepared, q)
	}
	c.mu.Unlock()
}

// take returns and resets what was counted.
func (c *sqlCounter) take() (tx int, statements, unprepared []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tx, statements, unprepared = c.tx, c.statements, c.unprepared
	c.tx, c.statements, c.unprepared = 0, nil, nil
	return tx, statements, unprepared
}

// countingConnector opens modernc.org/sqlite connections that report to
// a sqlCounter.
type countingConnector struct {
	dsn string
	c   *sqlCounter
}

func (k countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := (&msqlite.Driver{}).Open(k.dsn)
	if err != nil {
		return nil, err
	}
	return countingConn{conn, k.c}, nil
}

func (k countingConnector) Driver() driver.Driver { return &msqlite.Driver{} }

type countingConn struct {
	driver.Conn
	c *sqlCounter
}

func (c countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.c.begin()
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return countingStmt{st, q, c.c}, nil
}

func (c countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.c.statement(q, false)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.c.statement(q, false)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

type countingStmt struct {
	driver.Stmt
	q string
	c *sqlCounter
}

func (s countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.statement(s.q, true)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.statement(s.q, true)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

// countingStore is the SQLite store (sqlstore with SQLite's pools and
// settings, sqlite.Open's migrations) whose statements c counts.
func countingStore(t *testing.T, c *sqlCounter) *sqlstore.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "passkeyd.db")
	migrated, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	migrated.Close()
	dsn := func(extra string) string {
		return "file:" + path + "?_journal_mode=WAL&_synchronous=NORMAL&_foreign_keys=1&_busy_timeout=5000&" + extra
	}
	db := sql.OpenDB(countingConnector{dsn("_txlock=immediate&_pragma=temp_store(MEMORY)"), c})
	db.SetMaxOpenConns(1)
	read := sql.OpenDB(countingConnector{dsn("_query_only=1"), c})
	return sqlstore.New(db, read, sqlstore.Dialect{Name: "sqlite", GroupCommit: true, LocalStatements: true,
		Classify: func(error) sqlstore.ErrorKind { return sqlstore.ErrOther }})
}

// appSignInStep is one request of an app sign-in and what it cost the
// database.
type appSignInStep struct {
	name       string
	tx         int
	statements []string
	unprepared []string
}

// count returns how many of the step's statements contain s.
func (st appSignInStep) count(s string) int {
	n := 0
	for _, q := range st.statements {
		if strings.Contains(q, s) {
			n++
		}
	}
	return n
}

// TestAppSignInCost (issue 22): an app sign-in with a session and the
// consent remembered (authorize, login, token, userinfo, refresh) commits
// at most one transaction per step, reads the client and the account at
// most once per request, and runs every statement prepared (the store's
// statement cache), not parsed again on each call. It logs each step's statements: BENCHMARKS.md's "The app
// sign-in's cost" quotes them (go test ./oidc/ -run TestAppSignInCost -v).
func TestAppSignInCost(t *testing.T) {
	counter := &sqlCounter{}
	s := startInProcessOn(t, countingStore(t, counter))
	p := s.provider(t)
	conf := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	first, _ := s.signIn(t, p, conf) // the first: consent
	// and its refresh, so that every statement has been seen once, as in a
	// server that has run an app sign-in before
	if res, body := s.post(t, "/oidc/token", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}, true); res.StatusCode != http.StatusOK {
		t.Fatalf("first refresh: %d %s", res.StatusCode, body)
	}

	var steps []appSignInStep
	step := func(name string) {
		tx, statements, unprepared := counter.take()
		steps = append(steps, appSignInStep{name, tx, statements, unprepared})
	}
	counter.take()
	verifier := oauth2.GenerateVerifier()
	a := s.send(t, http.MethodGet, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), nil)
	step("authorize")
	if !strings.HasPrefix(a.location, s.issuer+"/oidc/login?") {
		t.Fatalf("authorize: status %d, Location %q", a.status, a.location)
	}
	a = s.send(t, http.MethodGet, a.location, nil)
	step("login")
	code := mustParse(t, a.location).Query().Get("code")
	if a.status != http.StatusSeeOther || code == "" {
		t.Fatalf("login: status %d, Location %q; want a code (consent remembered)", a.status, a.location)
	}
	res, body := s.post(t, "/oidc/token", "", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {appRedirect}, "code_verifier": {verifier}}, true)
	step("token")
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &tok) != nil || tok.RefreshToken == "" {
		t.Fatalf("token: %d %s", res.StatusCode, body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.issuer+"/oidc/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, body = s.do(t, req)
	step("userinfo")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d %s", res.StatusCode, body)
	}
	res, body = s.post(t, "/oidc/token", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, true)
	step("refresh")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %s", res.StatusCode, body)
	}

	var total appSignInStep
	for _, st := range steps {
		t.Logf("%-9s %d transaction(s), %2d statements:", st.name, st.tx, len(st.statements))
		for _, q := range st.statements {
			t.Logf("    %s", truncateQuery(q))
		}
		total.tx += st.tx
		total.statements = append(total.statements, st.statements...)
		if st.tx > 1 {
			t.Errorf("%s: %d transactions, want at most one", st.name, st.tx)
		}
		if n := st.count("FROM oidc_clients WHERE id"); n > 1 {
			t.Errorf("%s: the client read %d times, want once at most", st.name, n)
		}
		if n := st.count("FROM users u WHERE u.id"); n > 1 {
			t.Errorf("%s: the account read %d times, want once at most", st.name, n)
		}
		for _, q := range st.unprepared {
			t.Errorf("%s: a statement parsed anew for this call, not prepared once: %s", st.name, truncateQuery(q))
		}
	}
	t.Logf("app sign-in: %d transactions, %d statements", total.tx, len(total.statements))
}

// truncateQuery shortens a statement's column list for the log.
func truncateQuery(q string) string {
	words := strings.Fields(q)
	if len(words) > 0 && slices.Contains([]string{"SELECT", "UPDATE", "INSERT", "DELETE"}, words[0]) && len(q) > 110 {
		return fmt.Sprintf("%.110s…", q)
	}
	return q
}
