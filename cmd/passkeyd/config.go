package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
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
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/postgres"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// settings are the values of the settings (settingTable), from the
// command line, the environment or the defaults.
type settings struct {
	host, port          string
	rpID, rpName        string
	origins             string
	secret              string
	secretFile          string
	databaseURL         string
	dataDir             string
	rateLimit           string
	logFormat           string
	logLevel            string
	pool                postgres.PoolConfig
	relatedOrigins      string
	trustedProxies      string
	tlsCert, tlsKey     string
	metricsAddr         string
	pprof               bool
	shutdownGrace       time.Duration
	smtpURL             string
	smtpURLFile         string
	mailFrom            string
	publicURL           string
	oidc                string // OIDC: on or off
	oidcClientsFile     string
	oidcKeyPublishDelay time.Duration
	// web holds the settings that are web.Config fields as they are
	// (lifetimes, user verification, sign-up mode, request timeout):
	// zero unless set, so that web applies its defaults.
	web web.Config
	// flagsSet are the names of the flags given on the command line.
	flagsSet map[string]bool
	// administer is set by the commands that administer an existing
	// installation (users, clients, oidc): they open the server's
	// database and secret and never create either, so that one run from
	// the wrong directory, or without the server's settings, fails instead
	// of acting on a new empty database or generating a secret the server
	// does not have.
	administer bool
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
		return web.Config{}, fmt.Errorf("RATE_LIMIT: %w", err)
	}
	proxies, err := parsePrefixes(s.trustedProxies)
	if err != nil {
		return web.Config{}, err
	}
	if (s.tlsCert == "") != (s.tlsKey == "") {
		return web.Config{}, fmt.Errorf("set both TLS_CERT_FILE and TLS_KEY_FILE, or neither")
	}
	cfg := s.web
	cfg.RPID = s.rpIDOrDefault(origins)
	cfg.RPName = s.rpName
	cfg.Origins = origins
	cfg.RelatedOrigins = splitList(s.relatedOrigins)
	cfg.TrustedProxies = proxies
	cfg.RateLimits = rl
	cfg.PublicURL = s.publicURL
	cfg.LogRequests = true
	cfg.Console = true // the console is mounted beside (console.go)
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
	secret, err := s.loadSecret(origins, log)
	if err != nil {
		return web.Config{}, err
	}
	cfg.Secret = secret
	return cfg, envNames(cfg.Validate())
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
		pool := s.pool
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
