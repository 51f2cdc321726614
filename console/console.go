// Package console is the administrator's console: pages under /admin and
// the JSON API under /api/admin that they (and scripts, with API keys)
// call, to manage people, apps, groups and API keys and to read the audit
// log.
//
// It imports neither web nor oidc: it declares what it needs of the
// sign-in side (Deps.Pages, Deps.Users), and cmd/passkeyd builds it beside
// the web handler and mounts its Handler there, as it does the OpenID
// Connect provider. Routes is the one table of its routes, each with who
// may call it (Access); the handler is built from it.
package console

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/emailtext"
	"github.com/passkeyd/passkeyd/internal/emailtoken"
)

// Config is the console's configuration. cmd/passkeyd fills it from the web
// handler's (web.Config).
type Config struct {
	// PublicURL is the address of passkeyd's pages, without a trailing
	// slash: the setup link, emailed recovery links and the discovery URL
	// shown for apps start with it (and it is the OpenID Connect issuer).
	PublicURL string
	// Secret is web's secret: links' tokens are stored under its keyed
	// hash, as web stores them, so web's pages open them.
	Secret []byte
	// StepUpWindow: destructive calls (Access StepUp) need a passkey
	// verification at most this old.
	StepUpWindow time.Duration
	// RecoveryLinkTTL is how long an emailed recovery link works.
	RecoveryLinkTTL time.Duration
	// SiteName names the site in email (web's RPName).
	SiteName string
	// ConnectedApps: an OpenID Connect provider is mounted beside, so
	// recovery email says that apps are disconnected too.
	ConnectedApps bool
	// Now is the clock; nil for time.Now.
	Now func() time.Time
}

// Store is what the console reads and changes: accounts, apps and what
// only the console keeps. The sqlite and postgres stores are all three.
type Store interface {
	passkeyd.Store
	passkeyd.OIDCStore
	passkeyd.ConsoleStore
}

// Pages renders the console's pages in passkeyd's layout
// (web.Server.Render, with web/templates/admin.html and a *Page).
type Pages interface {
	Render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error
}

// Users tells who is signed in: passkeyd's web handler, which the
// console's Handler is mounted in (web.Server.SignedIn).
type Users interface {
	// SignedIn returns the signed-in user of r and their session, or nils.
	SignedIn(r *http.Request) (*passkeyd.User, *passkeyd.Session)
}

// Deps are the console's collaborators. cmd/passkeyd passes its web
// handler as Pages and Users.
type Deps struct {
	Store  Store           // required
	Pages  Pages           // required
	Users  Users           // required
	Mailer passkeyd.Mailer // recovery links; nil: they cannot be sent (503)
	Log    *slog.Logger    // nil discards logs
	// ClientIP is a request's client address as the security log shows it
	// (web.ClientIP: behind trusted proxies, the client's); nil for the
	// connection's peer.
	ClientIP func(r *http.Request) string
}

// Console serves the administrator's console.
type Console struct {
	cfg     Config
	store   Store
	pages   Pages
	users   Users
	ip      func(*http.Request) string
	mailer  passkeyd.Mailer
	log     *slog.Logger
	tokens  *emailtoken.Tokens
	texts   *emailtext.Texts
	routes  []route
	handler http.Handler
}

// New returns a console. It does not touch the database.
func New(cfg Config, deps Deps) (*Console, error) {
	if deps.Store == nil || deps.Pages == nil || deps.Users == nil {
		return nil, errors.New("console: Deps.Store, Pages and Users are required")
	}
	if cfg.PublicURL == "" || len(cfg.Secret) == 0 {
		return nil, errors.New("console: Config.PublicURL and Secret are required")
	}
	if cfg.StepUpWindow <= 0 || cfg.RecoveryLinkTTL <= 0 {
		return nil, errors.New("console: Config.StepUpWindow and RecoveryLinkTTL must be positive")
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if deps.ClientIP == nil {
		deps.ClientIP = func(r *http.Request) string {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				return r.RemoteAddr
			}
			return host
		}
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	texts, err := emailtext.Load()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, store: deps.Store, pages: deps.Pages, users: deps.Users, ip: deps.ClientIP, mailer: deps.Mailer, log: deps.Log,
		tokens: emailtoken.New(deps.Store, cfg.Secret, cfg.PublicURL, cfg.Now), texts: texts}
	c.routes = c.table()
	mux := http.NewServeMux()
	for _, rt := range c.routes {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.handler)
	}
	// Anything else under the console's prefixes: not found, as a page or
	// as JSON (a mistyped path is no reason to ask who is calling).
	mux.Handle("/admin/", c.page(Access(""), func(http.ResponseWriter, *http.Request, *caller) (*Page, error) {
		return nil, passkeyd.Errorf(passkeyd.ENOTFOUND, "There is no such page in the console.")
	}))
	mux.Handle("/api/admin/", c.api(Access(""), func(http.ResponseWriter, *http.Request, *caller) error {
		return passkeyd.Errorf(passkeyd.ENOTFOUND, "No such route: see the Console API in the README.")
	}))
	c.handler = mux
	return c, nil
}

// Handler serves /admin, /admin/... and /api/admin/... (with the mount
// prefix stripped). Mount it in passkeyd's web handler, which loads the
// session of the request (Users.SignedIn).
func (c *Console) Handler() http.Handler { return c.handler }

// Routes returns the console's route table: every page and API route,
// with its method, pattern and access. The handler is built from it.
func (c *Console) Routes() []Route {
	out := make([]Route, len(c.routes))
	for i, rt := range c.routes {
		out[i] = rt.Route
	}
	return out
}

// setupLinkTTL is how long the setup link printed at start works.
const setupLinkTTL = time.Hour

// SetupLink returns "" when an enabled administrator exists; otherwise a
// new link, valid for an hour, that makes whoever opens it, signed in with
// a passkey, the first administrator. A new link ends the one before.
func (c *Console) SetupLink(ctx context.Context) (string, error) {
	n, err := c.store.CountAdmins(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	secret, err := c.tokens.Issue(ctx, passkeyd.TokenAdminSetup, "", "", setupLinkTTL)
	if err != nil {
		return "", err
	}
	return c.tokens.Link(passkeyd.TokenAdminSetup, secret), nil
}

func (c *Console) now() time.Time { return c.cfg.Now() }
