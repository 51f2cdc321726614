package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/mail/mailtest"
	"github.com/passkeyd/passkeyd/sqlite"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// serverBinary returns the passkeyd binary under test, built once per test
// binary from the module's ./cmd/passkeyd.
func serverBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PASSKEYD_TEST_BINARY"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, err = os.MkdirTemp("", "passkeyd-e2e-"); err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(buildDir, "passkeyd")
		cmd := exec.Command("go", "build", "-o", buildBin, "./cmd/passkeyd")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/passkeyd (in %s): %v\n%s", root, err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if gomod := strings.TrimSpace(string(out)); err == nil && gomod != "" && gomod != os.DevNull {
		return filepath.Dir(gomod), nil
	}
	return filepath.Abs("..")
}

// server is a running passkeyd.
type server struct {
	URL  string           // http://localhost:PORT, the configured origin
	DSN  string           // its DATABASE_URL
	Mail *mailtest.Server // where its email goes (withMail), or nil: to its log
	log  *syncBuffer
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
	bin := serverBinary(t)
	port := freePort(t)
	dir := t.TempDir()
	s := &server{
		URL: "http://localhost:" + port,
		DSN: "file:" + filepath.Join(dir, "e2e.db"),
		log: &syncBuffer{},
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
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start passkeyd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("passkeyd log:\n%s", s.log.String())
		}
	})

	health := "http://127.0.0.1:" + port + "/healthz"
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := client.Get(health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("passkeyd exited before it was healthy (%v); log:\n%s", err, s.log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("passkeyd: GET /healthz not 200 after 15s (last error: %v)", err)
		}
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// syncBuffer collects the server's output from two pipes at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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
		if err := st.DB().QueryRow("SELECT COUNT(*) FROM " + q.table).Scan(q.n); err != nil {
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
	rows, err := s.store(t).DB().Query("SELECT id FROM sessions ORDER BY id")
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
