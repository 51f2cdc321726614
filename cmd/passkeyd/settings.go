package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/postgres"
	"github.com/passkeyd/passkeyd/web"
)

// group says which commands read a setting: each command parses the
// groups it needs, so `passkeyd migrate -h` lists the database settings,
// not the server's.
type group uint8

const (
	// groupDatabase: where the data is (every command that opens it).
	groupDatabase group = 1 << iota
	// groupSecret: the session secret (commands that hash or seal under it).
	groupSecret
	// groupSite: what the site is, and the lifetimes of what it hands out
	// (the commands that make links or keys for it). PORT and the TLS
	// files are here because the default origin is made of them.
	groupSite
	// groupServe: the server's own: listening, logs, mail, limits.
	groupServe

	serveGroups   = groupDatabase | groupSecret | groupSite | groupServe
	adminGroups   = groupDatabase | groupSecret | groupSite // users, clients, oidc
	migrateGroups = groupDatabase
)

// setting is one line of the table: a flag, the environment variable it
// defaults to, and where its value goes.
type setting struct {
	flag, env string
	// field is the web.Config (or oidc.Config) field the setting sets,
	// for naming the variable in the library's errors; "" for settings
	// of the command itself.
	field string
	// def is the default, as the flag would parse it. For a library
	// field it is the library's own default (web.DefaultConfig), shown
	// in -h; the value stays zero unless set, so that the library
	// applies its default (and its rules between defaults).
	def    string
	bounds string // the accepted range, from the library, shown in -h
	groups group
	// secret settings are read from the environment after the flags and
	// never shown as a default, so -h cannot print them.
	secret bool
	help   string
	value  func(*settings) flag.Value
}

// settingTable declares every setting of passkeyd once.
func settingTable() []setting {
	w, pool := web.DefaultConfig(), postgres.PoolConfig{MaxOpenConns: postgres.DefaultMaxOpenConns,
		MaxIdleConns: postgres.DefaultMaxIdleConns, ConnMaxLifetime: postgres.DefaultConnMaxLifetime, ConnMaxIdleTime: postgres.DefaultConnMaxIdleTime}
	lifetime := func(field string) string {
		for _, b := range web.LifetimeBounds() {
			if b.Field == field {
				return shortDuration(b.Min) + " to " + shortDuration(b.Max)
			}
		}
		panic("no bounds for " + field) // a mistake in the table below; the tests run it
	}
	str := func(p func(*settings) *string) func(*settings) flag.Value {
		return func(s *settings) flag.Value { return (*stringValue)(p(s)) }
	}
	dur := func(p func(*settings) *time.Duration) func(*settings) flag.Value {
		return func(s *settings) flag.Value { return (*durationValue)(p(s)) }
	}
	count := func(p func(*settings) *int) func(*settings) flag.Value {
		return func(s *settings) flag.Value { return (*countValue)(p(s)) }
	}
	const (
		db, secret, site, serve = groupDatabase, groupSecret, groupSite, groupServe
	)
	return []setting{
		{"host", "HOST", "", "", "", serve, false, "address to listen on; empty means loopback only (127.0.0.1 and ::1); 0.0.0.0 for all", str(func(s *settings) *string { return &s.host })},
		{"port", "PORT", "", "8080", "", site, false, "port to listen on", str(func(s *settings) *string { return &s.port })},
		{"rp-id", "WEBAUTHN_RP_ID", "RPID", "", "", site, false, "WebAuthn relying party ID: your domain; default the host of the first origin", str(func(s *settings) *string { return &s.rpID })},
		{"rp-name", "WEBAUTHN_RP_NAME", "RPName", w.RPName, "", site, false, "site name shown in passkey prompts and pages", str(func(s *settings) *string { return &s.rpName })},
		{"origin", "WEBAUTHN_ORIGIN", "Origins", "", "", site, false, "origin(s) users open, comma-separated; default http://localhost:PORT", str(func(s *settings) *string { return &s.origins })},
		{"related-origins", "WEBAUTHN_RELATED_ORIGINS", "RelatedOrigins", "", "", serve, false, "sibling origins (other domains) allowed to use this RP ID's passkeys, comma-separated; served as /.well-known/webauthn", str(func(s *settings) *string { return &s.relatedOrigins })},
		{"public-url", "PUBLIC_URL", "PublicURL", "", "", site, false, "address of these pages in email links; default the first origin", str(func(s *settings) *string { return &s.publicURL })},
		{"session-secret", "SESSION_SECRET", "Secret", "", "", secret, true, "at least 32 characters keying stored token hashes; required for https origins; generated into DATA_DIR on localhost", str(func(s *settings) *string { return &s.secret })},
		{"session-secret-file", "SESSION_SECRET_FILE", "", "", "", secret, false, "file holding the session secret, instead of SESSION_SECRET", str(func(s *settings) *string { return &s.secretFile })},
		{"database-url", "DATABASE_URL", "", "", "", db, false, "file:./dev.db or sqlite:PATH for SQLite, postgres://... for PostgreSQL; default file:DATA_DIR/passkeyd.db", str(func(s *settings) *string { return &s.databaseURL })},
		{"data-dir", "DATA_DIR", "", "data", "", db | secret, false, "directory for the SQLite file and the generated secret", str(func(s *settings) *string { return &s.dataDir })},
		{"database-max-conns", "DATABASE_MAX_CONNS", "", strconv.Itoa(pool.MaxOpenConns), "", db, false, "PostgreSQL: most connections per instance", count(func(s *settings) *int { return &s.pool.MaxOpenConns })},
		{"database-max-idle-conns", "DATABASE_MAX_IDLE_CONNS", "", strconv.Itoa(pool.MaxIdleConns), "", db, false, "PostgreSQL: most idle connections kept per instance", count(func(s *settings) *int { return &s.pool.MaxIdleConns })},
		{"database-conn-max-lifetime", "DATABASE_CONN_MAX_LIFETIME", "", shortDuration(pool.ConnMaxLifetime), "", db, false, "PostgreSQL: a connection is replaced after this long, so failovers are picked up", dur(func(s *settings) *time.Duration { return &s.pool.ConnMaxLifetime })},
		{"database-conn-max-idle-time", "DATABASE_CONN_MAX_IDLE_TIME", "", shortDuration(pool.ConnMaxIdleTime), "", db, false, "PostgreSQL: an idle connection is closed after this long", dur(func(s *settings) *time.Duration { return &s.pool.ConnMaxIdleTime })},
		{"request-timeout", "REQUEST_TIMEOUT", "RequestTimeout", shortDuration(w.RequestTimeout), "", serve, false, "longest a request waits for the database before answering 503", dur(func(s *settings) *time.Duration { return &s.web.RequestTimeout })},
		{"challenge-timeout", "CHALLENGE_TIMEOUT", "ChallengeTimeout", shortDuration(w.ChallengeTimeout), lifetime("ChallengeTimeout"), serve, false, "how long a passkey prompt may take", dur(func(s *settings) *time.Duration { return &s.web.ChallengeTimeout })},
		{"session-idle-timeout", "SESSION_IDLE_TIMEOUT", "SessionIdleTimeout", shortDuration(w.SessionIdleTimeout), lifetime("SessionIdleTimeout"), serve, false, "a session unused this long ends; at most the max age", dur(func(s *settings) *time.Duration { return &s.web.SessionIdleTimeout })},
		{"session-max-age", "SESSION_MAX_AGE", "SessionMaxAge", shortDuration(w.SessionMaxAge), lifetime("SessionMaxAge"), serve, false, "any session ends this long after sign-in", dur(func(s *settings) *time.Duration { return &s.web.SessionMaxAge })},
		{"step-up-window", "STEP_UP_WINDOW", "StepUpWindow", shortDuration(w.StepUpWindow), lifetime("StepUpWindow"), serve, false, "sensitive changes and letting a new app in need a passkey check this recent", dur(func(s *settings) *time.Duration { return &s.web.StepUpWindow })},
		{"recovery-link-ttl", "RECOVERY_LINK_TTL", "RecoveryLinkTTL", shortDuration(w.RecoveryLinkTTL), lifetime("RecoveryLinkTTL"), site, false, "recovery links and recovery sessions last this long", dur(func(s *settings) *time.Duration { return &s.web.RecoveryLinkTTL })},
		{"email-link-ttl", "EMAIL_LINK_TTL", "EmailLinkTTL", shortDuration(w.EmailLinkTTL), lifetime("EmailLinkTTL"), serve, false, "email confirmation links last this long", dur(func(s *settings) *time.Duration { return &s.web.EmailLinkTTL })},
		{"rate-limit", "RATE_LIMIT", "RateLimits", "", "", serve, false, "off, or overrides like options-ip=60/1m,options-email=10/1m,verify-ip=60/1m,credential-failures=10/15m", str(func(s *settings) *string { return &s.rateLimit })},
		{"user-verification", "USER_VERIFICATION", "UserVerification", w.UserVerification, "", serve, false, "user verification at sign-in: required, preferred or discouraged", str(func(s *settings) *string { return &s.web.UserVerification })},
		{"signup-mode", "SIGNUP_MODE", "SignUpMode", string(w.SignUpMode), "", serve, false, "open: sign up with a passkey at once (an address with an account is refused, which tells it has one); email-first: sign-up starts with the email, and the answer never tells", str(func(s *settings) *string { return (*string)(&s.web.SignUpMode) })},
		{"trusted-proxies", "TRUSTED_PROXIES", "TrustedProxies", "", "", serve, false, "reverse proxy addresses or CIDRs whose X-Forwarded-For is believed, comma-separated", str(func(s *settings) *string { return &s.trustedProxies })},
		{"tls-cert", "TLS_CERT_FILE", "", "", "", site, false, "serve https with this certificate file (PEM, full chain)", str(func(s *settings) *string { return &s.tlsCert })},
		{"tls-key", "TLS_KEY_FILE", "", "", "", site, false, "private key file for -tls-cert", str(func(s *settings) *string { return &s.tlsKey })},
		{"metrics-addr", "METRICS_ADDR", "", "", "", serve, false, "serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9090; empty: off", str(func(s *settings) *string { return &s.metricsAddr })},
		{"pprof", "PPROF", "", "false", "", serve, false, "also serve /debug/pprof/ on the metrics address (PPROF=1)", func(s *settings) flag.Value { return (*boolValue)(&s.pprof) }},
		{"shutdown-grace", "SHUTDOWN_GRACE", "", "10s", "", serve, false, "on SIGTERM, how long in-flight requests may take to finish", dur(func(s *settings) *time.Duration { return &s.shutdownGrace })},
		{"smtp-url", "SMTP_URL", "", "", "", serve, true, "mail server for verification and recovery email: smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465; empty: messages are written to the log", str(func(s *settings) *string { return &s.smtpURL })},
		{"smtp-url-file", "SMTP_URL_FILE", "", "", "", serve, false, "file holding the SMTP URL, instead of SMTP_URL, so its password is in no environment", str(func(s *settings) *string { return &s.smtpURLFile })},
		{"mail-from", "MAIL_FROM", "", "", "", serve, false, "From address of email; default RP_NAME <no-reply@RP_ID>", str(func(s *settings) *string { return &s.mailFrom })},
		{"oidc", "OIDC", "", "on", "", site, false, "the OpenID Connect provider (sign in to other apps with passkeyd): on or off", str(func(s *settings) *string { return &s.oidc })},
		{"oidc-clients-file", "OIDC_CLIENTS_FILE", "", "", "", serve, false, "JSON file of OpenID Connect clients, applied at every start", str(func(s *settings) *string { return &s.oidcClientsFile })},
		{"oidc-key-publish-delay", "OIDC_KEY_PUBLISH_DELAY", "KeyPublishDelay", shortDuration(oidc.DefaultKeyPublishDelay),
			shortDuration(oidc.MinKeyPublishDelay) + " to " + shortDuration(oidc.MaxKeyPublishDelay), site, false,
			"a signing key added by oidc rotate-keys is published this long before it signs", dur(func(s *settings) *time.Duration { return &s.oidcKeyPublishDelay })},
		{"log-format", "LOG_FORMAT", "", "text", "", serve, false, "text or json", str(func(s *settings) *string { return &s.logFormat })},
		{"log-level", "LOG_LEVEL", "", "info", "", serve, false, "debug, info, warn or error", str(func(s *settings) *string { return &s.logLevel })},
	}
}

// parseSettings reads the settings of groups from args, then the
// environment, then the defaults.
func parseSettings(name string, groups group, args []string, getenv func(string) string, stderr io.Writer) (*settings, error) {
	s := &settings{flagsSet: map[string]bool{}}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printSettings(fs) }
	fromEnv := map[string]bool{}
	var secrets []setting
	for _, e := range settingTable() {
		v := e.value(s)
		if e.field == "" && e.def != "" {
			if err := v.Set(e.def); err != nil {
				panic(fmt.Sprintf("default of -%s: %v", e.flag, err)) // a mistake in the table; the tests run it
			}
		}
		if e.groups&groups == 0 {
			continue
		}
		usage := e.help
		if e.bounds != "" {
			usage += "; " + e.bounds
		}
		fs.Var(v, e.flag, usage+" (env "+e.env+")")
		if e.secret {
			secrets = append(secrets, e)
			continue
		}
		if raw := getenv(e.env); raw != "" {
			if err := v.Set(raw); err != nil {
				return nil, fmt.Errorf("%s %q: %v", e.env, raw, err)
			}
			fromEnv[e.flag] = true
		}
		if e.field != "" && !fromEnv[e.flag] {
			fs.Lookup(e.flag).DefValue = e.def // shown by -h; the value stays zero
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) { s.flagsSet[f.Name] = true })
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	// Read secrets after parsing so that -h never prints them as defaults.
	for _, e := range secrets {
		if v := e.value(s); v.String() == "" {
			_ = v.Set(getenv(e.env))
		}
	}
	if s.smtpURLFile != "" {
		if s.smtpURL != "" {
			return nil, fmt.Errorf("set SMTP_URL or SMTP_URL_FILE, not both")
		}
		b, err := os.ReadFile(s.smtpURLFile)
		if err != nil {
			return nil, fmt.Errorf("SMTP_URL_FILE: %w", err)
		}
		s.smtpURL = strings.TrimSpace(string(b))
	}
	return s, nil
}

// printSettings is -h: each flag with the kind of value it takes, its
// help and its default.
func printSettings(fs *flag.FlagSet) {
	fmt.Fprintf(fs.Output(), "Settings of %s (flag, or the environment variable named):\n", fs.Name())
	fs.VisitAll(func(f *flag.Flag) {
		kind := ""
		switch f.Value.(type) {
		case *durationValue:
			kind = " duration"
		case *countValue:
			kind = " number"
		case *stringValue:
			kind = " string"
		}
		fmt.Fprintf(fs.Output(), "  -%s%s\n    \t%s", f.Name, kind, f.Usage)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(fs.Output(), " (default %s)", f.DefValue)
		}
		fmt.Fprintln(fs.Output())
	})
}

// envNames rewrites a library's configuration error with the names of
// passkeyd's environment variables instead of the Config fields; aliases
// name fields the table knows by another name.
func envNames(err error, aliases ...map[string]string) error {
	var ce *passkeyd.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	return errors.New(ce.Format(func(field string) string {
		for _, a := range aliases {
			if env, ok := a[field]; ok {
				return env
			}
		}
		return envOf(field)
	}))
}

// envOf is the environment variable that sets a Config field.
func envOf(field string) string {
	for _, e := range settingTable() {
		if e.field == field {
			return e.env
		}
	}
	return field
}

// defaultOf is the default of the setting of an environment variable.
func defaultOf(variable string) string {
	for _, e := range settingTable() {
		if e.env == variable {
			return e.def
		}
	}
	panic("no setting " + variable)
}

// shortDuration writes 30m rather than 30m0s, 720h rather than 720h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

type stringValue string

func (v *stringValue) String() string {
	if v == nil {
		return ""
	}
	return string(*v)
}
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

// durationValue is a positive duration.
type durationValue time.Duration

func (v *durationValue) String() string {
	if v == nil {
		return ""
	}
	return shortDuration(time.Duration(*v))
}

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return errors.New("want a duration such as 90s, 15m or 24h")
	}
	*v = durationValue(d)
	return nil
}

// countValue is a positive whole number.
type countValue int

func (v *countValue) String() string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(int(*v))
}

func (v *countValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return errors.New("want a positive whole number")
	}
	*v = countValue(n)
	return nil
}

type boolValue bool

func (v *boolValue) String() string {
	if v == nil {
		return ""
	}
	return strconv.FormatBool(bool(*v))
}

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want 1 or 0, true or false")
	}
	*v = boolValue(b)
	return nil
}

func (v *boolValue) IsBoolFlag() bool { return true }

// openForAdmin parses the settings of an administration subcommand (name)
// and opens its database, which must exist already: administration never
// creates a database or a secret (settings.administer). A nil store with a
// nil error means -h was asked for, and answered.
func openForAdmin(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer) (passkeyd.Store, *settings, error) {
	s, err := parseSettings(name, adminGroups, args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	s.administer = true
	store, _, err := s.openStore(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	return store, s, nil
}
