package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/mail/mailtest"
	"github.com/passkeyd/passkeyd/sqlite"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// server is a running passkeyd.
type server struct {
	URL  string             // http://localhost:PORT, the configured origin
	DSN  string             // its DATABASE_URL
	Mail *mailtest.Server   // where its email goes (withMail), or nil: to its log
	log  *testserver.Buffer // what it wrote
}

// serverOption changes how startServer runs passkeyd.
type serverOption func(*server, *[]string)

// withMail makes passkeyd send its email to a real SMTP server inside the
// test (srv.Mail), where the test can read it and follow its links.
func withMail(t *testing.T) serverOption {
	m := mailtest.NewServer(t)
	return func(s *server, env *[]string) {
		s.Mail = m
		*env = append(*env, "SMTP_URL="+m.URL(), "MAIL_FROM=passkeyd@example.com")
	}
}

// startServer starts passkeyd on a free loopback port with a fresh SQLite
// file, waits until /healthz answers 200, and stops it at cleanup. If the test
// failed, the server's log is printed.
func startServer(t *testing.T, opts ...serverOption) *server {
	t.Helper()
	port := testserver.FreePort(t)
	dir := t.TempDir()
	s := &server{
		URL: "http://localhost:" + port,
		DSN: "file:" + filepath.Join(dir, "e2e.db"),
	}
	env := append(os.Environ(),
		"HOST=127.0.0.1",
		"PORT="+port,
		"WEBAUTHN_RP_ID=localhost",
		"WEBAUTHN_ORIGIN="+s.URL,
		"PUBLIC_URL="+s.URL, // the links in email
		"DATABASE_URL="+s.DSN,
		"DATA_DIR="+filepath.Join(dir, "data"),
		"RATE_LIMIT=off",
		"LOG_FORMAT=text",
	)
	for _, o := range opts {
		o(s, &env)
	}
	p := testserver.Run(t, testserver.Config{Dir: dir, Env: env}, 5*time.Second)
	s.log = p.Out
	p.WaitHealthy(t, "http://127.0.0.1:"+port+"/healthz", 15*time.Second)
	return s
}

// stored is what the server's database holds, read beside the running
// server (SQLite in WAL mode lets a second process read).
type stored struct {
	Users       int
	Sessions    int
	Credentials int
}

// store opens the server's database for a look.
func (s *server) store(t testing.TB) *sqlite.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, s.DSN)
	if err != nil {
		t.Fatalf("open the server's database: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// counts returns how many users, sessions and credentials are stored.
func (s *server) counts(t testing.TB) stored {
	t.Helper()
	st := s.store(t)
	var c stored
	for _, q := range []struct {
		table string
		n     *int
	}{{"users", &c.Users}, {"sessions", &c.Sessions}, {"credentials", &c.Credentials}} {
		if err := sqlstore.DB(st).QueryRow("SELECT COUNT(*) FROM " + q.table).Scan(q.n); err != nil {
			t.Fatalf("count %s: %v", q.table, err)
		}
	}
	return c
}

// user returns the stored account of email and its passkeys, oldest first;
// nil if there is no such account.
func (s *server) user(t testing.TB, email string) (*passkeyd.User, []*passkeyd.Credential) {
	t.Helper()
	st := s.store(t)
	ctx := context.Background()
	u, err := st.FindUserByEmail(ctx, email)
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		t.Fatalf("find user %s: %v", email, err)
	}
	creds, err := st.ListCredentials(ctx, u.ID)
	if err != nil {
		t.Fatalf("list credentials of %s: %v", email, err)
	}
	return u, creds
}

// mustUser is user, failing when the account does not exist.
func (s *server) mustUser(t testing.TB, email string) (*passkeyd.User, []*passkeyd.Credential) {
	t.Helper()
	u, creds := s.user(t, email)
	if u == nil {
		t.Fatalf("store: no user %s", email)
	}
	return u, creds
}

// sessionIDs returns the IDs of every stored login session.
func (s *server) sessionIDs(t testing.TB) []string {
	t.Helper()
	rows, err := sqlstore.DB(s.store(t)).Query("SELECT id FROM sessions ORDER BY id")
	if err != nil {
		t.Fatalf("list sessions: %v", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatalf("list sessions: %v", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("list sessions: %v", err)
	}
	return ids
}

// me asks GET /api/auth/me outside the browser, with these cookies (as
// another device holding them would), and returns the status code.
func (s *server) me(t testing.TB, cookies []*http.Cookie) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/api/auth/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET /api/auth/me: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// mailLink waits for email to `to` and returns the first link in it that
// starts with the server's URL followed by path, skipping other messages
// (notifications) on the way. It fails after 15 seconds.
func (s *server) mailLink(t testing.TB, to, path string) (link string, msg mailtest.Received) {
	t.Helper()
	if s.Mail == nil {
		t.Fatal("mailLink: the server was not started withMail")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var seen []string
	for {
		m, err := s.Mail.Wait(ctx, to)
		if err != nil {
			t.Fatalf("no email to %s with a link to %s (%v); received: %q", to, path, err, seen)
		}
		if link := mailtest.Link(m.Text, s.URL+path); link != "" {
			return link, m
		}
		seen = append(seen, m.Subject)
	}
}

// confirmAddress opens the confirmation link emailed to `to` at sign-up
// as if on another device (the link page's button, through its JSON
// route): apps take only confirmed addresses by default.
func (s *server) confirmAddress(t testing.TB, to string) {
	t.Helper()
	link, _ := s.mailLink(t, to, "/verify-email")
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"token": u.Query().Get("token")})
	res, err := http.Post(s.URL+"/api/email/verify", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("confirm %s: status %d", to, res.StatusCode)
	}
}

// mailsTo returns the messages received so far for the address.
func (s *server) mailsTo(to string) []mailtest.Received {
	var out []mailtest.Received
	for _, m := range s.Mail.Messages() {
		if slices.ContainsFunc(m.To, func(r string) bool { return strings.EqualFold(r, to) }) {
			out = append(out, m)
		}
	}
	return out
}

// waitLog waits up to 5 seconds for the server to log a line containing
// text.
func (s *server) waitLog(t testing.TB, text string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.log.String(), text) {
		if time.Now().After(deadline) {
			t.Errorf("the server never logged %q", text)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
