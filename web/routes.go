package web

// routes lists every route, one line each, with the rules that cut across
// routes declared right here:
//
//   - s.signedIn: a full session is required (401 otherwise).
//   - s.stepUp: a full session whose passkey was verified within
//     StepUpWindow (403 "step_up_required" otherwise: the page verifies a
//     passkey again and retries).
//   - s.freshIfSignedIn: anyone, but a signed-in caller must be fresh as for
//     s.stepUp (registration: a sign-up, or a passkey for one's own account).
//   - Sessionless: the route never reads the login session, so the
//     session cookie is not looked up in the database for it (the sign-in
//     ceremony: its options write and read nothing, its verification
//     replaces whatever session the browser had; health checks and static
//     files, which must answer while the database is down). Every other
//     route has the session loaded (mount.go, Rule).
//   - CrossOrigin: other sites may call the route (none of web's own;
//     the provider's token endpoint, mounted by cmd/passkeyd). Every
//     other route refuses a cross-site request that changes state
//     (sameOrigin).
//   - s.limit(...): rate limits, counted in order; the first one reached
//     answers 429. perIP counts the client address; perEmail the email
//     address the JSON body names (when it names a valid one); perAccount
//     the signed-in account.
//   - s.limitFailures(...): failures, counted from the answers; once a key
//     has failed too often, it gets 429 until the window passes.
//   - limitBody(n, ...): a body of more than n bytes is not read (the JSON
//     API's handlers bound theirs with decode).
//
// Handlers return their errors: s.api answers them, s.counted also counts
// the ceremony's success or failure by reason.
func (s *Server) routes(mux routeMux) {
	l := s.limits
	mux.Handle("GET /{$}", s.api(s.handleHome))
	mux.Handle("GET /dashboard", s.RequireUser(s.api(s.handleDashboard)))
	mux.Handle("GET /recover", s.api(s.handlePage("recover", "Get back into your account", "")))
	mux.Handle("GET /recover/email", s.api(s.handlePage("link", "Get back into your account", "recover")))
	mux.Handle("GET /recover/takeover", s.api(s.handlePage("link", "Make this account yours", "takeover")))
	mux.Handle("GET /cancel-email-change", s.api(s.handlePage("link", "Cancel the email address change", "cancel-email-change")))
	mux.Handle("GET /verify-email", s.api(s.handlePage("link", "Confirm your email address", "verify-email")))
	mux.Handle("GET /confirm-email", s.api(s.handlePage("link", "Confirm your new email address", "confirm-email")))
	mux.Handle("GET /signup", s.api(s.handlePage("link", "Create your account", "sign-up")))
	mux.Handle("GET /static/{name}", s.api(s.handleStatic), Sessionless)

	mux.Handle("POST /api/passkeys/generate-registration-options", s.limit(perIP(l.optionsPerIP), perEmail(l.optionsPerEmail, "email"))(s.freshIfSignedIn(s.api(s.handleRegisterBegin))))
	mux.Handle("POST /api/passkeys/verify-registration", s.limit(perIP(l.verifyPerIP))(s.counted("registration", s.handleRegisterFinish)))
	mux.Handle("POST /api/passkeys/generate-authentication-options", s.limit(perIP(l.optionsPerIP), perEmail(l.optionsPerEmail, "email"))(s.api(s.handleLoginBegin)), Sessionless)
	mux.Handle("POST /api/passkeys/verify-authentication", s.limit(perIP(l.verifyPerIP))(s.counted("authentication", s.handleLoginFinish)), Sessionless)
	mux.Handle("POST /api/auth/logout", s.api(s.handleLogout))
	mux.Handle("GET /api/auth/me", s.api(handleMe))

	mux.Handle("GET /api/passkeys", s.signedIn(s.api(s.handlePasskeysList)))
	mux.Handle("PATCH /api/passkeys/{id}", s.signedIn(s.api(s.handlePasskeyRename)))
	mux.Handle("DELETE /api/passkeys/{id}", s.stepUp(s.api(s.handlePasskeyDelete)))
	mux.Handle("GET /api/sessions", s.signedIn(s.api(s.handleSessionsList)))
	mux.Handle("DELETE /api/sessions/{id}", s.signedIn(s.api(s.handleSessionRevoke)))
	mux.Handle("DELETE /api/sessions", s.signedIn(s.api(s.handleSessionsRevokeOthers)))
	mux.Handle("GET /api/security-log", s.signedIn(s.api(s.handleSecurityLog)))

	mux.Handle("POST /api/signup/email", s.limit(perIP(l.optionsPerIP), perEmail(l.recoveryPerEmail, "signup"))(s.api(s.handleSignUpEmail)))
	mux.Handle("POST /api/signup/email/verify", s.limit(perIP(l.verifyPerIP))(s.api(s.handleSignUpLink)))
	mux.Handle("POST /api/recovery/email", s.limit(perIP(l.optionsPerIP), perEmail(l.recoveryPerEmail, "recovery"))(s.api(s.handleRecoveryEmail)))
	mux.Handle("POST /api/recovery/email/verify", s.limit(perIP(l.verifyPerIP))(s.api(s.handleRecoveryLink)))
	mux.Handle("POST /api/recovery/email/takeover", s.limit(perIP(l.verifyPerIP))(s.api(s.handleTakeoverLink)))
	mux.Handle("POST /api/recovery/codes", s.stepUp(s.limit(perAccount(l.recoveryPerEmail, "codes"))(s.api(s.handleRecoveryCodesGenerate))))
	mux.Handle("POST /api/recovery/codes/verify", s.limit(perIP(l.verifyPerIP), perEmail(l.recoveryPerEmail, "code"))(s.api(s.handleRecoveryCodeVerify)))
	mux.Handle("POST /api/email/verify", s.limit(perIP(l.verifyPerIP))(s.api(s.handleEmailVerify)))
	mux.Handle("POST /api/email/resend-verification", s.signedIn(s.limit(perAccount(l.recoveryPerEmail, "verify"))(s.api(s.handleResendVerification))))
	mux.Handle("POST /api/account/email", s.stepUp(s.limit(perAccount(l.recoveryPerEmail, "change"))(s.api(s.handleEmailChange))))
	mux.Handle("POST /api/account/email/confirm", s.limit(perIP(l.verifyPerIP))(s.api(s.handleEmailChangeConfirm)))
	mux.Handle("POST /api/account/email/cancel", s.limit(perIP(l.verifyPerIP))(s.api(s.handleEmailChangeCancel)))
	mux.Handle("PUT /api/account/profile", s.signedIn(s.limit(perAccount(l.optionsPerEmail, "profile"))(s.api(s.handleProfileUpdate))))

	mux.Handle("POST /api/client-errors", s.api(s.handleClientError))
	mux.Handle("GET /.well-known/webauthn", s.api(s.handleRelatedOrigins))

	mux.Handle("GET /healthz", s.api(handleHealthz), Sessionless)
	mux.Handle("GET /readyz", s.api(s.handleReadyz), Sessionless)
	mux.Handle("/api/", s.api(handleAPINotFound))

	// Connected apps: the grants of an OpenID Connect provider mounted
	// beside (by cmd/passkeyd, with Mount).
	if s.apps != nil {
		mux.Handle("GET /api/apps", s.signedIn(s.api(s.handleAppsList)))
		mux.Handle("DELETE /api/apps/{id}", s.signedIn(s.api(s.handleAppRevoke)))
	}
}
