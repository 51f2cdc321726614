package web

import (
	"bytes"
	"cmp"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/keyedhash"
)

// A ceremony in progress (the options request, then the verify request)
// is kept in the browser, not in the database: its state is sealed with
// AES-256-GCM under a key derived from the server secret and put in a
// cookie of its own (the sealed state; stateCookies), named after its
// challenge, so that a browser holds a few at once (the page's conditional sign-in, a sign-in started while it
// is pending, a registration in another tab), even when their options
// requests cross in flight: no ceremony's cookie overwrites another's.
// Options requests therefore write nothing. A ceremony is
// bound to the browser by the cookie (HttpOnly, never sent to another
// site), expires with its sealed expiry, and is single-use through the
// record of its challenge that the sign-in's or registration's own
// transaction writes (passkeyd.UsedChallenge).

// sealedState is what a ceremony needs between its two requests.
type sealedState struct {
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
	// SessionData is go-webauthn's webauthn.SessionData, encoded and
	// decoded as the library's own type, so every field it has is kept
	// (dropping one breaks the ceremony), and decoded once, with the rest.
	SessionData *webauthn.SessionData `json:"d"`
}

const (
	// maxCeremonies bounds the sealed-state cookies a browser holds: the
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

// stateSealKey derives the key that seals ceremony state from the server
// secret: a purpose of its own, so it is never a key used for anything
// else.
func stateSealKey(secret []byte) (cipher.AEAD, error) {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("ceremony-seal\x00v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// stateAD is the associated data of every sealed state: a sealed value is
// only ever opened as a ceremony's state of this format. v2: the record of
// a used challenge is named by usedChallengeID, which v1 did not do; a v1
// state's ceremony, which might have been completed under its old name,
// is started again instead.
var stateAD = []byte("passkeyd ceremony v2")

// A sealed state's cookie is named PREFIX_TAG, TAG the first
// characters of its challenge, so that a verification finds its own
// without opening the others; its value is "EXPIRY:SEALED", the expiry
// (unix milliseconds, base 36) in the clear so that a new ceremony can drop
// the oldest without decrypting them (both are public: the browser got the
// challenge and the timeout with the options). Only the sealed part is
// trusted.
const stateTagLen = 8

// stateCookies keeps the state of the browser's ceremonies in progress in
// sealed cookies (see above): begin, finish, end.
type stateCookies struct {
	aead    cipher.AEAD
	cookies cookieJar
	key     keyedhash.Key // names used challenges
	now     func() time.Time
	// timeout is a ceremony's lifetime; requestTimeout how long a request
	// that checked it may take to commit.
	timeout, requestTimeout time.Duration
}

func newStateCookies(secret []byte, cookies cookieJar, cfg Config) (*stateCookies, error) {
	aead, err := stateSealKey(secret)
	if err != nil {
		return nil, err
	}
	return &stateCookies{aead: aead, cookies: cookies, key: secret, now: cfg.Now,
		timeout: cfg.ChallengeTimeout, requestTimeout: cfg.RequestTimeout}, nil
}

// sealScratch holds the working buffers of seal and open: the JSON of
// the state, the cookie's value and the sealed bytes.
// Nothing in them outlives the call; the cookie's value is written once,
// into its own string.
type sealScratch struct {
	plain         bytes.Buffer
	value, sealed []byte
}

var sealScratches = sync.Pool{New: func() any { return new(sealScratch) }}

func getSealScratch() *sealScratch { return sealScratches.Get().(*sealScratch) }

// put returns s to the pool, unless a cookie sent to open made it large:
// states are a few KB at most, and a pool keeps what it holds.
func (s *sealScratch) put() {
	if cap(s.value) <= 16<<10 && cap(s.sealed) <= 16<<10 {
		sealScratches.Put(s)
	}
}

// seal returns the cookie value of st with sd as its session data.
func (sc *stateCookies) seal(st *sealedState, sd *webauthn.SessionData) (string, error) {
	scratch := getSealScratch()
	defer scratch.put()
	st.SessionData = sd
	scratch.plain.Reset()
	if err := json.NewEncoder(&scratch.plain).Encode(st); err != nil {
		return "", err
	}
	// The nonce, then the sealed state after it.
	n := sc.aead.NonceSize()
	nonce := append(scratch.sealed[:0], make([]byte, n)...)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	sealed := sc.aead.Seal(nonce, nonce, bytes.TrimSpace(scratch.plain.Bytes()), stateAD)
	scratch.sealed = sealed

	var value strings.Builder
	value.Grow(14 + base64.RawURLEncoding.EncodedLen(len(sealed)))
	var chunk [512]byte
	value.Write(strconv.AppendInt(chunk[:0], st.ExpiresAt, 36))
	value.WriteByte(':')
	for len(sealed) > 0 { // base64 in whole 3-byte groups, a chunk at a time
		m := min(len(sealed), 384)
		base64.RawURLEncoding.Encode(chunk[:], sealed[:m])
		value.Write(chunk[:base64.RawURLEncoding.EncodedLen(m)])
		sealed = sealed[m:]
	}
	return value.String(), nil
}

func stateTag(challenge string) string {
	return challenge[:min(len(challenge), stateTagLen)]
}

// stateExpiry returns the clear expiry of a sealed state; ok is false for
// a value that is not one.
func stateExpiry(value string) (expires int64, ok bool) {
	exp, _, found := strings.Cut(value, ":")
	expires, err := strconv.ParseInt(exp, 36, 64)
	return expires, found && err == nil
}

// cookieName is the name of the cookie of the ceremony whose challenge
// starts with tag.
func (sc *stateCookies) cookieName(tag string) string {
	return sc.cookies.state + "_" + tag
}

// open returns the state in a sealed value, or nil when it was not sealed
// by this secret or is damaged.
func (sc *stateCookies) open(value string) *sealedState {
	if i := strings.LastIndexByte(value, ':'); i >= 0 {
		value = value[i+1:]
	}
	scratch := getSealScratch()
	defer scratch.put()
	scratch.value = append(scratch.value[:0], value...)
	sealed, err := base64.RawURLEncoding.AppendDecode(scratch.sealed[:0], scratch.value)
	scratch.sealed = sealed
	n := sc.aead.NonceSize()
	if err != nil || len(sealed) < n+sc.aead.Overhead() {
		return nil
	}
	plain, err := sc.aead.Open(sealed[n:n], sealed[:n], sealed[n:], stateAD) // in place
	if err != nil {
		return nil
	}
	var st sealedState // json.Unmarshal copies out of plain: nothing of scratch stays
	if json.Unmarshal(plain, &st) != nil {
		return nil
	}
	return &st
}

// usedChallengeID names the record of a used challenge: the ceremony's
// sealed expiry, in 12 hexadecimal digits, then the challenge's keyed
// hash. Both come from the sealed state, so a challenge always has the
// same name. The expiry first makes the names arrive in about the order
// they sort in: each completed ceremony's record goes onto the last pages
// of the table's key, which the sign-ins committed with it share, not onto
// a random page of a table holding every ceremony of the last minutes
// (BENCHMARKS.md, "Third pass").
func usedChallengeID(expiresAt int64, hash string) string {
	const width = 12
	hex := strconv.FormatInt(expiresAt, 16)
	return strings.Repeat("0", max(0, width-len(hex))) + hex + "." + hash
}

// held returns the browser's sealed-state cookies, as sent.
func (sc *stateCookies) held(r *http.Request) []*http.Cookie {
	var cs []*http.Cookie
	for _, c := range r.Cookies() {
		if strings.HasPrefix(c.Name, sc.cookies.state+"_") {
			cs = append(cs, c)
		}
	}
	return cs
}

// begin seals st with go-webauthn's session data into a cookie of its
// own, next to the browser's other ceremonies that have not expired. It
// writes nothing to the database.
func (sc *stateCookies) begin(w http.ResponseWriter, r *http.Request, st *sealedState, sd *webauthn.SessionData) error {
	now := sc.now()
	st.Challenge = sd.Challenge
	st.ExpiresAt = now.Add(sc.timeout).UnixMilli()
	if sess := passkeyd.SessionFromContext(r.Context()); sess != nil && st.Kind != passkeyd.CeremonyAuthentication {
		st.SessionID = sess.ID
	}
	sealed, err := sc.seal(st, sd)
	if err != nil {
		return err
	}
	// Its own cookie, gone when the ceremony expires.
	sc.cookies.set(w, sc.cookieName(stateTag(st.Challenge)), sealed, sc.timeout)

	// Beside it the browser keeps its newest maxCeremonies-1 others; the
	// older, and any that expired or are not ours, are deleted. (Browsers
	// drop expired cookies themselves; this bounds a page reloaded again
	// and again within a challenge's lifetime.)
	type held struct {
		name    string
		expires int64
	}
	var others []held
	for _, c := range sc.held(r) {
		expires, ok := stateExpiry(c.Value)
		if !ok || now.UnixMilli() >= expires {
			sc.cookies.set(w, c.Name, "", -1)
			continue
		}
		others = append(others, held{c.Name, expires})
	}
	slices.SortFunc(others, func(a, b held) int { return cmp.Compare(b.expires, a.expires) }) // newest first
	for _, o := range others[min(len(others), maxCeremonies-1):] {
		sc.cookies.set(w, o.name, "", -1)
	}
	return nil
}

var errNoCeremony = passkeyd.ErrChallengeUsed

// end deletes the cookie of a ceremony that completed. Its challenge is
// spent; left in place, the browser would send it with every request
// until it expired (with the other ceremonies', several KB).
func (sc *stateCookies) end(w http.ResponseWriter, st *sealedState) {
	sc.cookies.set(w, sc.cookieName(stateTag(st.Challenge)), "", -1)
}

// errCeremonySession: a registration begun in one login session is being
// finished in another, or signed out.
var errCeremonySession = passkeyd.Errorf(passkeyd.EUNAUTHORIZED,
	"You were signed out before the passkey was saved. Please sign in and try again.")

// finish finds the ceremony the response answers among the browser's:
// one of this kind, for this challenge, not expired, and for a
// registration begun in a session, finished in that same session. It
// returns the record that makes it single-use, for the completing
// transaction. Anything else is one error, so probes learn nothing. The
// cookie stays until the ceremony completes (end): a failed attempt can
// be answered again, and a replay of it fails on the used-challenge
// record.
func (sc *stateCookies) finish(r *http.Request, kind passkeyd.CeremonyKind, clientChallenge string) (*sealedState, *webauthn.SessionData, passkeyd.UsedChallenge, error) {
	var st *sealedState
	if clientChallenge != "" {
		if c, err := r.Cookie(sc.cookieName(stateTag(clientChallenge))); err == nil {
			if o := sc.open(c.Value); o != nil && o.Challenge == clientChallenge {
				st = o
			}
		}
	}
	if st == nil || st.Kind != kind || sc.now().UnixMilli() >= st.ExpiresAt {
		return nil, nil, passkeyd.UsedChallenge{}, errNoCeremony
	}
	if st.SessionID != "" {
		if sess := passkeyd.SessionFromContext(r.Context()); sess == nil || sess.ID != st.SessionID {
			return nil, nil, passkeyd.UsedChallenge{}, errCeremonySession
		}
	}
	if st.SessionData == nil {
		// Sealed by us; without it only after a library upgrade changed the format.
		return nil, nil, passkeyd.UsedChallenge{}, passkeyd.Errorf(passkeyd.EINVALID, "This passkey request can no longer be completed. Please start again.")
	}
	used := passkeyd.UsedChallenge{
		ID:        usedChallengeID(st.ExpiresAt, sc.key.Sum("challenge", st.Challenge)),
		ExpiresAt: time.UnixMilli(st.ExpiresAt).Add(sc.requestTimeout + usedChallengeGrace),
	}
	return st, st.SessionData, used, nil
}
