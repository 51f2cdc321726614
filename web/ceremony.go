package web

import (
	"cmp"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd"
)

// A ceremony in progress (the options request, then the verify request)
// is kept in the browser, not in the database: its state is sealed with
// AES-256-GCM under a key derived from the server secret and put in a
// cookie of its own, named after its challenge, so that a browser holds a
// few at once (the page's conditional sign-in, a sign-in started while it
// is pending, a registration in another tab), even when their options
// requests cross in flight: no ceremony's cookie overwrites another's.
// Options requests therefore write nothing. A ceremony is
// bound to the browser by the cookie (HttpOnly, never sent to another
// site), expires with its sealed expiry, and is single-use through the
// record of its challenge that the sign-in's or registration's own
// transaction writes (passkeyd.UsedChallenge).

// ceremonyState is what a ceremony needs between its two requests.
type ceremonyState struct {
	Kind      passkeyd.CeremonyKind `json:"k"`
	Challenge string                `json:"c"` // as sent to the browser
	ExpiresAt int64                 `json:"x"` // unix milliseconds
	// SessionID binds a registration begun in a login session (adding a
	// passkey, or a recovery) to that session: signing out, or in again,
	// voids it.
	SessionID string `json:"s,omitempty"`
	// Sign-in: the email the user typed, if any. Registration: the account
	// the passkey is for; for a sign-up it exists only here until the
	// response verifies. SignedInUserID is set when a signed-in user adds a
	// passkey to their own account.
	Email          string `json:"e,omitempty"`
	UserID         string `json:"u,omitempty"`
	Handle         []byte `json:"h,omitempty"`
	SignedInUserID string `json:"i,omitempty"`
	// SessionData is go-webauthn's webauthn.SessionData, JSON-encoded and
	// kept verbatim: dropping any field breaks the ceremony.
	SessionData json.RawMessage `json:"d"`
}

const (
	// maxCeremonies bounds the ceremony cookies a browser holds: the
	// oldest give way first. A sign-in's takes ~300 bytes, a
	// registration's ~900, so six stay well inside what browsers and
	// proxies accept in a request's headers.
	maxCeremonies = 6
	// usedChallengeGrace, with the request timeout, is how long a used
	// challenge's record is kept after the ceremony expired: a replay
	// checked just before the expiry may commit up to a request timeout
	// later, and instances' clocks may differ a little; either way the
	// record must still be there.
	usedChallengeGrace = time.Minute
)

// ceremonySealKey derives the key that seals ceremony state from the
// server secret: a purpose of its own, so it is never a key used for
// anything else.
func ceremonySealKey(secret []byte) (cipher.AEAD, error) {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("ceremony-seal\x00v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// ceremonyAD is the associated data of every sealed ceremony: a sealed
// value is only ever opened as a ceremony of this format.
var ceremonyAD = []byte("passkeyd ceremony v1")

// A sealed ceremony's cookie is named PREFIX_TAG, TAG the first
// characters of its challenge, so that a verification finds its own
// without opening the others; its value is "EXPIRY:SEALED", the expiry
// (unix milliseconds, base 36) in the clear so that a new ceremony can drop
// the oldest without decrypting them (both are public: the browser got the
// challenge and the timeout with the options). Only the sealed part is
// trusted.
const ceremonyTagLen = 8

func (s *Server) sealCeremony(st *ceremonyState) (string, error) {
	plain, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	nonce := randomBytes(s.ceremonyAEAD.NonceSize())
	sealed := s.ceremonyAEAD.Seal(nonce, nonce, plain, ceremonyAD)
	return strconv.FormatInt(st.ExpiresAt, 36) + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

func ceremonyTag(challenge string) string {
	return challenge[:min(len(challenge), ceremonyTagLen)]
}

// ceremonyExpiry returns the clear expiry of a sealed ceremony; ok is
// false for a value that is not one.
func ceremonyExpiry(value string) (expires int64, ok bool) {
	exp, _, found := strings.Cut(value, ":")
	expires, err := strconv.ParseInt(exp, 36, 64)
	return expires, found && err == nil
}

// ceremonyCookie is the name of the cookie of the ceremony whose
// challenge starts with tag.
func (s *Server) ceremonyCookie(tag string) string {
	return s.cookies.ceremony + "_" + tag
}

// openCeremony returns the state in a sealed value, or nil when it was not
// sealed by this secret or is damaged.
func (s *Server) openCeremony(value string) *ceremonyState {
	if i := strings.LastIndexByte(value, ':'); i >= 0 {
		value = value[i+1:]
	}
	sealed, err := base64.RawURLEncoding.DecodeString(value)
	n := s.ceremonyAEAD.NonceSize()
	if err != nil || len(sealed) < n+s.ceremonyAEAD.Overhead() {
		return nil
	}
	plain, err := s.ceremonyAEAD.Open(nil, sealed[:n], sealed[n:], ceremonyAD)
	if err != nil {
		return nil
	}
	var st ceremonyState
	if json.Unmarshal(plain, &st) != nil {
		return nil
	}
	return &st
}

// ceremonies returns the browser's ceremony cookies, as sent.
func (s *Server) ceremonies(r *http.Request) []*http.Cookie {
	var cs []*http.Cookie
	for _, c := range r.Cookies() {
		if strings.HasPrefix(c.Name, s.cookies.ceremony+"_") {
			cs = append(cs, c)
		}
	}
	return cs
}

// beginCeremony seals st with go-webauthn's session data into the
// ceremony cookie, next to the browser's other ceremonies that have not
// expired. It writes nothing to the database.
func (s *Server) beginCeremony(w http.ResponseWriter, r *http.Request, st *ceremonyState, sd *webauthn.SessionData) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	now := s.now()
	st.Challenge = sd.Challenge
	st.ExpiresAt = now.Add(s.cfg.ChallengeTimeout).UnixMilli()
	st.SessionData = data
	if sess := passkeyd.SessionFromContext(r.Context()); sess != nil && st.Kind != passkeyd.CeremonyAuthentication {
		st.SessionID = sess.ID
	}
	sealed, err := s.sealCeremony(st)
	if err != nil {
		return err
	}
	// Its own cookie, gone when the ceremony expires.
	s.setCookie(w, s.ceremonyCookie(ceremonyTag(st.Challenge)), sealed, s.cfg.ChallengeTimeout)

	// Beside it the browser keeps its newest maxCeremonies-1 others; the
	// older, and any that expired or are not ours, are deleted. (Browsers
	// drop expired cookies themselves; this bounds a page reloaded again
	// and again within a challenge's lifetime.)
	type held struct {
		name    string
		expires int64
	}
	var others []held
	for _, c := range s.ceremonies(r) {
		expires, ok := ceremonyExpiry(c.Value)
		if !ok || now.UnixMilli() >= expires {
			s.setCookie(w, c.Name, "", -1)
			continue
		}
		others = append(others, held{c.Name, expires})
	}
	slices.SortFunc(others, func(a, b held) int { return cmp.Compare(b.expires, a.expires) }) // newest first
	for _, o := range others[min(len(others), maxCeremonies-1):] {
		s.setCookie(w, o.name, "", -1)
	}
	return nil
}

var errNoCeremony = passkeyd.ErrChallengeUsed

// endCeremony deletes the cookie of a ceremony that completed. Its
// challenge is spent; left in place, the browser would send it with every
// request until it expired (with the other ceremonies', several KB).
func (s *Server) endCeremony(w http.ResponseWriter, st *ceremonyState) {
	s.setCookie(w, s.ceremonyCookie(ceremonyTag(st.Challenge)), "", -1)
}

// errCeremonySession: a registration begun in one login session is being
// finished in another, or signed out.
var errCeremonySession = passkeyd.Errorf(passkeyd.EUNAUTHORIZED,
	"You were signed out before the passkey was saved. Please sign in and try again.")

// finishCeremony finds the ceremony the response answers among the
// browser's: one of this kind, for this challenge, not expired, and for a
// registration begun in a session, finished in that same session. It
// returns the record that makes it single-use, for the completing
// transaction. Anything else is one error, so probes learn nothing. The
// cookie stays until the ceremony completes (endCeremony): a failed
// attempt can be answered again, and a replay of it fails on the
// used-challenge record.
func (s *Server) finishCeremony(r *http.Request, kind passkeyd.CeremonyKind, clientChallenge string) (*ceremonyState, *webauthn.SessionData, passkeyd.UsedChallenge, error) {
	var st *ceremonyState
	if clientChallenge != "" {
		if c, err := r.Cookie(s.ceremonyCookie(ceremonyTag(clientChallenge))); err == nil {
			if o := s.openCeremony(c.Value); o != nil && o.Challenge == clientChallenge {
				st = o
			}
		}
	}
	if st == nil || st.Kind != kind || s.now().UnixMilli() >= st.ExpiresAt {
		return nil, nil, passkeyd.UsedChallenge{}, errNoCeremony
	}
	if st.SessionID != "" {
		if sess := passkeyd.SessionFromContext(r.Context()); sess == nil || sess.ID != st.SessionID {
			return nil, nil, passkeyd.UsedChallenge{}, errCeremonySession
		}
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(st.SessionData, &sd); err != nil {
		// Sealed by us; unreadable only after a library upgrade changed the format.
		return nil, nil, passkeyd.UsedChallenge{}, passkeyd.WrapError(passkeyd.EINVALID, "This passkey request can no longer be completed. Please start again.", err)
	}
	used := passkeyd.UsedChallenge{
		ID:        s.keyedHash("challenge", st.Challenge),
		ExpiresAt: time.UnixMilli(st.ExpiresAt).Add(s.cfg.RequestTimeout + usedChallengeGrace),
	}
	return st, &sd, used, nil
}

// checkClientOrigin names both origins when the page that ran the ceremony
// is not one passkeyd is configured for: the tutorial's silent failure.
func (s *Server) checkClientOrigin(origin string) error {
	if s.origins[origin] { // exactly as the browser serialized it: see normalizeOrigin
		return nil
	}
	return passkeyd.Errorf(passkeyd.EINVALID,
		"The passkey was used on %s, but passkeyd is configured for %s. Set WEBAUTHN_ORIGIN to the address users open.",
		origin, s.originList())
}

// protocolDetail returns go-webauthn's reason for a failure, for the logs.
func protocolDetail(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		if pe.DevInfo != "" {
			return pe.Type + ": " + pe.Details + ": " + pe.DevInfo
		}
		return pe.Type + ": " + pe.Details
	}
	return err.Error()
}

// parseError explains a response that could not even be parsed.
func parseError(err error) error {
	return passkeyd.WrapError(passkeyd.EINVALID,
		"The passkey response is malformed: "+publicDetail(err), err)
}

// publicDetail is the part of a parse error that is safe and useful to show:
// the library's short description, never its internal information.
func publicDetail(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return pe.Details + "."
	}
	return "it could not be read."
}
