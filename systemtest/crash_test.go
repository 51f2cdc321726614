package systemtest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
)

var crashRounds = flag.Int("crash-rounds", 9, "how many times TestCrash kills passkeyd under load")

const (
	crashWorkers = 6 // goroutines registering and signing in
	// crashMinAcknowledged sign-ups must be acknowledged across the rounds
	// for the run to tell anything; rounds are added until they are.
	crashMinAcknowledged = 20
	crashMinLoad         = 100 * time.Millisecond // load before a kill: at least...
	crashMaxLoad         = 600 * time.Millisecond // ...and at most
	crashMaxOps          = 10000                  // per worker and round, whatever the time
	// crashDBLatency is added each way between passkeyd and PostgreSQL, as
	// on a network: transactions take longer, so kills land inside them.
	crashDBLatency = 500 * time.Microsecond
)

// killMode is when, after the load time, a round sends SIGKILL. The rounds
// take them in turn.
type killMode int32

const (
	// killAnywhere: at once, whatever the server is doing.
	killAnywhere killMode = iota + 1
	// killInSignUp: 0–2 ms after the next verify-registration request
	// leaves a client, while the server verifies and stores the sign-up.
	killInSignUp
	// killAtAck: the moment the next sign-up is acknowledged, before the
	// server does anything else.
	killAtAck
)

func (m killMode) String() string {
	switch m {
	case killAnywhere:
		return "at a random moment"
	case killInSignUp:
		return "during a sign-up"
	case killAtAck:
		return "at a sign-up's acknowledgment"
	}
	return fmt.Sprintf("killMode(%d)", int32(m))
}

// TestCrash kills passkeyd with SIGKILL at random moments while several
// goroutines register and sign in, restarts it on the same database each
// time, and checks that:
//
//   - before each kill no request fails (the server is up and healthy);
//   - after each kill every registration the server acknowledged (200 from
//     verify-registration) is stored, with its passkey; and nothing is
//     half-written: every user has a passkey and its passkey_added event,
//     every passkey and session its user, every session its passkey and
//     login_succeeded event, every row naming a user (tokens, recovery
//     codes, ...) an existing user, and only registrations that reached
//     verify-registration exist at all;
//   - after the last restart, browsers whose last sign-in was acknowledged
//     are still signed in (sessions survive restarts), and every
//     acknowledged account signs in again; after a clean stop the same
//     checks hold, and every passkey's stored counter is its
//     authenticator's.
//
// Each kill comes after a random 100–600 ms of load: at once, or aimed at a
// sign-up in progress, or at the moment one is acknowledged (see
// killMode). On PostgreSQL the server reaches the database through a proxy
// adding crashDBLatency each way.
//
// Requests cut by a kill may fail; a registration cut there need not exist,
// but must not be half-written.
func TestCrash(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testCrash(t, sqliteDatabase(t)) })
	t.Run("PostgreSQL", func(t *testing.T) {
		db := postgresDatabase(t)
		db.serverURL = withLatency(t, db.url, crashDBLatency)
		testCrash(t, db)
	})
}

// account is a person whose sign-up the server acknowledged: a browser, a
// device, and the passkey on it.
type account struct {
	email    string
	round    int // of its registration
	client   *softauthn.Client
	auth     *softauthn.Authenticator
	cred     *softauthn.Credential
	signedIn bool // the browser's last sign-in was acknowledged, so its session must be valid
}

// crashWorker is one goroutine's share of the test. Only that goroutine
// touches it during a round; the test reads it between rounds.
type crashWorker struct {
	accounts []*account
	inDoubt  []string // emails whose verify-registration was sent but not acknowledged

	// this round's counts
	registered, signIns, cut int
}

type crashRun struct {
	t       *testing.T
	db      database
	srv     *server
	tr      *http.Transport
	seed    uint64
	workers [crashWorkers]crashWorker

	// This round's kill: armed holds the killMode a worker or the
	// transport is to fire at (0: none); fire kills, once; killedAt is
	// when it did, in unix nanoseconds (0 before).
	armed    atomic.Int32
	fire     func()
	fired    chan struct{}
	killedAt atomic.Int64

	mu       sync.Mutex
	failures []string // requests that failed when they should not have
}

func testCrash(t *testing.T, db database) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	r := &crashRun{t: t, db: db, srv: newServer(t, db, false), seed: seed}
	r.tr = newTransport()
	t.Cleanup(r.tr.CloseIdleConnections)
	t.Logf("%s, %d rounds (more if too few sign-ups are acknowledged) of %d workers, seed %d", db.kind, *crashRounds, crashWorkers, seed)
	start := time.Now()

	// At least *crashRounds rounds, and more (up to four times as many)
	// until enough sign-ups were acknowledged to tell anything: on a
	// loaded machine a round's load window may acknowledge few or none.
	round := 1
	for ; round <= *crashRounds || (len(r.acknowledged()) < crashMinAcknowledged && round <= 4**crashRounds); round++ {
		load := crashMinLoad + time.Duration(rng.Int64N(int64(crashMaxLoad-crashMinLoad)))
		mode := killMode(round%3 + 1)
		r.round(round, load, mode, time.Duration(rng.Int64N(int64(2*time.Millisecond))))
		if t.Failed() {
			return
		}
		r.check(false)
		if t.Failed() {
			return
		}
	}

	rounds := round - 1
	if n := len(r.acknowledged()); n < crashMinAcknowledged {
		t.Fatalf("only %d sign-ups were acknowledged in %d rounds: too few to tell anything (is the machine overloaded?)", n, rounds)
	}

	// The last restart: sessions survive, every acknowledged account signs
	// in, and a clean stop leaves the same consistent state.
	r.srv.start()
	r.checkSessions()
	r.signInAll()
	r.srv.stop()
	r.check(true)
	t.Logf("%s: %d kills and restarts, %d acknowledged sign-ups all intact, in %v",
		db.kind, rounds, len(r.acknowledged()), time.Since(start).Round(time.Millisecond))
}

// round starts the server, loads it for load, kills it as mode says, and
// stops the workers.
func (r *crashRun) round(round int, load time.Duration, mode killMode, inSignUp time.Duration) {
	t := r.t
	r.srv.start()
	r.killedAt.Store(0)
	r.armed.Store(0)
	r.fired = make(chan struct{})
	r.fire = sync.OnceFunc(func() {
		r.killedAt.Store(time.Now().UnixNano())
		r.srv.signal(syscall.SIGKILL)
		close(r.fired)
	})
	// Every request of this round goes through a transport that can fire
	// the kill while a sign-up is in progress.
	tr := &killingTransport{base: r.tr, r: r, delay: inSignUp}
	for w := range r.workers {
		for _, a := range r.workers[w].accounts {
			a.client.HTTP.Transport = tr
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	var wg sync.WaitGroup
	defer wg.Wait() // deferred, so that a failing kill still stops the workers
	defer cancel()
	for w := range r.workers {
		r.workers[w].registered, r.workers[w].signIns, r.workers[w].cut = 0, 0, 0
		wg.Go(func() { r.work(ctx, round, w, tr) })
	}
	time.Sleep(load)
	missed := ""
	if mode == killAnywhere {
		r.fire()
	} else {
		r.armed.Store(int32(mode))
		select {
		case <-r.fired:
		case <-time.After(5 * time.Second):
			r.armed.Store(0)
			missed = " (no sign-up came within 5s, so killed anyway)"
			r.fire()
		}
	}
	r.srv.waitKilled()
	cancel()
	wg.Wait()
	r.tr.CloseIdleConnections() // connections to the dead process

	var reg, signIns, cut int
	for _, w := range r.workers {
		reg, signIns, cut = reg+w.registered, signIns+w.signIns, cut+w.cut
	}
	t.Logf("round %d: SIGKILL %v after %v of load%s: %d sign-ups and %d sign-ins acknowledged, %d requests cut",
		round, mode, load.Round(time.Millisecond), missed, reg, signIns, cut)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, f := range r.failures {
		if i == 20 {
			t.Errorf("... and %d more", len(r.failures)-i)
			break
		}
		t.Errorf("round %d: %s", round, f)
	}
}

// killingTransport fires an armed killInSignUp kill delay after a
// verify-registration request starts.
type killingTransport struct {
	base  http.RoundTripper
	r     *crashRun
	delay time.Duration
}

func (k *killingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == "/api/passkeys/verify-registration" && k.r.armed.CompareAndSwap(int32(killInSignUp), 0) {
		time.AfterFunc(k.delay, k.r.fire)
	}
	return k.base.RoundTrip(req)
}

// work registers new accounts and signs in with this worker's accounts,
// half and half, until the round ends.
func (r *crashRun) work(ctx context.Context, round, w int, tr http.RoundTripper) {
	cw := &r.workers[w]
	rng := rand.New(rand.NewPCG(r.seed, uint64(round*crashWorkers+w)))
	// Stop at the kill: what is in flight then is all the kill can cut.
	for i := 0; i < crashMaxOps && ctx.Err() == nil && r.killedAt.Load() == 0; i++ {
		if len(cw.accounts) == 0 || rng.IntN(2) == 0 {
			r.register(ctx, round, w, i, tr)
		} else {
			r.signIn(ctx, w, cw.accounts[rng.IntN(len(cw.accounts))], rng.IntN(2) == 0)
		}
	}
}

func (r *crashRun) register(ctx context.Context, round, w, i int, tr http.RoundTripper) {
	cw := &r.workers[w]
	email := fmt.Sprintf("r%d-w%d-%d@crash.example", round, w, i)
	a := softauthn.New("localhost", r.srv.Origin)
	a.Counting = i%2 == 0 // security keys count sign-ins; synced passkeys stay at 0
	c := softauthn.NewClient(r.srv.URL, r.srv.Origin, tr)
	cred, err := c.Register(ctx, a, email)
	if err == nil && r.armed.CompareAndSwap(int32(killAtAck), 0) {
		r.fire()
	}
	if err != nil {
		if !strings.HasPrefix(err.Error(), "registration options") { // softauthn names the failed step
			cw.inDoubt = append(cw.inDoubt, email)
		}
		r.failed(w, "sign-up of "+email, err)
		return
	}
	cw.accounts = append(cw.accounts, &account{email: email, round: round, client: c, auth: a, cred: cred})
	cw.registered++
}

func (r *crashRun) signIn(ctx context.Context, w int, a *account, withEmail bool) {
	email := ""
	if withEmail {
		email = a.email
	}
	a.signedIn = false // until acknowledged: a cut sign-in may or may not have replaced the session
	res, err := a.client.SignIn(ctx, a.auth, email, nil)
	if err != nil {
		r.failed(w, "sign-in of "+a.email, err)
		return
	}
	if res.User.Email != a.email {
		r.unexpected("sign-in of %s: signed in as %q", a.email, res.User.Email)
		return
	}
	a.signedIn = true
	r.workers[w].signIns++
}

// failed sorts a failed request: one cut by the kill is expected; anything
// else (an answer other than 200, a failure before the kill) is not.
func (r *crashRun) failed(w int, what string, err error) {
	at := time.Now().UnixNano()
	killed := r.killedAt.Load()
	var se *softauthn.StatusError
	switch {
	case errors.As(err, &se):
		r.unexpected("%s: the server refused: %v", what, err)
	case killed == 0 || at < killed:
		r.unexpected("%s failed while the server was up: %v", what, err)
	case !isCut(err):
		r.unexpected("%s: %v", what, err)
	default:
		r.workers[w].cut++
	}
}

// isCut reports whether err is what a request gets when the server dies
// under it or is gone: a transport error, or the round's end.
func isCut(err error) bool {
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, context.Canceled)
}

func (r *crashRun) unexpected(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failures) < 1000 {
		r.failures = append(r.failures, fmt.Sprintf(format, args...))
	}
}

// acknowledged returns every account whose sign-up the server acknowledged.
func (r *crashRun) acknowledged() []*account {
	var out []*account
	for _, w := range r.workers {
		out = append(out, w.accounts...)
	}
	return out
}

// checkSessions: a browser whose last sign-in was acknowledged is still
// signed in after the crashes and restarts.
func (r *crashRun) checkSessions() {
	t := r.t
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	n := 0
	for _, a := range r.acknowledged() {
		if !a.signedIn {
			continue
		}
		n++
		res, err := a.client.Do(ctx, http.MethodGet, "/api/auth/me", nil)
		if err != nil {
			t.Fatalf("GET /api/auth/me for %s: %v", a.email, err)
		}
		if res.Status != http.StatusOK || !bytes.Contains(res.Body, []byte(`"`+a.email+`"`)) {
			t.Errorf("%s: acknowledged sign-in lost: GET /api/auth/me after the restarts: %d %s", a.email, res.Status, res.Body)
		}
	}
	t.Logf("%d browsers whose last sign-in was acknowledged are still signed in", n)
	if n == 0 {
		t.Error("no browser had an acknowledged sign-in: the sessions were not tested")
	}
}

// signInAll signs in with every acknowledged account, 4 at a time.
func (r *crashRun) signInAll() {
	t := r.t
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	accounts := r.acknowledged()
	next := make(chan *account)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 4 {
		wg.Go(func() {
			for a := range next {
				res, err := a.client.SignIn(ctx, a.auth, a.email, nil)
				switch {
				case err != nil:
					t.Errorf("%s (acknowledged in round %d): sign-in after the restarts: %v", a.email, a.round, err)
					failed.Add(1)
				case res.User.Email != a.email:
					t.Errorf("%s: signed in as %q", a.email, res.User.Email)
					failed.Add(1)
				default:
					a.signedIn = true
				}
			}
		})
	}
	start := time.Now()
	for _, a := range accounts {
		if failed.Load() > 20 || ctx.Err() != nil {
			break
		}
		next <- a
	}
	close(next)
	wg.Wait()
	if failed.Load() == 0 {
		t.Logf("signed in with all %d acknowledged accounts in %v", len(accounts), time.Since(start).Round(time.Millisecond))
	}
}

// check opens the database with the store package while no server runs,
// and checks that every acknowledged sign-up is there and nothing is
// half-written. final: after the last, clean stop, when every passkey's
// stored counter must be its authenticator's.
func (r *crashRun) check(final bool) {
	t := r.t
	t.Helper()
	st := r.db.open(t)
	defer st.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	accounts := r.acknowledged()
	tried := map[string]bool{} // emails that reached verify-registration
	for _, a := range accounts {
		tried[a.email] = true
	}
	for _, w := range r.workers {
		for _, e := range w.inDoubt {
			tried[e] = true
		}
	}

	lost := 0
	for _, a := range accounts {
		if lost >= 20 {
			t.Errorf("... stopped after %d lost sign-ups", lost)
			break
		}
		u, err := st.FindUserByEmail(ctx, a.email)
		if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
			t.Errorf("%s: sign-up acknowledged in round %d is gone", a.email, a.round)
			lost++
			continue
		}
		if err != nil {
			t.Fatalf("FindUserByEmail(%s): %v", a.email, err)
		}
		if !bytes.Equal(u.Handle, a.cred.UserHandle) {
			t.Errorf("%s: stored user handle %x, the passkey holds %x", a.email, u.Handle, a.cred.UserHandle)
		}
		creds, err := st.ListCredentials(ctx, u.ID)
		if err != nil {
			t.Fatalf("ListCredentials(%s): %v", a.email, err)
		}
		i := slices.IndexFunc(creds, func(c *passkeyd.Credential) bool { return bytes.Equal(c.CredentialID, a.cred.ID) })
		if i < 0 {
			t.Errorf("%s: sign-up acknowledged in round %d: the account is there but its passkey is not (%d others)", a.email, a.round, len(creds))
			lost++
			continue
		}
		c := creds[i]
		if c.CloneWarning {
			t.Errorf("%s: passkey flagged as possibly cloned (stored counter %d, authenticator's %d)", a.email, c.SignCount, a.cred.Counter)
		}
		if c.SignCount > a.cred.Counter {
			t.Errorf("%s: stored sign counter %d is ahead of the authenticator's %d", a.email, c.SignCount, a.cred.Counter)
		}
		if final && c.SignCount != a.cred.Counter {
			t.Errorf("%s: stored sign counter %d after an acknowledged sign-in, want the authenticator's %d", a.email, c.SignCount, a.cred.Counter)
		}
	}

	// Nothing half-written. Each query lists what should not exist.
	for _, q := range []struct{ what, query string }{
		{"users without a passkey (half-written sign-ups)", `
			SELECT u.email FROM users u
			WHERE NOT EXISTS (SELECT 1 FROM credentials c WHERE c.user_id = u.id)`},
		{"passkeys without their user", `
			SELECT c.id FROM credentials c
			WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id)`},
		{"passkeys without their passkey_added event", `
			SELECT c.id FROM credentials c
			WHERE NOT EXISTS (SELECT 1 FROM events e
				WHERE e.type = 'passkey_added' AND e.credential_id = c.id AND e.user_id = c.user_id)`},
		{"passkey_added events without their passkey", `
			SELECT e.credential_id FROM events e
			WHERE e.type = 'passkey_added'
			AND NOT EXISTS (SELECT 1 FROM credentials c WHERE c.id = e.credential_id)`},
		{"sessions without their user", `
			SELECT s.user_id FROM sessions s
			WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id)`},
		{"sessions without the user's passkey that signed in", `
			SELECT s.user_id FROM sessions s
			WHERE NOT EXISTS (SELECT 1 FROM credentials c WHERE c.id = s.credential_id AND c.user_id = s.user_id)`},
		{"sessions without their login_succeeded event", `
			SELECT s.user_id FROM sessions s
			WHERE NOT EXISTS (SELECT 1 FROM events e
				WHERE e.type = 'login_succeeded' AND e.user_id = s.user_id AND e.credential_id = s.credential_id)`},
	} {
		if rows := queryStrings(t, st, q.query); len(rows) > 0 {
			t.Errorf("%d %s: %v", len(rows), q.what, rows[:min(len(rows), 10)])
		}
	}
	// Every row naming a user (tokens, recovery codes, events, ...) names
	// one that exists.
	tables := `SELECT table_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name = 'user_id'`
	if r.db.kind == "sqlite" {
		tables = `SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND p.name = 'user_id'`
	}
	for _, table := range queryStrings(t, st, tables) {
		if table == "users" {
			continue
		}
		rows := queryStrings(t, st, `SELECT x.user_id FROM "`+table+`" x
			WHERE x.user_id <> '' AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = x.user_id)`)
		if len(rows) > 0 {
			t.Errorf("%d rows of %s name a user that does not exist: %v", len(rows), table, rows[:min(len(rows), 10)])
		}
	}
	if r.db.kind == "sqlite" {
		if got := queryStrings(t, st, `PRAGMA integrity_check`); !slices.Equal(got, []string{"ok"}) {
			t.Errorf("PRAGMA integrity_check: %v", got)
		}
		if got := queryStrings(t, st, `PRAGMA foreign_key_check`); len(got) > 0 {
			t.Errorf("PRAGMA foreign_key_check: %v", got)
		}
	}

	// Only sign-ups that reached verify-registration exist; of those not
	// acknowledged, some committed before the kill, which is fine.
	emails := queryStrings(t, st, `SELECT email FROM users`)
	for _, e := range emails {
		if !tried[e] {
			t.Errorf("user %s exists, but its sign-up never reached verify-registration", e)
		}
	}
	committedInDoubt := len(emails) - (len(accounts) - lost)
	var counts []string
	for _, table := range []string{"users", "credentials", "sessions", "used_challenges", "events"} {
		counts = append(counts, table+" "+queryStrings(t, st, "SELECT COUNT(*) FROM "+table)[0])
	}
	when := "after the kill"
	if final {
		when = "after the clean stop"
	}
	t.Logf("store %s: %d acknowledged sign-ups present; %d sign-ups cut at verify-registration had committed; %s",
		when, len(accounts)-lost, committedInDoubt, strings.Join(counts, ", "))
}

// queryStrings runs a query and returns its rows' first column as text.
func queryStrings(t testing.TB, st store, query string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := sqlstore.DB(st).QueryContext(ctx, query)
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(strings.Fields(query), " "), err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		switch v := vals[0].(type) {
		case []byte:
			out = append(out, string(v))
		default:
			out = append(out, fmt.Sprint(v))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}
