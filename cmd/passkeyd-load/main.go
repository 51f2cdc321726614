// Command passkeyd-load puts a running passkeyd (or any server with the
// tutorial's JSON API) under sign-in load. It acts as many browsers, each
// with its own cookie jar and software authenticator
// (internal/softauthn): phase one registers -users new accounts, phase two
// runs sign-in ceremonies (options, then verify) at -concurrency for
// -duration or -count. It prints ceremonies per second, p50/p95/p99
// latency per endpoint and errors by status, then one line of JSON.
//
//	passkeyd-load -target http://127.0.0.1:8080 -users 200 -concurrency 16 -duration 10s
//
// The server must be configured for the origin the tool claims to be
// (-origin, sent as Origin and signed into clientDataJSON). The default,
// http://localhost:PORT with the target's port, is what passkeyd uses when
// WEBAUTHN_ORIGIN is unset. Run the server with RATE_LIMIT=off, or the
// limits (60 options per minute per address) answer 429 within a second.
//
// Only loopback targets (127.0.0.0/8, ::1, localhost) are accepted, and
// every connection is checked to land on a loopback address, unless
// -allow-remote says the target is a server you own elsewhere.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "passkeyd-load:", err)
		os.Exit(1)
	}
}

// run is main with its dependencies passed in. The report goes to stdout,
// its last line the JSON summary; progress goes to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.Procs > 0 {
		runtime.GOMAXPROCS(cfg.Procs)
	}
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	sum, err := Load(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	writeReport(stdout, sum)
	line, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", line)
	if cfg.FailOnError && sum.AppFirst != nil && sum.AppFirst.Failed > 0 {
		return fmt.Errorf("%d first app sign-ins failed", sum.AppFirst.Failed)
	}
	if cfg.FailOnError && (sum.Register.Failed > 0 || sum.SignIn.Failed > 0) {
		return fmt.Errorf("%d registrations and %d sign-ins failed", sum.Register.Failed, sum.SignIn.Failed)
	}
	return nil
}

func parseFlags(args []string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("passkeyd-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `passkeyd-load: many software-authenticator browsers against a running passkeyd.

Phase one registers -users new accounts (each its own cookie jar) at
-concurrency; phase two runs sign-in ceremonies (options, then verify) at
-concurrency for -duration, or until -count ceremonies. The server must run
with RATE_LIMIT=off and WEBAUTHN_ORIGIN equal to -origin.

-mode oidc signs in to an app instead: after registration every user signs
in to the client (-client-id, -client-secret, -redirect-uri) once with a
passkey and consent, then phase two runs app sign-ins (authorize, login,
token, userinfo, refresh) with the session and the consent remembered.

Usage: passkeyd-load [flags]

`)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Target, "target", "http://127.0.0.1:8080", "base URL of the server; must be loopback unless -allow-remote.\nseveral, comma-separated: instances on one database, which each browser's requests go round in turn")
	fs.StringVar(&c.Origin, "origin", "", "origin the browsers claim (Origin header, clientDataJSON); must be in the server's WEBAUTHN_ORIGIN.\ndefault: http://localhost:PORT with the target's port, passkeyd's default origin")
	fs.StringVar(&c.RPID, "rp-id", "", "relying party ID the authenticators sign for (the server's WEBAUTHN_RP_ID); default the origin's host")
	fs.IntVar(&c.Users, "users", 100, "accounts to register in phase one (the sign-in phase uses them)")
	fs.IntVar(&c.Concurrency, "concurrency", 8, "ceremonies in flight at once, in both phases")
	fs.IntVar(&c.RegisterConcurrency, "register-concurrency", 0, "concurrency of phase one; default -concurrency")
	fs.DurationVar(&c.Duration, "duration", 0, "length of the sign-in phase (default 10s when -count is 0 too)")
	fs.IntVar(&c.Count, "count", 0, "sign-in ceremonies to run; with -duration, whichever comes first")
	fs.StringVar(&c.Mode, "mode", "mixed", "sign-in with the account's email (email), without one (noemail), alternating (mixed),\nor app sign-ins through the OpenID Connect provider (oidc)")
	fs.StringVar(&c.App.ClientID, "client-id", "", "oidc: the client's ID (passkeyd clients add)")
	fs.StringVar(&c.App.ClientSecret, "client-secret", "", "oidc: the client's secret (client_secret_basic)")
	fs.StringVar(&c.App.RedirectURI, "redirect-uri", "", "oidc: a redirect URI registered for the client (never visited)")
	fs.StringVar(&c.App.Scope, "scope", "openid email profile offline_access", "oidc: the scopes asked for")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.DurationVar(&c.MaxTime, "max-time", 15*time.Minute, "hard limit for the whole run, both phases")
	fs.Func("server-pid", "PID of the server process, when it runs on this machine: report its CPU seconds per phase and its RSS (Linux /proc).\nseveral, comma-separated: the instances' CPU and RSS together", func(v string) error {
		for _, f := range strings.Split(v, ",") {
			pid, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || pid < 0 {
				return fmt.Errorf("%q is not a PID", f)
			}
			if pid > 0 { // 0: none
				c.ServerPIDs = append(c.ServerPIDs, pid)
			}
		}
		return nil
	})
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow a target that is not a loopback address (only a server you own)")
	fs.BoolVar(&c.FailOnError, "fail-on-error", false, "exit with status 1 if any ceremony failed")
	fs.BoolVar(&c.Quiet, "q", false, "no progress messages on stderr")
	fs.IntVar(&c.Procs, "procs", 1, "CPUs the tool's Go code runs on at once (GOMAXPROCS); one drives a local server with the least CPU.\nthe report warns when the tool was busy most of the time: then raise it")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write this tool's own CPU profile (both phases) to the file, for go tool pprof")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, nil
}
