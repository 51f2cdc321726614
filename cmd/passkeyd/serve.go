package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/mail"
	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/web"
)

// serve runs the server until ctx is done. ready, if not nil, receives the
// addresses listened on once the server accepts connections.
func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready func([]string)) error {
	start := time.Now()
	s, err := parseSettings("passkeyd", serveGroups, args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log, err := s.logger(stderr)
	if err != nil {
		return err
	}
	for _, w := range s.secretFlagWarnings() {
		log.Warn(w)
	}
	// The OpenID Connect library (zitadel/oidc) logs through slog's default
	// logger only: give it ours, so its lines share our format and level.
	slog.SetDefault(log)
	cfg, err := s.webConfig(log)
	if err != nil {
		return err
	}
	store, kind, err := s.openStore(ctx)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer store.Close()

	from := s.mailFrom
	if from == "" {
		from = cfg.WithDefaults().RPName + " <no-reply@" + cfg.RPID + ">"
	}
	sender, err := mail.Open(s.smtpURL, from, log)
	if err != nil {
		return fmt.Errorf("SMTP_URL: %w", err)
	}
	switch {
	case s.smtpURL != "":
	case cfg.Secure():
		// In production a log is no mailbox, and its links would let
		// whoever reads the logs into accounts: send nothing, say so.
		sender = unsentMail{log}
		log.Warn("no SMTP_URL: email is off (no confirmation or recovery links, no security notices); set SMTP_URL")
	default:
		log.Info("no SMTP_URL: email, links included, is written to this log for local development")
	}
	mails := mail.NewQueue(sender, log, 256)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = mails.Close(ctx) // deliver what is queued, within reason
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv, err := web.New(cfg, web.Deps{Store: store, Logger: log, Metrics: web.NewMetrics(reg), Mailer: mails})
	if err != nil {
		return err
	}
	defer func() {
		// Runs before the mail queue and the store close (deferred
		// earlier): recovery look-ups still in flight use both.
		ctx, cancel := context.WithTimeout(context.Background(), s.shutdownGrace)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			log.Warn("shutdown", "err", err)
		}
	}()
	var provider *oidc.Provider
	if cfg.ConnectedApps {
		if provider, err = newProvider(s, cfg, srv, store, log, oidc.NewMetrics(reg)); err != nil {
			return err
		}
		mountProvider(srv, provider)
	}
	if err := startOIDC(ctx, s, provider, store, log); err != nil {
		return err
	}
	if err := startConsole(ctx, cfg, srv, store, mails, log, stderr); err != nil {
		return err
	}

	var listeners []net.Listener
	for i, addr := range s.listenAddrs() {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			if i > 0 && s.host == "" {
				continue // no IPv6 loopback here: 127.0.0.1 is enough
			}
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
		defer l.Close()
		listeners = append(listeners, l)
	}
	httpSrv := newHTTPServer(srv, log)
	errs := make(chan error, len(listeners)+1)
	var addrs []string
	for _, l := range listeners {
		addrs = append(addrs, l.Addr().String())
		go func() {
			if s.tlsCert != "" {
				errs <- httpSrv.ServeTLS(l, s.tlsCert, s.tlsKey)
			} else {
				errs <- httpSrv.Serve(l)
			}
		}()
	}
	var metricsSrv *http.Server
	if s.metricsAddr != "" {
		metricsSrv, err = serveMetrics(s.metricsAddr, reg, s.pprof, log, errs)
		if err != nil {
			return err
		}
	}
	go cleanExpired(ctx, store, log)
	log.Info("passkeyd ready", "listen", addrs, "tls", s.tlsCert != "", "origins", cfg.Origins, "rp_id", cfg.RPID,
		"database", kind, "metrics", s.metricsAddr, "startup_ms", time.Since(start).Milliseconds())
	if ready != nil {
		ready(addrs)
	}

	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	// Stop accepting, let in-flight requests finish within the grace
	// period, then close the database (deferred above).
	log.Info("shutting down", "grace", s.shutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.shutdownGrace)
	defer cancel()
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(shutdownCtx)
	}
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// unsentMail is the mail sender of an https deployment without SMTP_URL.
type unsentMail struct{ log *slog.Logger }

func (u unsentMail) Send(ctx context.Context, m passkeyd.Email) error {
	u.log.WarnContext(ctx, "email not sent: SMTP_URL is not set", "kind", m.Kind)
	return nil
}

// newHTTPServer sets every timeout, so slow or idle clients cannot hold
// connections open for ever.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// serveMetrics serves /metrics (and /debug/pprof/ when asked) on its own
// address, so they need not be exposed where users reach the site.
func serveMetrics(addr string, reg *prometheus.Registry, withPprof bool, log *slog.Logger, errs chan<- error) (*http.Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	srv := newHTTPServer(metricsHandler(reg, withPprof), log)
	srv.WriteTimeout = 2 * time.Minute // CPU profiles take 30 s by default
	go func() { errs <- srv.Serve(l) }()
	return srv, nil
}

// metricsHandler serves /metrics and, withPprof, the profiles under
// /debug/pprof/. Not pprof's cmdline handler: the command line may hold
// secrets given as flags (-session-secret, -smtp-url with a password).
func metricsHandler(reg *prometheus.Registry, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index) // named profiles; "cmdline" is none, so 404
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// cleanExpired deletes expired used-challenge records, sessions and links every minute. Every
// instance runs it; the deletes are idempotent.
func cleanExpired(ctx context.Context, store passkeyd.Store, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := store.DeleteExpired(ctx, now); err != nil {
				log.Warn("cleanup of expired rows failed", "err", err)
			} else if n > 0 {
				log.Debug("cleaned up expired rows", "rows", n)
			}
		}
	}
}

// startOIDC applies OIDC_CLIENTS_FILE, so a bad file stops the start.
// The signing keys are made when first needed, so that a server nobody
// signs in to through OpenID Connect starts as fast as before.
func startOIDC(ctx context.Context, s *settings, p *oidc.Provider, store passkeyd.Store, log *slog.Logger) error {
	if p == nil {
		return nil
	}
	st, ok := store.(passkeyd.OIDCStore)
	if !ok {
		return fmt.Errorf("the %T store cannot keep OpenID Connect clients", store)
	}
	if s.oidcClientsFile != "" {
		clients, err := oidc.LoadClientsFile(s.oidcClientsFile)
		if err != nil {
			return err
		}
		if groups, ok := store.(oidc.GroupMaker); ok {
			created, err := oidc.EnsureGroups(ctx, groups, clients, time.Now())
			if err != nil {
				return fmt.Errorf("OIDC_CLIENTS_FILE: %w", err)
			}
			for _, name := range created {
				log.Info("created a group named in OIDC_CLIENTS_FILE; add its members with passkeyd groups members or the console", "group", name)
			}
		}
		if err := oidc.ApplyClients(ctx, st, clients, time.Now()); err != nil {
			return fmt.Errorf("OIDC_CLIENTS_FILE: %w", err)
		}
	}
	return nil
}
