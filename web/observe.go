package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"
)

// requestInfo is what withRequest, the first middleware, works out once
// per request and carries in its context: the request's ID and its client.
type requestInfo struct {
	id     string
	client client
}

type requestKey struct{}

func requestOf(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestKey{}).(*requestInfo)
	return info
}

// RequestID returns the ID of the request ctx belongs to ("" outside one).
// It is sent back in the X-Request-Id header and logged with every line.
func RequestID(ctx context.Context) string {
	if info := requestOf(ctx); info != nil {
		return info.id
	}
	return ""
}

// newRequestID is a fresh random request ID. A client's own X-Request-Id
// is not trusted, so IDs stay unique and unforgeable in the logs.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// observe wraps the mux: it sees the route pattern the mux chose, and
// records each request's latency in m and, when logRequests, logs one line
// per request.
func observe(m *Metrics, log *slog.Logger, logRequests bool, mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(rec, r)
		d := time.Since(start)
		route := r.Pattern // set on r by the mux
		if route == "" {
			route = "unmatched"
		}
		m.observe(route, rec.status, d)
		if logRequests {
			log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Float64("duration_ms", float64(d.Microseconds())/1000),
				slog.String("client_ip", clientIP(r))) // request_id: added by requestIDHandler
		}
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

// requestIDHandler adds the request ID to every log line written with a
// request's context (log.InfoContext(r.Context(), ...)).
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
