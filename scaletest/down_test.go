package scaletest

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/postgres"
)

// TestDatabaseDownAndBack stops the PostgreSQL server under a running
// passkeyd and starts it again: while it is down, /readyz and every request
// that needs the database answer 503 with a JSON error, promptly; when it
// is back, passkeyd works again without a restart. The test runs its own
// PostgreSQL (initdb and pg_ctl in a temporary directory, on a free
// loopback port), since it stops it.
func TestDatabaseDownAndBack(t *testing.T) {
	pg := startPostgres(t)
	in := startInstance(t, "A", pg.url())
	ctx := t.Context()

	// Up: ready, and ceremonies work.
	wantReady(t, in, http.StatusOK)
	key := softauthn.New("localhost", origin)
	alice := newBrowser()
	want200(t, "register", alice.register(t, in, in, key, "alice@example.com"))
	want200(t, "sign in", alice.signIn(t, in, in, key))

	pg.stop(t)

	// Down: 503 with {"error": ...}, not a hang.
	start := time.Now()
	wantReady(t, in, http.StatusServiceUnavailable)
	t.Logf("GET /readyz with the database down: 503 in %v", time.Since(start).Round(time.Millisecond))
	for _, req := range []struct{ path, body string }{
		{"/api/passkeys/generate-registration-options", `{"email":"bob@example.com"}`},
	} {
		start := time.Now()
		res, err := newBrowser().at(in).Do(ctx, http.MethodPost, req.path, []byte(req.body))
		took := time.Since(start)
		if err != nil {
			t.Fatalf("POST %s with the database down: %v (after %v)", req.path, err, took)
		}
		t.Logf("POST %s with the database down: %d in %v: %s", req.path, res.Status, took.Round(time.Millisecond), res.Body)
		if res.Status != http.StatusServiceUnavailable || res.Error() == "" || res.Header.Get("Retry-After") == "" {
			t.Errorf("POST %s with the database down: %d %s (Retry-After %q); want 503 with an error and Retry-After",
				req.path, res.Status, res.Body, res.Header.Get("Retry-After"))
		}
		if took > postgres.DefaultConnectTimeout {
			t.Errorf("POST %s took %v with the database down; want an answer within the connect timeout (%v)", req.path, took, postgres.DefaultConnectTimeout)
		}
	}
	// Sign-in options touch no database, so they are answered; the
	// verification that needs the passkey gets 503.
	if res := alice.signIn(t, in, in, key); res.Status != http.StatusServiceUnavailable || res.Error() == "" {
		t.Errorf("sign-in with the database down: %d %s; want 503 with an error", res.Status, res.Body)
	}
	// What a signed-in page sees meanwhile (reported, not required: the
	// session cannot be read, so the browser looks signed out).
	if res := alice.get(t, in, "/api/auth/me"); res.Status != http.StatusOK {
		t.Logf("GET /api/auth/me with a session and the database down: %d %s", res.Status, res.Body)
	}
	if res := alice.get(t, in, "/healthz"); res.Status != http.StatusOK {
		t.Errorf("GET /healthz with the database down: %d; want 200 (the process is up)", res.Status)
	}
	if !in.running() {
		t.Fatal("passkeyd exited while the database was down")
	}

	pg.start(t)

	// Back: ready again by itself, within a few seconds, and everything
	// works with the data from before.
	start = time.Now()
	for {
		res, err := http.Get(in.URL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("/readyz not 200 within 30s of the database's return (last: %v, %v)", res, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("ready again %v after PostgreSQL started", time.Since(start).Round(time.Millisecond))
	if res := alice.get(t, in, "/api/auth/me"); res.Status != http.StatusOK {
		t.Errorf("GET /api/auth/me after the database came back: %d %s; want 200 (the session survived)", res.Status, res.Body)
	}
	want200(t, "sign in after the database came back", alice.signIn(t, in, in, key))
	want200(t, "register after the database came back", newBrowser().register(t, in, in, softauthn.New("localhost", origin), "bob@example.com"))
}

// wantReady checks GET /readyz's status and, for 503, its JSON error.
func wantReady(t *testing.T, in *instance, want int) {
	t.Helper()
	res := newBrowser().get(t, in, "/readyz")
	if res.Status != want {
		t.Fatalf("GET /readyz: %d %s; want %d", res.Status, res.Body, want)
	}
	if want == http.StatusServiceUnavailable {
		var body struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(res.Body, &body); err != nil || body.Error == "" {
			t.Errorf("GET /readyz: body %s; want {\"error\": ...}", res.Body)
		}
	}
}

// pgServer is a PostgreSQL server of the test's own.
type pgServer struct {
	bin  string // directory of initdb, pg_ctl, postgres
	dir  string // data, socket and log
	port string
	as   []string // runuser -u postgres --, when the test runs as root
}

func (p *pgServer) url() string {
	return "postgres://passkeyd@127.0.0.1:" + p.port + "/postgres?sslmode=disable&connect_timeout=5"
}

// startPostgres initialises and starts a PostgreSQL server, stopped and
// removed when the test ends. Without initdb and pg_ctl, the test skips
// (fails under CI=true).
func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	bin := findPostgres()
	if bin == "" {
		const msg = "PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install postgresql)"
		if testserver.InCI() {
			t.Fatal(msg + ", and CI must run the database restart test")
		}
		t.Skip(msg + ", so the database restart test is skipped")
	}
	// A short directory: the socket path must fit in 107 bytes.
	dir, err := os.MkdirTemp("", "pkd-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgServer{bin: bin, dir: dir, port: testserver.FreePort(t)}
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); err == nil {
			_ = p.pgCtl("-m", "immediate", "stop")
		}
		os.RemoveAll(dir)
	})
	// PostgreSQL refuses to run as root: as root, run it as the postgres
	// user the Debian package creates (or nobody).
	if os.Geteuid() == 0 {
		name := "postgres"
		u, err := user.Lookup(name)
		if err != nil {
			name = "nobody"
			if u, err = user.Lookup(name); err != nil {
				t.Fatalf("running as root, and neither the postgres nor the nobody user exists: %v", err)
			}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			if testserver.InCI() {
				t.Fatal("running as root without runuser: cannot run PostgreSQL")
			}
			t.Skip("running as root without runuser: cannot run PostgreSQL, so the database restart test is skipped")
		}
		p.as = []string{runuser, "-u", name, "--"}
	}
	if out, err := p.command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "passkeyd",
		"-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.start(t)
	return p
}

// findPostgres returns the directory of initdb and pg_ctl: the newest
// Debian /usr/lib/postgresql/*/bin, or the one on PATH.
func findPostgres() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if d := filepath.Dir(p); isExecutable(filepath.Join(d, "initdb")) {
			return d
		}
	}
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func (p *pgServer) command(name string, args ...string) *exec.Cmd {
	all := append(append(slices.Clone(p.as), name), args...)
	return exec.Command(all[0], all[1:]...)
}

func (p *pgServer) pgCtl(args ...string) error {
	base := []string{"-D", filepath.Join(p.dir, "data"), "-w", "-t", "60"}
	out, err := p.command(filepath.Join(p.bin, "pg_ctl"), append(base, args...)...).CombinedOutput()
	if err != nil {
		return &pgCtlError{args: args, out: string(out), err: err}
	}
	return nil
}

type pgCtlError struct {
	args []string
	out  string
	err  error
}

func (e *pgCtlError) Error() string {
	return "pg_ctl " + strings.Join(e.args, " ") + ": " + e.err.Error() + "\n" + e.out
}

// start starts the server on its port (again).
func (p *pgServer) start(t *testing.T) {
	t.Helper()
	opts := "-c listen_addresses=127.0.0.1 -p " + p.port + " -k " + p.dir +
		" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	if err := p.pgCtl("-l", filepath.Join(p.dir, "postgres.log"), "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "postgres.log"))
		t.Fatalf("%v\npostgres.log:\n%s", err, log)
	}
}

// stop shuts the server down as an operator would for maintenance: fast
// mode, which ends every connection.
func (p *pgServer) stop(t *testing.T) {
	t.Helper()
	if err := p.pgCtl("-m", "fast", "stop"); err != nil {
		t.Fatal(err)
	}
}
