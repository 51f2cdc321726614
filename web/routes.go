package web

import "net/http"

// routes lists every route, one line each.
func (s *Server) routes(mux *http.ServeMux) {
	mux.Handle("GET /{$}", s.handleHome())
	mux.Handle("GET /dashboard", s.handleDashboard())
	mux.Handle("GET /static/{name}", s.pages.handleStatic())

	mux.Handle("POST /api/passkeys/generate-registration-options", s.handleRegisterBegin())
	mux.Handle("POST /api/passkeys/verify-registration", s.handleRegisterFinish())
	mux.Handle("POST /api/passkeys/generate-authentication-options", s.handleLoginBegin())
	mux.Handle("POST /api/passkeys/verify-authentication", s.handleLoginFinish())
	mux.Handle("POST /api/auth/logout", s.handleLogout())
	mux.Handle("GET /api/auth/me", s.handleMe())

	mux.Handle("POST /api/client-errors", s.handleClientError())
	mux.Handle("GET /.well-known/webauthn", s.handleRelatedOrigins())

	mux.Handle("GET /healthz", s.handleHealthz())
	mux.Handle("GET /readyz", s.handleReadyz())
	mux.Handle("/api/", s.handleAPINotFound())
}
