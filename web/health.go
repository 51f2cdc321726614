package web

import (
	"context"
	"net/http"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// handleHealthz answers while the process runs: for "restart me?" checks.
func handleHealthz(w http.ResponseWriter, r *http.Request) error {
	httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// handleReadyz answers 200 only while the database answers, within 3 s:
// for "send me traffic?" checks.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return passkeyd.WrapError(passkeyd.EUNAVAILABLE, "The database is not reachable.", err)
	}
	httpjson.Write(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// handleAPINotFound answers unknown API routes in JSON, like every API error.
func handleAPINotFound(w http.ResponseWriter, r *http.Request) error {
	return passkeyd.Errorf(passkeyd.ENOTFOUND, "No API route %s %s.", r.Method, r.URL.Path)
}
