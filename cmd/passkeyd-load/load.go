package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/passkeyd/passkeyd/internal/loadresult"
	"github.com/passkeyd/passkeyd/internal/softauthn"
)

// Config is what one run does. Zero values get the defaults of the flags.
type Config struct {
	// Target is the server's base URL, or several, comma-separated:
	// instances of one service on one database, which every worker's
	// requests go round in turn (as a load balancer without sticky
	// sessions sends them). The first one names the default origin.
	Target              string
	Origin              string
	RPID                string
	Users               int
	Concurrency         int
	RegisterConcurrency int
	Duration            time.Duration
	Count               int
	Mode                string // email, noemail, mixed, or oidc (oidc.go)
	Timeout             time.Duration
	MaxTime             time.Duration
	ServerPID           int
	// ServerPIDs are more server processes (the other instances): their
	// CPU and RSS are added to ServerPID's.
	ServerPIDs  []int
	AllowRemote bool
	FailOnError bool
	Quiet       bool
	CPUProfile  string // file for the tool's own CPU profile; "" for none
	// Procs is the GOMAXPROCS run sets for the tool (0: Go's default).
	// With one, a process that mostly waits for the server wakes no other
	// thread when an answer arrives, which costs less CPU per request.
	Procs int

	// App is the client the oidc mode signs in to.
	App AppConfig
	// OnAppSignIn, if set, is called with every completed app sign-in of
	// the oidc mode, from the workers at once: for tests that check the
	// tokens (the ID token is never verified in the hot loop).
	OnAppSignIn func(AppSignIn)
	targets     []string // Target split, set by withDefaults
}

// The API routes, as the tutorial names them.
const (
	epRegisterOptions = "generate-registration-options"
	epRegisterVerify  = "verify-registration"
	epSignInOptions   = "generate-authentication-options"
	epSignInVerify    = "verify-authentication"
)

func (c Config) withDefaults() (Config, error) {
	if c.Users <= 0 {
		c.Users = 100
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.RegisterConcurrency <= 0 {
		c.RegisterConcurrency = c.Concurrency
	}
	if c.Duration <= 0 && c.Count <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Mode == "" {
		c.Mode = "mixed"
	}
	switch c.Mode {
	case "email", "noemail", "mixed":
	case "oidc":
		if err := c.App.check(); err != nil {
			return c, err
		}
	default:
		return c, fmt.Errorf("-mode %q: want email, noemail, mixed or oidc", c.Mode)
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxTime <= 0 {
		c.MaxTime = 15 * time.Minute
	}
	c.targets = nil
	for _, t := range strings.Split(c.Target, ",") {
		t = strings.TrimSpace(t)
		u, err := url.Parse(t)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("-target %q is not an http(s) URL like http://127.0.0.1:8080", t)
		}
		if err := checkLoopback(u.Hostname(), c.AllowRemote); err != nil {
			return c, err
		}
		c.targets = append(c.targets, strings.TrimSuffix(u.String(), "/"))
	}
	c.Target = strings.Join(c.targets, ",")
	u, _ := url.Parse(c.targets[0])
	if c.Origin == "" {
		host := u.Hostname()
		if isLoopbackHost(host) {
			host = "localhost"
		}
		c.Origin = u.Scheme + "://" + host
		if p := u.Port(); p != "" {
			c.Origin += ":" + p
		}
	}
	if c.RPID == "" {
		o, err := url.Parse(c.Origin)
		if err != nil || o.Hostname() == "" {
			return c, fmt.Errorf("-origin %q is not an origin like http://localhost:8080", c.Origin)
		}
		c.RPID = o.Hostname()
	}
	return c, nil
}

// isLoopbackHost reports whether host names this machine: "localhost" or
// an address in 127.0.0.0/8 or ::1.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// checkLoopback refuses a target host that is not loopback, unless allowed.
func checkLoopback(host string, allowRemote bool) error {
	if allowRemote || isLoopbackHost(host) {
		return nil
	}
	return fmt.Errorf("refusing target host %q: it is not a loopback address (127.0.0.0/8, ::1, localhost); "+
		"load only servers you own, and say so with -allow-remote", host)
}

// user is one simulated person: a browser (its cookies) and a device.
type user struct {
	email     string
	emailBody []byte // {"email": email}, the options request that names the account
	cookies   cookieJar
	auth      *softauthn.Authenticator
}

// recorder collects one phase's latencies and errors from many workers.
type recorder struct {
	mu        sync.Mutex
	latencies map[string][]time.Duration
	errors    map[string]int
}

func newRecorder() *recorder {
	return &recorder{latencies: map[string][]time.Duration{}, errors: map[string]int{}}
}

// merge adds a worker's local samples.
func (r *recorder) merge(l *recorder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range l.latencies {
		r.latencies[k] = append(r.latencies[k], v...)
	}
	for k, v := range l.errors {
		r.errors[k] += v
	}
}

// post sends one API request as u's browser and records its latency and,
// unless it is a 200, its status. It returns the body of a 200 answer,
// valid until the wire's next request.
func (r *recorder) post(rt *route, u *user, endpoint string, body []byte) ([]byte, bool) {
	start := time.Now()
	res, err := rt.next().post(apiPrefix+endpoint, body, &u.cookies)
	r.latencies[endpoint] = append(r.latencies[endpoint], time.Since(start))
	switch {
	case err != nil:
		r.errors[endpoint+" net"]++
		return nil, false
	case res.Status != http.StatusOK:
		r.errors[endpoint+" "+strconv.Itoa(res.Status)]++
		return nil, false
	}
	return res.Body, true
}

const apiPrefix = "/api/passkeys/"

// register runs one sign-up ceremony.
func (r *recorder) register(w *route, u *user) bool {
	opts, ok := r.post(w, u, epRegisterOptions, u.emailBody)
	if !ok {
		return false
	}
	att, cred, err := u.auth.Create(opts)
	if err != nil {
		r.errors[epRegisterOptions+" client"]++
		return false
	}
	if _, ok := r.post(w, u, epRegisterVerify, att); !ok {
		u.auth.Forget(cred)
		return false
	}
	return true
}

var verifiedTrue = []byte(`"verified":true`)

// signIn runs one sign-in ceremony, with the user's email or without.
func (r *recorder) signIn(w *route, u *user, withEmail bool) bool {
	body := []byte(`{}`)
	if withEmail {
		body = u.emailBody
	}
	opts, ok := r.post(w, u, epSignInOptions, body)
	if !ok {
		return false
	}
	assertion, err := u.auth.Get(opts, nil)
	if err != nil {
		r.errors[epSignInOptions+" client"]++
		return false
	}
	res, ok := r.post(w, u, epSignInVerify, assertion)
	if ok && !bytes.Contains(res, verifiedTrue) {
		r.errors[epSignInVerify+" unverified"]++
		return false
	}
	return ok
}

// Load runs both phases against cfg.Target and returns what it measured.
// Progress goes to progress.
func Load(ctx context.Context, cfg Config, progress io.Writer) (*loadresult.Summary, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Quiet {
		progress = io.Discard
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxTime)
	defer cancel()

	dialer := newDialer(cfg)
	target := &route{}
	for _, t := range cfg.targets {
		tc := cfg
		tc.Target = t
		w, err := newWire(ctx, tc, dialer)
		if err != nil {
			return nil, err
		}
		target.wires = append(target.wires, w)
	}
	pids := cfg.serverPIDs()
	sum := &loadresult.Summary{Target: cfg.Target, Origin: cfg.Origin, Mode: cfg.Mode, Users: cfg.Users,
		Concurrency: cfg.Concurrency, RegisterConcurrency: cfg.RegisterConcurrency,
		NumCPU: runtime.NumCPU(), ToolProcs: runtime.GOMAXPROCS(0)}
	if len(pids) > 0 {
		sum.ServerPID = pids[0]
	}
	if len(pids) > 1 {
		sum.ServerPIDs = pids
	}

	// A run ID keeps the emails of this run apart from earlier runs'
	// against the same database.
	runID := strings.ToLower(rand.Text()[:8])
	fmt.Fprintf(progress, "phase 1: registering %d users at concurrency %d against %s (origin %s, RP ID %s)\n",
		cfg.Users, cfg.RegisterConcurrency, cfg.Target, cfg.Origin, cfg.RPID)
	users := make([]*user, cfg.Users)
	for i := range users {
		email := fmt.Sprintf("load-%s-%d@example.com", runID, i)
		body, err := json.Marshal(map[string]string{"email": email})
		if err != nil {
			return nil, err
		}
		users[i] = &user{email: email, emailBody: body, auth: softauthn.New(cfg.RPID, cfg.Origin)}
	}
	var next atomic.Int64
	ok := make([]bool, len(users))
	sum.Register = phase(cfg, target, cfg.RegisterConcurrency, func(rec *recorder, w *route, worker int) int {
		done := 0
		for ctx.Err() == nil {
			i := int(next.Add(1)) - 1
			if i >= len(users) {
				break
			}
			if rec.register(w, users[i]) {
				ok[i] = true
				done++
			}
		}
		return done
	})
	sum.Register.Failed = cfg.Users - sum.Register.Ceremonies
	var registered []*user
	for i, u := range users {
		if ok[i] {
			registered = append(registered, u)
		}
	}
	fmt.Fprintf(progress, "phase 1: %d registered, %d failed in %.2fs\n", len(registered), sum.Register.Failed, sum.Register.Seconds)
	if len(registered) == 0 {
		return sum, fmt.Errorf("no user could register; is the server's WEBAUTHN_ORIGIN %s and RATE_LIMIT off? errors: %v", cfg.Origin, sum.Register.Errors)
	}
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("phase 1 stopped: %w", err)
	}
	var app *appClient
	if cfg.Mode == "oidc" {
		if app, err = firstAppSignIns(ctx, cfg, target, registered, sum, progress); err != nil {
			return sum, err
		}
		app.idTokens.Store(0) // phase two's alone
	}

	limit := "until " + cfg.Duration.String()
	if cfg.Count > 0 {
		limit = fmt.Sprintf("%d ceremonies", cfg.Count)
		if cfg.Duration > 0 {
			limit += " or " + cfg.Duration.String()
		}
	}
	what := "sign-ins"
	if app != nil {
		what = "app sign-ins"
	}
	fmt.Fprintf(progress, "phase 2: %s (%s) at concurrency %d, %s\n", what, cfg.Mode, cfg.Concurrency, limit)
	var started atomic.Int64
	deadline := time.Now().Add(cfg.Duration)
	sum.SignIn = phase(cfg, target, cfg.Concurrency, func(rec *recorder, w *route, worker int) int {
		// Each worker signs in as its own users, so that no two ceremonies
		// of one browser overlap (as they would not in a person's), and
		// each browser's new session replaces its last one.
		var mine []*user
		for i := worker; i < len(registered); i += cfg.Concurrency {
			mine = append(mine, registered[i])
		}
		if len(mine) == 0 { // fewer users than workers: share
			mine = []*user{registered[worker%len(registered)]}
		}
		done := 0
		for k := 0; ctx.Err() == nil; k++ {
			if cfg.Duration > 0 && !time.Now().Before(deadline) {
				break
			}
			n := started.Add(1)
			if cfg.Count > 0 && n > int64(cfg.Count) {
				break
			}
			withEmail := cfg.Mode == "email" || cfg.Mode != "noemail" && n%2 == 0
			if app != nil {
				if rec.appSignIn(w, mine[k%len(mine)], app, withEmail) {
					done++
				}
			} else if rec.signIn(w, mine[k%len(mine)], withEmail) {
				done++
			}
		}
		return done
	})
	attempted := started.Load()
	if cfg.Count > 0 && attempted > int64(cfg.Count) {
		attempted = int64(cfg.Count)
	}
	sum.SignIn.Failed = int(attempted) - sum.SignIn.Ceremonies
	if app != nil && sum.SignIn.Ceremonies > 0 {
		sum.App.IDTokensPerSignIn = float64(app.idTokens.Load()) / float64(sum.SignIn.Ceremonies)
	}
	for _, pid := range pids {
		rss, _ := procStatusKB(pid, "VmRSS")
		peak, _ := procStatusKB(pid, "VmHWM")
		sum.ServerRSSKB += rss
		sum.ServerMaxRSSKB += peak
	}
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return sum, err
	}
	return sum, nil
}

// phase runs work on n workers, each with its own connection to target, and
// measures it: wall time, this process's CPU, and the server's CPU when
// its PID is known.
func phase(cfg Config, target *route, n int, work func(rec *recorder, w *route, worker int) int) loadresult.Phase {
	all := newRecorder()
	pids := cfg.serverPIDs()
	serverBefore, serverErr := procsCPU(pids)
	selfBefore := selfCPU()
	machineBefore, machineErr := machineBusy()
	start := time.Now()
	var wg sync.WaitGroup
	var done atomic.Int64
	for w := range n {
		wg.Go(func() {
			rec := newRecorder()
			rt := target.clone()
			done.Add(int64(work(rec, rt, w)))
			rt.close()
			all.merge(rec)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	serverAfter, serverErr2 := procsCPU(pids)
	selfAfter := selfCPU()
	machineAfter, machineErr2 := machineBusy()
	res := loadresult.Phase{
		Ceremonies:     int(done.Load()),
		Seconds:        elapsed.Seconds(),
		Endpoints:      map[string]loadresult.Latency{},
		Errors:         all.errors,
		ToolCPUSeconds: (selfAfter - selfBefore).Seconds(),
	}
	if machineErr == nil && machineErr2 == nil {
		res.MachineCPUSeconds = (machineAfter - machineBefore).Seconds()
		res.MachineCPUCapacity = elapsed.Seconds() * float64(runtime.NumCPU())
	}
	if res.Seconds > 0 {
		res.PerSecond = float64(res.Ceremonies) / res.Seconds
	}
	if serverErr == nil && serverErr2 == nil {
		res.ServerCPUSeconds = (serverAfter - serverBefore).Seconds()
		if res.Ceremonies > 0 {
			res.ServerCPUPerCeremonyUS = res.ServerCPUSeconds * 1e6 / float64(res.Ceremonies)
		}
	}
	for ep, ds := range all.latencies {
		res.Endpoints[ep] = summarize(ds)
	}
	return res
}

// route is one worker's connections to the targets. Each request goes to
// the next target in turn, as a load balancer without sticky sessions
// would send it; with one target, always to it.
type route struct {
	wires []*wire
	turn  int
}

// next returns the wire of the next request.
func (r *route) next() *wire {
	w := r.wires[r.turn]
	r.turn = (r.turn + 1) % len(r.wires)
	return w
}

// clone returns a route to the same targets with connections of its own.
func (r *route) clone() *route {
	c := &route{wires: make([]*wire, len(r.wires))}
	for i, w := range r.wires {
		c.wires[i] = w.clone()
	}
	return c
}

func (r *route) close() {
	for _, w := range r.wires {
		w.close()
	}
}

// serverPIDs are the server processes to measure: ServerPID, then
// ServerPIDs.
func (c Config) serverPIDs() []int {
	var pids []int
	if c.ServerPID > 0 {
		pids = append(pids, c.ServerPID)
	}
	for _, p := range c.ServerPIDs {
		if p > 0 {
			pids = append(pids, p)
		}
	}
	return pids
}

// procsCPU is the CPU time of all the processes together (procCPU).
func procsCPU(pids []int) (time.Duration, error) {
	if len(pids) == 0 {
		return 0, fmt.Errorf("no pid")
	}
	var total time.Duration
	for _, pid := range pids {
		d, err := procCPU(pid)
		if err != nil {
			return 0, err
		}
		total += d
	}
	return total, nil
}
