package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/postgres"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// settings are the command-line flags, each defaulting to an environment
// variable, then to a value that works on localhost.
type settings struct {
	host, port       string
	rpID, rpName     string
	origins          string
	secret           string
	secretFile       string
	databaseURL      string
	dataDir          string
	rateLimit        string
	userVerification string
	signUpMode       string
	logFormat        string
	logLevel         string
	pgMaxConns       int
	pgMaxIdle        int
	pgMaxLifetime    time.Duration
	pgMaxIdleTime    time.Duration
	requestTimeout   time.Duration
	relatedOrigins   string
	trustedProxies   string
	tlsCert, tlsKey  string
	metricsAddr      string
	pprof            bool
	shutdownGrace    time.Duration
	smtpURL          string
	smtpURLFile      string
	mailFrom         string
	publicURL        string
	lifetimes        lifetimes
	// flagsSet are the names of the flags given on the command line.
	flagsSet        map[string]bool
	oidc            string // OIDC: on or off
	oidcClientsFile string
	// administer is set by the commands that administer an existing
	// installation (users, clients, oidc): they open the server's
	// database and secret and never create either, so that one run from
	// the wrong directory, or without the server's settings, fails instead
	// of acting on a new empty database or generating a secret the server
	// does not have.
	administer bool
}

func parseSettings(name string, args []string, getenv func(string) string, stderr io.Writer) (*settings, error) {
	s := &settings{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&s.host, "host", env("HOST", ""), "address to listen on; empty means loopback only (127.0.0.1 and ::1); 0.0.0.0 for all (env HOST)")
	fs.StringVar(&s.port, "port", env("PORT", "8080"), "port to listen on (env PORT)")
	fs.StringVar(&s.rpID, "rp-id", env("WEBAUTHN_RP_ID", ""), "WebAuthn relying party ID: your domain; default the host of the first origin (env WEBAUTHN_RP_ID)")
	fs.StringVar(&s.rpName, "rp-name", env("WEBAUTHN_RP_NAME", "passkeyd"), "site name shown in passkey prompts and pages (env WEBAUTHN_RP_NAME)")
	fs.StringVar(&s.origins, "origin", env("WEBAUTHN_ORIGIN", ""), "origin(s) users open, comma-separated; default http://localhost:PORT (env WEBAUTHN_ORIGIN)")
	fs.StringVar(&s.secret, "session-secret", "", "at least 32 characters keying stored token hashes; required for https origins; generated into DATA_DIR on localhost (env SESSION_SECRET)")
	fs.StringVar(&s.secretFile, "session-secret-file", env("SESSION_SECRET_FILE", ""), "file holding the session secret, instead of SESSION_SECRET (env SESSION_SECRET_FILE)")
	fs.StringVar(&s.databaseURL, "database-url", env("DATABASE_URL", ""), "file:./dev.db or sqlite:PATH for SQLite, postgres://... for PostgreSQL; default file:DATA_DIR/passkeyd.db (env DATABASE_URL)")
	fs.StringVar(&s.dataDir, "data-dir", env("DATA_DIR", "data"), "directory for the SQLite file and the generated secret (env DATA_DIR)")
	fs.StringVar(&s.rateLimit, "rate-limit", env("RATE_LIMIT", ""), "off, or overrides like options-ip=60/1m,options-email=10/1m,verify-ip=60/1m,credential-failures=10/15m (env RATE_LIMIT)")
	fs.StringVar(&s.userVerification, "user-verification", env("USER_VERIFICATION", "required"), "user verification at sign-in: required, preferred or discouraged (env USER_VERIFICATION)")
	fs.StringVar(&s.signUpMode, "signup-mode", env("SIGNUP_MODE", "open"), "open: sign up with a passkey at once (an address with an account is refused, which tells it has one); email-first: sign-up starts with the email, and the answer never tells (env SIGNUP_MODE)")
	fs.StringVar(&s.logFormat, "log-format", env("LOG_FORMAT", "text"), "text or json (env LOG_FORMAT)")
	fs.StringVar(&s.logLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (env LOG_LEVEL)")
	fs.StringVar(&s.relatedOrigins, "related-origins", env("WEBAUTHN_RELATED_ORIGINS", ""), "sibling origins (other domains) allowed to use this RP ID's passkeys, comma-separated; served as /.well-known/webauthn (env WEBAUTHN_RELATED_ORIGINS)")
	fs.StringVar(&s.trustedProxies, "trusted-proxies", env("TRUSTED_PROXIES", ""), "reverse proxy addresses or CIDRs whose X-Forwarded-For is believed, comma-separated (env TRUSTED_PROXIES)")
	fs.StringVar(&s.tlsCert, "tls-cert", env("TLS_CERT_FILE", ""), "serve https with this certificate file (PEM, full chain) (env TLS_CERT_FILE)")
	fs.StringVar(&s.tlsKey, "tls-key", env("TLS_KEY_FILE", ""), "private key file for -tls-cert (env TLS_KEY_FILE)")
	fs.StringVar(&s.metricsAddr, "metrics-addr", env("METRICS_ADDR", ""), "serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9090; empty: off (env METRICS_ADDR)")
	fs.BoolVar(&s.pprof, "pprof", env("PPROF", "") == "1" || env("PPROF", "") == "true", "also serve /debug/pprof/ on the metrics address (env PPROF=1)")
	fs.StringVar(&s.smtpURL, "smtp-url", "", "mail server for verification and recovery email: smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465; empty: messages are written to the log (env SMTP_URL)")
	fs.StringVar(&s.smtpURLFile, "smtp-url-file", env("SMTP_URL_FILE", ""), "file holding the SMTP URL, instead of SMTP_URL, so its password is in no environment (env SMTP_URL_FILE)")
	fs.StringVar(&s.mailFrom, "mail-from", env("MAIL_FROM", ""), "From address of email; default no-reply@RP_ID (env MAIL_FROM)")
	fs.StringVar(&s.publicURL, "public-url", env("PUBLIC_URL", ""), "address of these pages in email links; default the first origin (env PUBLIC_URL)")
	fs.StringVar(&s.oidc, "oidc", env("OIDC", "on"), "the OpenID Connect provider (sign in to other apps with passkeyd): on or off (env OIDC)")
	fs.StringVar(&s.oidcClientsFile, "oidc-clients-file", env("OIDC_CLIENTS_FILE", ""), "JSON file of OpenID Connect clients, applied at every start (env OIDC_CLIENTS_FILE)")
	grace, err := time.ParseDuration(env("SHUTDOWN_GRACE", "10s"))
	if err != nil {
		return nil, fmt.Errorf("SHUTDOWN_GRACE: %w", err)
	}
	fs.DurationVar(&s.shutdownGrace, "shutdown-grace", grace, "on SIGTERM, how long in-flight requests may take to finish (env SHUTDOWN_GRACE)")
	ints := map[string]int{}
	durations := map[string]time.Duration{}
	for key, def := range map[string]string{
		"DATABASE_MAX_CONNS":      strconv.Itoa(postgres.DefaultMaxOpenConns),
		"DATABASE_MAX_IDLE_CONNS": strconv.Itoa(postgres.DefaultMaxIdleConns),
	} {
		n, err := strconv.Atoi(env(key, def))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: want a positive whole number", key)
		}
		ints[key] = n
	}
	for key, def := range map[string]string{"DATABASE_CONN_MAX_LIFETIME": "30m", "DATABASE_CONN_MAX_IDLE_TIME": "5m", "REQUEST_TIMEOUT": "10s"} {
		d, err := time.ParseDuration(env(key, def))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s: want a duration such as 30s or 5m", key)
		}
		durations[key] = d
	}
	fs.IntVar(&s.pgMaxConns, "database-max-conns", ints["DATABASE_MAX_CONNS"], "PostgreSQL: most connections per instance (env DATABASE_MAX_CONNS)")
	fs.IntVar(&s.pgMaxIdle, "database-max-idle-conns", ints["DATABASE_MAX_IDLE_CONNS"], "PostgreSQL: most idle connections kept per instance (env DATABASE_MAX_IDLE_CONNS)")
	fs.DurationVar(&s.pgMaxLifetime, "database-conn-max-lifetime", durations["DATABASE_CONN_MAX_LIFETIME"], "PostgreSQL: a connection is replaced after this long, so failovers are picked up (env DATABASE_CONN_MAX_LIFETIME)")
	fs.DurationVar(&s.pgMaxIdleTime, "database-conn-max-idle-time", durations["DATABASE_CONN_MAX_IDLE_TIME"], "PostgreSQL: an idle connection is closed after this long (env DATABASE_CONN_MAX_IDLE_TIME)")
	fs.DurationVar(&s.requestTimeout, "request-timeout", durations["REQUEST_TIMEOUT"], "longest a request waits for the database before answering 503 (env REQUEST_TIMEOUT)")
	if err := s.lifetimes.addFlags(fs, env); err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	s.flagsSet = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { s.flagsSet[f.Name] = true })
	// Read secrets after parsing so that -h never prints them as defaults.
	if s.secret == "" {
		s.secret = getenv("SESSION_SECRET")
	}
	if s.smtpURL == "" {
		s.smtpURL = getenv("SMTP_URL")
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
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return s, nil
}

// secretFlagWarnings names each secret given as a flag: every local user
// can read a process's command line (ps, /proc/PID/cmdline), and so can
// anything that logs or reports it.
func (s *settings) secretFlagWarnings() []string {
	var out []string
	if s.flagsSet["session-secret"] {
		out = append(out, "the session secret was given as -session-secret: any local user can read it from the process list; use SESSION_SECRET or SESSION_SECRET_FILE")
	}
	if u, err := url.Parse(s.smtpURL); s.flagsSet["smtp-url"] && err == nil && u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword {
			out = append(out, "the SMTP password was given in -smtp-url: any local user can read it from the process list; use SMTP_URL or SMTP_URL_FILE")
		}
	}
	return out
}

func (s *settings) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s.logLevel)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", s.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch s.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("LOG_FORMAT %q: want text or json", s.logFormat)
}

func (s *settings) originList() []string {
	if strings.TrimSpace(s.origins) == "" {
		scheme := "http"
		if s.tlsCert != "" {
			scheme = "https"
		}
		return []string{scheme + "://localhost:" + s.port}
	}
	return splitList(s.origins)
}

// splitList splits a comma-separated setting, dropping blanks and
// trailing slashes.
func splitList(v string) []string {
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, strings.TrimSuffix(o, "/"))
		}
	}
	return out
}

// parsePrefixes reads TRUSTED_PROXIES: addresses or CIDRs.
func parsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range splitList(v) {
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES: %q is neither an address nor a CIDR", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (s *settings) rpIDOrDefault(origins []string) string {
	if s.rpID != "" {
		return s.rpID
	}
	if u, err := url.Parse(origins[0]); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "localhost"
}

// webConfig turns the settings into web.Config, loading or (for localhost
// only) generating the secret.
func (s *settings) webConfig(log *slog.Logger) (web.Config, error) {
	origins := s.originList()
	rl, err := web.ParseRateLimits(s.rateLimit)
	if err != nil {
		return web.Config{}, err
	}
	proxies, err := parsePrefixes(s.trustedProxies)
	if err != nil {
		return web.Config{}, err
	}
	if (s.tlsCert == "") != (s.tlsKey == "") {
		return web.Config{}, fmt.Errorf("set both TLS_CERT_FILE and TLS_KEY_FILE, or neither")
	}
	cfg := web.Config{
		RPID:             s.rpIDOrDefault(origins),
		RPName:           s.rpName,
		Origins:          origins,
		RelatedOrigins:   splitList(s.relatedOrigins),
		TrustedProxies:   proxies,
		UserVerification: s.userVerification,
		SignUpMode:       web.SignUpMode(s.signUpMode),
		RateLimits:       rl,
		PublicURL:        s.publicURL,
		RequestTimeout:   s.requestTimeout,
		LogRequests:      true,
	}
	switch s.oidc {
	case "on":
		cfg.ConnectedApps = true // the provider is mounted beside (provider.go)
	case "off":
		if s.oidcClientsFile != "" {
			return web.Config{}, fmt.Errorf("OIDC_CLIENTS_FILE is set but OIDC=off")
		}
	default:
		return web.Config{}, fmt.Errorf("OIDC %q: want on or off", s.oidc)
	}
	s.lifetimes.apply(&cfg)
	secret, err := s.loadSecret(origins, log)
	if err != nil {
		return web.Config{}, err
	}
	cfg.Secret = secret
	return cfg, cfg.Validate()
}

func (s *settings) loadSecret(origins []string, log *slog.Logger) ([]byte, error) {
	secret := s.secret
	if s.secretFile != "" {
		b, err := os.ReadFile(s.secretFile)
		if err != nil {
			return nil, fmt.Errorf("SESSION_SECRET_FILE: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret != "" {
		if len(secret) < web.MinSecretLength {
			return nil, fmt.Errorf("SESSION_SECRET is %d characters; it must be at least %d. Generate one with: openssl rand -base64 32", len(secret), web.MinSecretLength)
		}
		return []byte(secret), nil
	}
	for _, o := range origins {
		if strings.HasPrefix(strings.ToLower(o), "https://") {
			return nil, fmt.Errorf("WEBAUTHN_ORIGIN %s is https, so set SESSION_SECRET (or SESSION_SECRET_FILE) to a random string of at least %d characters, the same on every instance. Generate one with: openssl rand -base64 32", o, web.MinSecretLength)
		}
	}
	// Local development: a secret generated once and kept beside the
	// database, so restarts keep sessions.
	path := filepath.Join(s.dataDir, "session-secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= web.MinSecretLength {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if s.administer {
		return nil, fmt.Errorf("no session secret: set SESSION_SECRET or SESSION_SECRET_FILE to the server's (or DATA_DIR to the server's data directory; there is no %s); this command does not generate one", path)
	}
	if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	generated := base64.RawURLEncoding.EncodeToString(b)
	if err := os.WriteFile(path, []byte(generated+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write generated secret: %w", err)
	}
	log.Info("generated a session secret for local development", "path", path)
	return []byte(generated), nil
}

// openStore opens the database DATABASE_URL names, applying migrations.
// For a command that administers an existing installation, a SQLite file
// that does not exist is an error: sqlite.Open would create it.
func (s *settings) openStore(ctx context.Context) (passkeyd.Store, string, error) {
	dsn := s.databaseURL
	if dsn == "" {
		dsn = "file:" + filepath.Join(s.dataDir, "passkeyd.db")
	}
	if s.administer && !isPostgresURL(dsn) {
		path, err := sqlite.Path(dsn)
		if err != nil {
			return nil, "", err
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("no database at %s: set DATABASE_URL (or DATA_DIR) to the server's; this command does not create one", path)
		} else if err != nil {
			return nil, "", fmt.Errorf("DATABASE_URL: %w", err)
		}
	}
	if isPostgresURL(dsn) {
		pool := postgres.PoolConfig{MaxOpenConns: s.pgMaxConns, MaxIdleConns: s.pgMaxIdle,
			ConnMaxLifetime: s.pgMaxLifetime, ConnMaxIdleTime: s.pgMaxIdleTime}
		if s.administer {
			st, err := openInstalledPostgres(ctx, dsn, pool)
			return st, "postgres", err
		}
		st, err := postgres.Open(ctx, dsn, pool)
		return st, "postgres", err
	}
	st, err := sqlite.Open(ctx, dsn)
	return st, "sqlite", err
}

// openInstalledPostgres opens a PostgreSQL database that holds passkeyd's
// tables already (in the schema DATABASE_URL's search_path names), then
// applies pending migrations as a start would. A database without them
// is an error: migrating it would make an empty installation.
func openInstalledPostgres(ctx context.Context, dsn string, pool postgres.PoolConfig) (passkeyd.Store, error) {
	st, err := postgres.Connect(ctx, dsn, pool)
	if err != nil {
		return nil, err
	}
	var tables int
	err = sqlstore.DB(st).QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name = 'users'`).Scan(&tables)
	if err == nil && tables == 0 {
		err = errors.New("DATABASE_URL names a PostgreSQL database without passkeyd's tables: set it to the server's; this command does not create them")
	}
	if err == nil {
		_, err = st.Migrate(ctx)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// listenAddrs are the addresses to listen on: HOST:PORT, or both loopback
// addresses when HOST is empty (browsers resolve localhost to either).
func (s *settings) listenAddrs() []string {
	if s.host != "" {
		return []string{net.JoinHostPort(s.host, s.port)}
	}
	return []string{net.JoinHostPort("127.0.0.1", s.port), net.JoinHostPort("::1", s.port)}
}

var version = "" // set with -ldflags "-X main.version=v1.2.3"

func versionString() string {
	v := version
	info, ok := debug.ReadBuildInfo()
	if v == "" && ok {
		v = info.Main.Version
	}
	if ok {
		for _, kv := range info.Settings {
			if kv.Key == "vcs.revision" && len(kv.Value) >= 12 {
				v += " (" + kv.Value[:12] + ")"
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	return "passkeyd " + v
}
