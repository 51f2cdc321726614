package systemtest

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/testserver"
)

var soakFlag = flag.Duration("soak", 0, "how long TestSoak holds its load on each database; default 45s on SQLite, 20s on PostgreSQL (env PASSKEYD_SOAK_DURATION)")

const (
	soakConcurrency   = 8           // goroutines signing in
	soakRegisterEvery = time.Second // and one signing up, this often
	soakMaxOps        = 1 << 24     // per goroutine, whatever the time

	// Headroom between the first and the last third of the run (after the
	// warm-up), generous enough for a busy 2-core machine, small enough to
	// catch a leak per request.
	soakRSSGrowth      = 0.30     // fraction of the first third's median...
	soakRSSSlack       = 10 << 20 // ...plus this many bytes
	soakFDGrowth       = 20       // file descriptors (sockets included)
	soakGoroutineSlack = 20
)

// TestSoak holds a steady load on passkeyd for a bounded time: sign-ins
// (each followed by GET /api/auth/me, and every eighth by a sign-out) from
// soakConcurrency goroutines at full speed, plus a sign-up every second. It
// checks that no request fails, that the server logs no warning or error
// under the load (or while stopping), and that its resident memory, open
// file descriptors and goroutines (go_goroutines from METRICS_ADDR) stay
// flat: the median of the last third of the samples against that of the
// first third, after a warm-up.
//
// 45 s on SQLite and 20 s on PostgreSQL by default; -soak=10m or
// PASSKEYD_SOAK_DURATION=10m for longer (with a go test -timeout to match).
// Skipped by -short, except under CI=true.
func TestSoak(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		d := soakDuration(t, 45*time.Second)
		testSoak(t, sqliteDatabase(t), d)
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		d := soakDuration(t, 20*time.Second)
		testSoak(t, postgresDatabase(t), d)
	})
}

// soakDuration is -soak, else PASSKEYD_SOAK_DURATION, else def.
func soakDuration(t *testing.T, def time.Duration) time.Duration {
	t.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("the soak reads the server's memory and descriptors from /proc, which this system lacks: %v", err)
	}
	d := def
	if *soakFlag != 0 {
		d = *soakFlag
	} else if v := os.Getenv("PASSKEYD_SOAK_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("PASSKEYD_SOAK_DURATION: %v", err)
		}
	} else if testing.Short() && !testserver.InCI() {
		t.Skipf("-short: the soak (%v) is skipped; run without -short, or with -soak", def)
	}
	if d < 10*time.Second {
		t.Fatalf("a soak of %v is too short to tell a leak from a warm-up; give at least 10s", d)
	}
	if deadline, ok := t.Deadline(); ok && time.Until(deadline) < d+time.Minute {
		t.Fatalf("the soak takes %v, but the go test -timeout leaves %v: pass -timeout %v or more",
			d, time.Until(deadline).Round(time.Second), (d + 5*time.Minute).Round(time.Minute))
	}
	return d
}

// soakAccount is a person signing in over and over: a browser and a device.
type soakAccount struct {
	email  string
	client *softauthn.Client
	auth   *softauthn.Authenticator
}

type soakRun struct {
	t   *testing.T
	srv *server
	tr  *http.Transport

	signIns, signUps, requests atomic.Int64

	// stop ends the load between requests, so that none is cut: each must
	// succeed. ctx (a bound on time) would cut them.
	stop chan struct{}

	mu       sync.Mutex
	failures []string
	failed   int
}

// sample is one look at the server process.
type sample struct {
	at         time.Duration // since the load began
	rss        int64
	fds        int
	sockets    int
	goroutines float64
	signIns    int64
}

func testSoak(t *testing.T, db database, d time.Duration) {
	s := &soakRun{t: t, srv: newServer(t, db, true), tr: newTransport(), stop: make(chan struct{})}
	t.Cleanup(s.tr.CloseIdleConnections)
	s.srv.start()
	ctx, cancel := context.WithTimeout(t.Context(), d+2*time.Minute)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	stopLoad := sync.OnceFunc(func() { close(s.stop) })
	defer stopLoad()

	// The people who sign in, two per goroutine.
	accounts := make([][]*soakAccount, soakConcurrency)
	for w := range accounts {
		wg.Go(func() {
			for i := range 2 {
				if a := s.signUp(ctx, fmt.Sprintf("soak-w%d-%d@soak.example", w, i)); a != nil {
					accounts[w] = append(accounts[w], a)
				}
			}
		})
	}
	wg.Wait()
	if s.report() {
		return
	}

	interval := min(max(d/30, 500*time.Millisecond), 10*time.Second).Round(100 * time.Millisecond)
	warmUp := d / 5
	t.Logf("%s: %d goroutines signing in and a sign-up every %v, for %v; samples every %v, the first %v not compared",
		db.kind, soakConcurrency, soakRegisterEvery, d, interval, warmUp)

	startupProblems := len(s.srv.log.problems()) // e.g. a warning about settings
	start := time.Now()
	for w := range soakConcurrency {
		wg.Go(func() { s.signInLoop(ctx, accounts[w]) })
	}
	wg.Go(func() { s.signUpLoop(ctx) })

	metrics := &http.Client{Timeout: 5 * time.Second, Transport: newTransport()}
	defer metrics.CloseIdleConnections()
	var samples []sample
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for time.Since(start) < d {
		select {
		case <-tick.C:
		case <-s.srv.proc.Exited():
			t.Fatalf("passkeyd exited under load: %v", s.srv.proc.Err())
		}
		sm, err := s.look(metrics)
		if err != nil {
			t.Fatalf("look at passkeyd after %v: %v", time.Since(start).Round(time.Second), err)
		}
		sm.at = time.Since(start)
		samples = append(samples, sm)
		if s.tooManyFailures() {
			break
		}
	}
	stopLoad()
	wg.Wait()
	elapsed := time.Since(start)

	// The server is still fine, and counted no failure itself.
	if failed, _, err := metricValue(metrics, s.srv.metrics, "passkeyd_ceremonies_failed_total"); err != nil {
		t.Errorf("read metrics after the load: %v", err)
	} else if failed != 0 {
		t.Errorf("passkeyd_ceremonies_failed_total = %v after the soak, want 0", failed)
	}
	metrics.CloseIdleConnections()
	s.srv.stop()
	s.report()
	if problems := s.srv.log.problems()[startupProblems:]; len(problems) > 0 {
		t.Errorf("passkeyd logged %d warnings or errors under steady load, e.g.:\n%s",
			len(problems), strings.Join(problems[:min(len(problems), 10)], "\n"))
	}

	t.Logf("%s: %d requests in %v (%.0f/s): %d sign-ins (%.0f/s), %d sign-ups",
		db.kind, s.requests.Load(), elapsed.Round(time.Millisecond), float64(s.requests.Load())/elapsed.Seconds(),
		s.signIns.Load(), float64(s.signIns.Load())/elapsed.Seconds(), s.signUps.Load())
	checkFlat(t, samples, warmUp)
}

// checkFlat compares the last third of the samples after warmUp with the
// first third.
func checkFlat(t *testing.T, samples []sample, warmUp time.Duration) {
	t.Helper()
	var b strings.Builder
	var prev sample
	for _, s := range samples {
		fmt.Fprintf(&b, "\n  %6.1fs  rss %6.1f MB  fds %3d  sockets %3d  goroutines %4.0f  sign-ins/s %5.0f",
			s.at.Seconds(), float64(s.rss)/(1<<20), s.fds, s.sockets, s.goroutines,
			float64(s.signIns-prev.signIns)/(s.at-prev.at).Seconds())
		prev = s
	}
	t.Logf("samples:%s", b.String())

	i := slices.IndexFunc(samples, func(s sample) bool { return s.at >= warmUp })
	if i < 0 || len(samples)-i < 6 {
		t.Fatalf("%d samples after the %v warm-up; need 6 or more to compare", max(0, len(samples)-max(i, 0)), warmUp)
	}
	m := samples[i:]
	k := len(m) / 3
	first, last := m[:k], m[len(m)-k:]
	med := func(s []sample, f func(sample) float64) float64 {
		v := make([]float64, len(s))
		for i, x := range s {
			v[i] = f(x)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	rss := func(s sample) float64 { return float64(s.rss) }
	fds := func(s sample) float64 { return float64(s.fds) }
	sockets := func(s sample) float64 { return float64(s.sockets) }
	goroutines := func(s sample) float64 { return s.goroutines }

	r1, r2 := med(first, rss), med(last, rss)
	limit := r1*(1+soakRSSGrowth) + soakRSSSlack
	t.Logf("medians, first third (%.0fs–%.0fs) → last third (%.0fs–%.0fs): rss %.1f → %.1f MB (limit %.1f), fds %.0f → %.0f, sockets %.0f → %.0f, goroutines %.0f → %.0f",
		first[0].at.Seconds(), first[k-1].at.Seconds(), last[0].at.Seconds(), last[k-1].at.Seconds(),
		r1/(1<<20), r2/(1<<20), limit/(1<<20), med(first, fds), med(last, fds),
		med(first, sockets), med(last, sockets), med(first, goroutines), med(last, goroutines))
	if r2 > limit {
		t.Errorf("resident memory grew from %.1f MB to %.1f MB (more than %.0f%% + %d MB): a leak?",
			r1/(1<<20), r2/(1<<20), soakRSSGrowth*100, soakRSSSlack>>20)
	}
	if a, b := med(first, fds), med(last, fds); b-a >= soakFDGrowth {
		t.Errorf("open file descriptors grew from %.0f to %.0f: a leak?", a, b)
	}
	if a, b := med(first, sockets), med(last, sockets); b-a >= soakFDGrowth {
		t.Errorf("open sockets grew from %.0f to %.0f: a connection leak?", a, b)
	}
	if a, b := med(first, goroutines), med(last, goroutines); b-a >= soakGoroutineSlack {
		t.Errorf("goroutines grew from %.0f to %.0f: a leak?", a, b)
	}
}

// look samples the server: memory and descriptors from /proc, goroutines
// from its metrics.
func (s *soakRun) look(metrics *http.Client) (sample, error) {
	pid := s.srv.pid()
	rss, fds, err := procStatus(pid)
	if err != nil {
		return sample{}, err
	}
	sockets, err := countSockets(pid)
	if err != nil {
		return sample{}, err
	}
	g, found, err := metricValue(metrics, s.srv.metrics, "go_goroutines")
	if err == nil && !found {
		err = fmt.Errorf("no go_goroutines at %s", s.srv.metrics)
	}
	if err != nil {
		return sample{}, err
	}
	return sample{rss: rss, fds: fds, sockets: sockets, goroutines: g, signIns: s.signIns.Load()}, nil
}

// countSockets counts the process's open sockets (connections and
// listeners).
func countSockets(pid int) (int, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(dir + "/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n, nil
}

// signInLoop signs in with the accounts in turn, reads the session back,
// and every eighth time signs out, until ctx ends.
func (s *soakRun) signInLoop(ctx context.Context, accounts []*soakAccount) {
	for i := 0; i < soakMaxOps && !s.stopping(ctx); i++ {
		a := accounts[i%len(accounts)]
		email := ""
		if i%4 < 2 {
			email = a.email
		}
		if err := s.signIn(ctx, a, email); err != nil {
			s.fail(ctx, "sign-in of "+a.email, err)
			continue
		}
		if i%8 == 7 {
			if err := s.expect(ctx, a, http.MethodPost, "/api/auth/logout", http.StatusNoContent, ""); err != nil {
				s.fail(ctx, "sign-out of "+a.email, err)
				continue
			}
			if err := s.expect(ctx, a, http.MethodGet, "/api/auth/me", http.StatusUnauthorized, ""); err != nil {
				s.fail(ctx, "after the sign-out of "+a.email, err)
			}
		}
	}
}

// signUpLoop signs up a new person every soakRegisterEvery, and signs in
// with the new passkey once.
func (s *soakRun) signUpLoop(ctx context.Context) {
	tick := time.NewTicker(soakRegisterEvery)
	defer tick.Stop()
	for i := 0; i < soakMaxOps; i++ {
		select {
		case <-ctx.Done():
			return
		case <-s.stop:
			return
		case <-tick.C:
		}
		a := s.signUp(ctx, fmt.Sprintf("soak-new-%d@soak.example", i))
		if a == nil {
			continue
		}
		if err := s.signIn(ctx, a, a.email); err != nil {
			s.fail(ctx, "first sign-in of "+a.email, err)
		}
	}
}

// signUp registers email with a new browser and device; nil if it failed.
func (s *soakRun) signUp(ctx context.Context, email string) *soakAccount {
	a := &soakAccount{email: email, client: softauthn.NewClient(s.srv.URL, s.srv.Origin, s.tr), auth: softauthn.New("localhost", s.srv.Origin)}
	a.auth.Counting = len(email)%2 == 0
	_, err := a.client.Register(ctx, a.auth, email)
	s.requests.Add(2)
	if err != nil {
		s.fail(ctx, "sign-up of "+email, err)
		return nil
	}
	s.signUps.Add(1)
	return a
}

// signIn signs in and reads the session back.
func (s *soakRun) signIn(ctx context.Context, a *soakAccount, email string) error {
	res, err := a.client.SignIn(ctx, a.auth, email, nil)
	s.requests.Add(2)
	if err != nil {
		return err
	}
	if res.User.Email != a.email {
		return fmt.Errorf("signed in as %q", res.User.Email)
	}
	s.signIns.Add(1)
	return s.expect(ctx, a, http.MethodGet, "/api/auth/me", http.StatusOK, `"`+a.email+`"`)
}

// expect makes a request and checks its status and that its body holds
// want.
func (s *soakRun) expect(ctx context.Context, a *soakAccount, method, path string, status int, want string) error {
	var body []byte
	if method != http.MethodGet {
		body = []byte("{}")
	}
	res, err := a.client.Do(ctx, method, path, body)
	s.requests.Add(1)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if res.Status != status || !bytes.Contains(res.Body, []byte(want)) {
		return fmt.Errorf("%s %s: %d %s, want %d", method, path, res.Status, res.Body, status)
	}
	return nil
}

// stopping reports whether the load is to stop.
func (s *soakRun) stopping(ctx context.Context) bool {
	select {
	case <-s.stop:
		return true
	default:
		return ctx.Err() != nil
	}
}

// fail records a failed request.
func (s *soakRun) fail(ctx context.Context, what string, err error) {
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (the load ran out of time: %v)", err, context.Cause(ctx))
	}
	s.mu.Lock()
	s.failed++
	if len(s.failures) < 20 {
		s.failures = append(s.failures, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), what, err))
	}
	s.mu.Unlock()
	time.Sleep(50 * time.Millisecond) // no spinning if the server is gone
}

func (s *soakRun) tooManyFailures() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed >= 100
}

// report fails the test for every failed request; it returns whether there
// was one.
func (s *soakRun) report() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.failures {
		s.t.Errorf("request failed: %s", f)
	}
	if s.failed > len(s.failures) {
		s.t.Errorf("... %d failed requests in all", s.failed)
	}
	failed := s.failed > 0
	s.failures, s.failed = nil, 0
	return failed
}
