package web

import (
	"context"
	"net/http"
	"time"

	"github.com/passkeyd/passkeyd"
)

// handleHealthz answers while the process runs: for "restart me?" checks.
func (s *Server) handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz answers 200 only while the database answers, within 3 s:
// for "send me traffic?" checks.
func (s *Server) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := s.store.Ping(ctx); err != nil {
			writeError(w, r, s.log, passkeyd.WrapError(passkeyd.EUNAVAILABLE, "The database is not reachable.", err))
			return
		}
		encode(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// handleAPINotFound answers unknown API routes in JSON, like every API error.
func (s *Server) handleAPINotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, passkeyd.Errorf(passkeyd.ENOTFOUND, "No API route %s %s.", r.Method, r.URL.Path))
	})
}
