package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// apiError is the body of every error answer. Code is set where a client
// can act on it by machine (e.g. "unknown_credential").
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}

// reasonError carries a machine-readable reason for the client beside a
// passkeyd.Error.
type reasonError struct {
	err    *passkeyd.Error
	reason string
}

func (e *reasonError) Error() string { return e.err.Error() }
func (e *reasonError) Unwrap() error { return e.err }

// writeError answers with the error's status and message. Internal errors
// are logged here, once, and shown as a generic message.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		// The client went away: the database call failed for that reason,
		// not because the database is down. Nobody reads this answer, and
		// it is no alarm. (A deadline, RequestTimeout, is a real outage.)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	code := passkeyd.ErrorCode(err)
	status := passkeyd.HTTPStatus(err)
	body := apiError{Error: passkeyd.ErrorMessage(err)}
	var re *reasonError
	if errors.As(err, &re) {
		body.Code = re.reason
	}
	switch code {
	case passkeyd.EINTERNAL:
		log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	case passkeyd.EUNAVAILABLE:
		log.WarnContext(r.Context(), "dependency unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
	}
	httpjson.Write(w, status, body)
}
