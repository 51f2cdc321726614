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
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/web"
)

// serve runs the server until ctx is done. ready, if not nil, receives the
// addresses listened on once the server accepts connections.
func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready func([]string)) error {
	s, err := parseSettings("passkeyd", args, getenv, stderr)
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
	cfg, err := s.webConfig(log)
	if err != nil {
		return err
	}
	start := time.Now()
	store, kind, err := s.openStore(ctx)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer store.Close()

	srv, err := web.New(cfg, web.Deps{Store: store, Logger: log})
	if err != nil {
		return err
	}
	handler := logRequests(log, srv)

	var listeners []net.Listener
	for i, addr := range s.listenAddrs() {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			if i > 0 && s.host == "" {
				continue // no IPv6 loopback here: 127.0.0.1 is enough
			}
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
		listeners = append(listeners, l)
	}
	httpSrv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errs := make(chan error, len(listeners))
	var addrs []string
	for _, l := range listeners {
		addrs = append(addrs, l.Addr().String())
		go func() { errs <- httpSrv.Serve(l) }()
	}
	go cleanExpired(ctx, store, log)
	log.Info("passkeyd ready", "listen", addrs, "origins", cfg.Origins, "rp_id", cfg.RPID, "database", kind,
		"startup_ms", time.Since(start).Milliseconds())
	if ready != nil {
		ready(addrs)
	}

	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return httpSrv.Shutdown(shutdownCtx)
}

// cleanExpired deletes expired challenges and sessions every minute. Every
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

// logRequests writes one line per request.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
