package web

import "net/http"

// routes lists every route, one line each.
func (s *Server) routes(mux *http.ServeMux) {
	mux.Handle("GET /{$}", s.handleHome())
	mux.Handle("GET /dashboard", s.handleDashboard())
	mux.Handle("GET /recover", s.handlePage("recover", "Get back into your account", ""))
	mux.Handle("GET /recover/email", s.handlePage("link", "Get back into your account", "recover"))
	mux.Handle("GET /verify-email", s.handlePage("link", "Confirm your email address", "verify-email"))
	mux.Handle("GET /confirm-email", s.handlePage("link", "Confirm your new email address", "confirm-email"))
	mux.Handle("GET /static/{name}", s.pages.handleStatic())

	mux.Handle("POST /api/passkeys/generate-registration-options", s.handleRegisterBegin())
	mux.Handle("POST /api/passkeys/verify-registration", s.handleRegisterFinish())
	mux.Handle("POST /api/passkeys/generate-authentication-options", s.handleLoginBegin())
	mux.Handle("POST /api/passkeys/verify-authentication", s.handleLoginFinish())
	mux.Handle("POST /api/auth/logout", s.handleLogout())
	mux.Handle("GET /api/auth/me", s.handleMe())

	mux.Handle("GET /api/passkeys", s.handlePasskeysList())
	mux.Handle("PATCH /api/passkeys/{id}", s.handlePasskeyRename())
	mux.Handle("DELETE /api/passkeys/{id}", s.handlePasskeyDelete())
	mux.Handle("GET /api/sessions", s.handleSessionsList())
	mux.Handle("DELETE /api/sessions/{id}", s.handleSessionRevoke())
	mux.Handle("DELETE /api/sessions", s.handleSessionsRevokeOthers())
	mux.Handle("GET /api/security-log", s.handleSecurityLog())

	mux.Handle("POST /api/recovery/email", s.handleRecoveryEmail())
	mux.Handle("POST /api/recovery/email/verify", s.handleRecoveryLink())
	mux.Handle("POST /api/recovery/codes", s.handleRecoveryCodesGenerate())
	mux.Handle("POST /api/recovery/codes/verify", s.handleRecoveryCodeVerify())
	mux.Handle("POST /api/email/verify", s.handleEmailVerify())
	mux.Handle("POST /api/email/resend-verification", s.handleResendVerification())
	mux.Handle("POST /api/account/email", s.handleEmailChange())
	mux.Handle("POST /api/account/email/confirm", s.handleEmailChangeConfirm())

	mux.Handle("POST /api/client-errors", s.handleClientError())
	mux.Handle("GET /.well-known/webauthn", s.handleRelatedOrigins())

	mux.Handle("GET /healthz", s.handleHealthz())
	mux.Handle("GET /readyz", s.handleReadyz())
	mux.Handle("/api/", s.handleAPINotFound())
}
