// Package emailtoken mints and takes the single-use tokens of emailed
// links (recovery, address confirmation, sign-up, ...). The web package
// uses it for the links it emails, and `passkeyd users recovery-link` for
// the link an operator hands over, so both store the same tokens the same
// way without the command building a web server.
package emailtoken

import (
	"context"
	"net/url"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/keyedhash"
)

// Store is what Tokens needs of a passkeyd.Store.
type Store interface {
	SaveToken(ctx context.Context, t *passkeyd.Token) error
	TakeToken(ctx context.Context, id string, purpose passkeyd.TokenPurpose, now time.Time) (*passkeyd.Token, error)
}

// Tokens mints and takes emailed tokens, stored under their keyed hash.
type Tokens struct {
	store     Store
	key       keyedhash.Key
	publicURL string
	now       func() time.Time
}

// New returns Tokens that store into store, hash under secret (the server
// secret), and make links to pages under publicURL.
func New(store Store, secret []byte, publicURL string, now func() time.Time) *Tokens {
	return &Tokens{store: store, key: secret, publicURL: publicURL, now: now}
}

// maxLen bounds a token a client sends: ours are 43 characters.
const maxLen = 100

// Issue stores a new single-use token for purpose, valid for ttl, and
// returns its secret for the link. userID is "" for a sign-up (the account
// does not exist yet); email is the address the link is for.
func (t *Tokens) Issue(ctx context.Context, purpose passkeyd.TokenPurpose, userID, email string, ttl time.Duration) (string, error) {
	secret := keyedhash.NewToken()
	now := t.now()
	tok := &passkeyd.Token{ID: t.ID(purpose, secret), UserID: userID, Purpose: purpose, Email: email,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	return secret, t.store.SaveToken(ctx, tok)
}

// ID returns the ID under which the token with this secret is stored.
func (t *Tokens) ID(purpose passkeyd.TokenPurpose, secret string) string {
	return t.key.Sum("token:"+string(purpose), secret)
}

// Valid reports whether a secret a client sent can be one of ours at all.
func Valid(secret string) bool {
	return secret != "" && len(secret) <= maxLen
}

// Take consumes the token with this secret: ENOTFOUND when there is none
// of this purpose that has not expired.
func (t *Tokens) Take(ctx context.Context, purpose passkeyd.TokenPurpose, secret string) (*passkeyd.Token, error) {
	if !Valid(secret) {
		return nil, passkeyd.Errorf(passkeyd.ENOTFOUND, "No such token.")
	}
	return t.store.TakeToken(ctx, t.ID(purpose, secret), purpose, t.now())
}

// pages are the pages that open each kind of link (web/routes.go, and
// the console's routes).
var pages = map[passkeyd.TokenPurpose]string{
	passkeyd.TokenRecovery:          "/recover/email",
	passkeyd.TokenTakeover:          "/recover/takeover",
	passkeyd.TokenVerifyEmail:       "/verify-email",
	passkeyd.TokenChangeEmail:       "/confirm-email",
	passkeyd.TokenCancelEmailChange: "/cancel-email-change",
	passkeyd.TokenSignUp:            "/signup",
	passkeyd.TokenAdminSetup:        "/admin/setup", // package console
}

// Link is the absolute address of the page that opens a token of purpose.
func (t *Tokens) Link(purpose passkeyd.TokenPurpose, secret string) string {
	return t.publicURL + pages[purpose] + "?token=" + url.QueryEscape(secret)
}

// RecoveryPurpose is the kind of link that lets u back in: a recovery
// link (TokenRecovery) when u's address is confirmed, a takeover link
// (TokenTakeover) when it never was: whoever signed up may have used
// someone else's address, and its owner must get the account without
// that person's passkeys. The console and `passkeyd users recovery-link`
// choose by it, as "Lost your passkey?" does.
func RecoveryPurpose(u *passkeyd.User) passkeyd.TokenPurpose {
	if u.EmailVerifiedAt.IsZero() {
		return passkeyd.TokenTakeover
	}
	return passkeyd.TokenRecovery
}
