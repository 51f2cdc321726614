package web

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/emailtext"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// errRecoveryInProgress answers a browser that holds a recovery session:
// it is signed out for everything but adding a passkey.
var errRecoveryInProgress = &reasonError{passkeyd.Errorf(passkeyd.EUNAUTHORIZED,
	"Not signed in: finish getting back into your account by adding a passkey."), "recovery_in_progress"}

// signedIn is the one place that decides whether a request is signed in:
// it returns the user of a full session, or the error to answer. A
// recovery session is not signed in (it may only add a passkey).
func signedIn(r *http.Request) (*passkeyd.User, *passkeyd.Session, error) {
	u, sess := passkeyd.UserFromContext(r.Context()), passkeyd.SessionFromContext(r.Context())
	switch {
	case u == nil || sess == nil:
		return nil, nil, errNotSignedIn
	case sess.Scope != passkeyd.ScopeFull:
		return nil, nil, errRecoveryInProgress
	}
	return u, sess, nil
}

// account returns the user and session of a request that s.signedIn or
// s.stepUp let through (routes.go).
func account(r *http.Request) (*passkeyd.User, *passkeyd.Session) {
	return passkeyd.UserFromContext(r.Context()), passkeyd.SessionFromContext(r.Context())
}

type passkeyJSON struct {
	ID             string     `json:"id"`
	CredentialID   string     `json:"credentialId"`
	Name           string     `json:"name"`
	Provider       string     `json:"provider"`
	CreatedAt      time.Time  `json:"createdAt"`
	LastUsedAt     *time.Time `json:"lastUsedAt"`
	Synced         bool       `json:"synced"`
	BackupEligible bool       `json:"backupEligible"`
	CloneWarning   bool       `json:"cloneWarning"`
	Transports     []string   `json:"transports"`
}

func toPasskeyJSON(c *passkeyd.Credential) passkeyJSON {
	p := passkeyJSON{ID: c.ID, CredentialID: passkeyd.EncodeCredentialID(c.CredentialID), Name: c.Name,
		Provider: providerName(c), CreatedAt: c.CreatedAt, Synced: c.BackupState, BackupEligible: c.BackupEligible,
		CloneWarning: c.CloneWarning, Transports: c.Transports}
	if !c.LastUsedAt.IsZero() {
		t := c.LastUsedAt
		p.LastUsedAt = &t
	}
	if p.Transports == nil {
		p.Transports = []string{}
	}
	return p
}

// handlePasskeysList answers with the user's passkeys and what the page
// needs for the WebAuthn Signal API (RP ID and user handle).
func (s *Server) handlePasskeysList(w http.ResponseWriter, r *http.Request) error {
	type response struct {
		RPID       string        `json:"rpId"`
		UserHandle string        `json:"userHandle"`
		Email      string        `json:"email"`
		Passkeys   []passkeyJSON `json:"passkeys"`
	}
	u, _ := account(r)
	creds, err := s.store.ListCredentials(r.Context(), u.ID)
	if err != nil {
		return err
	}
	res := response{RPID: s.cfg.RPID, UserHandle: base64.RawURLEncoding.EncodeToString(u.Handle), Email: u.Email, Passkeys: []passkeyJSON{}}
	for _, c := range creds {
		res.Passkeys = append(res.Passkeys, toPasskeyJSON(c))
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

// handleProfileUpdate sets the name and username apps receive under the
// profile scope; an empty one is unset (apps then receive nothing for it).
// Taken usernames are 409; the per-account limit bounds probing for them.
func (s *Server) handleProfileUpdate(w http.ResponseWriter, r *http.Request) error {
	type profile struct {
		DisplayName string `json:"displayName"`
		Username    string `json:"username"`
	}
	u, _ := account(r)
	var req profile
	if err := httpjson.Decode(w, r, &req); err != nil {
		return err
	}
	name, err := passkeyd.ValidateDisplayName(req.DisplayName)
	if err != nil {
		return err
	}
	username, err := passkeyd.ValidateUsername(req.Username)
	if err != nil {
		return err
	}
	detail := "name: " + orNone(name) + ", username: " + orNone(username)
	if err := s.store.SetProfile(r.Context(), u.ID, name, username, s.events.new(r, u.ID, passkeyd.EventProfileChanged, "", detail)); err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, profile{DisplayName: name, Username: username})
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

var errPasskeyNotFound = passkeyd.Errorf(passkeyd.ENOTFOUND, "No such passkey in your account.")

func (s *Server) handlePasskeyRename(w http.ResponseWriter, r *http.Request) error {
	type request struct {
		Name string `json:"name"`
	}
	u, _ := account(r)
	var req request
	if err := httpjson.Decode(w, r, &req); err != nil {
		return err
	}
	name, err := passkeyd.ValidateCredentialName(req.Name)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := s.store.RenameCredential(r.Context(), u.ID, id, name, s.events.new(r, u.ID, passkeyd.EventPasskeyRenamed, id, "renamed to "+name)); err != nil {
		return notFoundAs(err, errPasskeyNotFound)
	}
	creds, err := s.store.ListCredentials(r.Context(), u.ID)
	if err != nil {
		return err
	}
	for _, c := range creds {
		if c.ID == id {
			httpjson.Write(w, http.StatusOK, toPasskeyJSON(c))
			return nil
		}
	}
	return errPasskeyNotFound
}

func (s *Server) handlePasskeyDelete(w http.ResponseWriter, r *http.Request) error {
	u, sess := account(r)
	id := r.PathValue("id")
	creds, err := s.store.ListCredentials(r.Context(), u.ID)
	if err != nil {
		return err
	}
	var name string
	for _, c := range creds {
		if c.ID == id {
			name = c.Name
		}
	}
	if err := s.store.DeleteCredential(r.Context(), u.ID, id, s.events.new(r, u.ID, passkeyd.EventPasskeyDeleted, id, name)); err != nil {
		return notFoundAs(err, errPasskeyNotFound)
	}
	s.log.InfoContext(r.Context(), "passkey deleted", "event", passkeyd.EventPasskeyDeleted, "user_id", u.ID, "passkey_id", id)
	s.mail.notice(u.Email, emailtext.PasskeyDeleted, name)
	if sess.CredentialID == id {
		// The store ended the sessions signed in with this passkey,
		// this one included: the next request asks to sign in again.
		// The answer says so, for the page to go to the sign-in page
		// rather than carry on signed out.
		s.cookies.set(w, s.cookies.session, "", -1)
		httpjson.Write(w, http.StatusOK, map[string]bool{"signedOut": true})
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// notFoundAs replaces a store's generic ENOTFOUND with a message about
// what was not found; other errors pass.
func notFoundAs(err error, nf *passkeyd.Error) error {
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		return nf
	}
	return err
}

type sessionJSON struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	Device     string    `json:"device"`
	UserAgent  string    `json:"userAgent"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
}

func (s *Server) handleSessionsList(w http.ResponseWriter, r *http.Request) error {
	type response struct {
		Sessions []sessionJSON `json:"sessions"`
	}
	u, current := account(r)
	list, err := s.store.ListSessions(r.Context(), u.ID, s.cfg.Now())
	if err != nil {
		return err
	}
	res := response{Sessions: []sessionJSON{}}
	for _, ss := range list {
		res.Sessions = append(res.Sessions, sessionJSON{ID: ss.ID, Current: ss.ID == current.ID, Device: deviceName(ss.UserAgent),
			UserAgent: ss.UserAgent, IP: ss.IP, CreatedAt: ss.CreatedAt, LastSeenAt: ss.LastSeenAt})
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

func (s *Server) handleSessionRevoke(w http.ResponseWriter, r *http.Request) error {
	u, _ := account(r)
	if err := s.store.DeleteUserSession(r.Context(), u.ID, r.PathValue("id"),
		s.events.new(r, u.ID, passkeyd.EventSessionRevoked, "", "one session")); err != nil {
		return notFoundAs(err, passkeyd.Errorf(passkeyd.ENOTFOUND, "No such session in your account."))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleSessionsRevokeOthers(w http.ResponseWriter, r *http.Request) error {
	type response struct {
		Revoked int64 `json:"revoked"`
	}
	u, current := account(r)
	n, err := s.store.DeleteOtherSessions(r.Context(), u.ID, current.ID,
		s.events.new(r, u.ID, passkeyd.EventSessionRevoked, "", "signed out everywhere else"))
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, response{Revoked: n})
	return nil
}

func (s *Server) handleSecurityLog(w http.ResponseWriter, r *http.Request) error {
	type eventJSON struct {
		ID        int64     `json:"id"`
		Type      string    `json:"type"`
		Detail    string    `json:"detail"`
		PasskeyID string    `json:"passkeyId,omitempty"`
		IP        string    `json:"ip"`
		UserAgent string    `json:"userAgent"`
		CreatedAt time.Time `json:"createdAt"`
	}
	type response struct {
		Events []eventJSON `json:"events"`
		Next   *int64      `json:"next"`
	}
	u, _ := account(r)
	q := r.URL.Query()
	before, err1 := parseOptionalInt(q.Get("before"))
	limit, err2 := parseOptionalInt(q.Get("limit"))
	if err1 != nil || err2 != nil || before < 0 || limit < 0 {
		return passkeyd.Errorf(passkeyd.EINVALID, "before and limit must be positive whole numbers.")
	}
	if limit == 0 || limit > 100 {
		limit = 20
	}
	events, err := s.store.ListEvents(r.Context(), u.ID, before, int(limit)+1)
	if err != nil {
		return err
	}
	res := response{Events: []eventJSON{}}
	for i, e := range events {
		if i == int(limit) {
			next := events[i-1].ID
			res.Next = &next
			break
		}
		res.Events = append(res.Events, eventJSON{ID: e.ID, Type: e.Type, Detail: e.Detail, PasskeyID: e.CredentialID,
			IP: e.IP, UserAgent: e.UserAgent, CreatedAt: e.CreatedAt})
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

func parseOptionalInt(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// deviceName is a short description of a browser from its User-Agent,
// for the sessions list ("Chrome on Windows").
func deviceName(ua string) string {
	browser := "Browser"
	switch {
	case strings.Contains(ua, "Edg/"):
		browser = "Edge"
	case strings.Contains(ua, "Firefox/"):
		browser = "Firefox"
	case strings.Contains(ua, "Chrome/") || strings.Contains(ua, "Chromium/"):
		browser = "Chrome"
	case strings.Contains(ua, "Safari/"):
		browser = "Safari"
	case ua == "":
		return "Unknown device"
	}
	system := ""
	switch {
	case strings.Contains(ua, "iPhone"):
		system = "iPhone"
	case strings.Contains(ua, "iPad"):
		system = "iPad"
	case strings.Contains(ua, "Android"):
		system = "Android"
	case strings.Contains(ua, "Windows"):
		system = "Windows"
	case strings.Contains(ua, "Macintosh"):
		system = "Mac"
	case strings.Contains(ua, "CrOS"):
		system = "ChromeOS"
	case strings.Contains(ua, "Linux"):
		system = "Linux"
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}
