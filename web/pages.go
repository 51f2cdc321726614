package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/aaguid"
)

//go:embed templates/*.html static/*
var assets embed.FS

// pages holds the parsed templates and the static files under their
// content-hashed names, all built once at start so a broken template fails
// New, not a request.
type pages struct {
	base      string // Config.BasePath
	site      string // Config.RPName
	templates map[string]*template.Template
	static    map[string]staticFile // by hashed name
	urls      map[string]string     // plain name → URL
}

type staticFile struct {
	body        []byte
	contentType string
}

func loadPages(base, site string) (*pages, error) {
	p := &pages{base: base, site: site, templates: map[string]*template.Template{}, static: map[string]staticFile{}, urls: map[string]string{}}
	entries, err := fs.ReadDir(assets, "static")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		body, err := assets.ReadFile("static/" + e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(e.Name())
		hashed := strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:6]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		p.static[hashed] = staticFile{body: body, contentType: ct}
		p.urls[e.Name()] = base + "/static/" + hashed
	}
	// {{static "home.js"}} in a template is the file's hashed URL, so each
	// page names the scripts it needs.
	funcs := template.FuncMap{"static": func(name string) (string, error) {
		u, ok := p.urls[name]
		if !ok {
			return "", fmt.Errorf("no static file %q", name)
		}
		return u, nil
	}}
	for _, name := range []string{"home", "dashboard", "recover", "link", "oidc-signin", "oidc-consent", "oidc-error", "oidc-confirm-email", "oidc-signout", "admin"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		p.templates[name] = t
	}
	return p, nil
}

// handleStatic serves embedded files. Their names change with their
// content, so they may be cached for a year.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) error {
	f, ok := s.pages.static[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return nil
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
	return nil
}

// page is what every template gets.
type page struct {
	Title    string
	RPName   string
	Base     string
	User     *userView
	Passkeys []passkeyView
	// Dashboard: whether the address is confirmed and how many unused
	// recovery codes are left.
	EmailVerified bool
	RecoveryCodes int
	// Action tells the link page what its token is for: "recover",
	// "verify-email", "confirm-email" or "sign-up".
	Action string
	// Recovery: the browser holds a recovery session (may add a passkey).
	Recovery bool
	// SignUpByEmail: the start page's sign-up asks for the address and
	// emails a link (SignUpEmailFirst), instead of registering at once.
	SignUpByEmail bool
	// AccountCreated: the verify-email link's account creation date (zero
	// if the link carries none), so its page can say "confirm only if you
	// created this account on ...".
	AccountCreated time.Time
	// Notice: a message for a visitor sent here by another page (from
	// notices, by the ?notice= key).
	Notice string
	// ConnectedApps: an OpenID Connect provider is mounted beside; the
	// dashboard lists the apps the user allowed.
	ConnectedApps bool
	// ConsoleURL: the administrator's console, on an administrator's
	// dashboard when one is mounted (Config.Console); "" otherwise.
	ConsoleURL string
	// Data: what the page of a handler mounted in the Server shows (the
	// OpenID Connect provider's oidc-* pages: oidc.Page), given to Render.
	Data any
}

// notices are the messages a page may show by the ?notice= of its address;
// only these, so a crafted link cannot put words on our page.
var notices = map[string]string{
	"passkey-deleted": "You deleted the passkey this browser signed in with, so it was signed out. Sign in with another passkey.",
}

type userView struct {
	ID, Email             string
	DisplayName, Username string // "" when unset
	CreatedAt             time.Time
}

type passkeyView struct {
	ID, Name, Provider    string
	CreatedAt, LastUsedAt time.Time
	Synced                bool
	BackupEligible        bool
	CloneWarning          bool
	Transports            []string
}

// render writes a page with status. A template that fails is a bug,
// answered (and logged) like every internal error; nothing of the page is
// sent.
func (p *pages) render(w http.ResponseWriter, name string, status int, data page) error {
	data.RPName = p.site
	data.Base = p.base
	var buf bytes.Buffer
	if err := p.templates[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render page %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
	return nil
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) error {
	if _, _, err := signedIn(r); err == nil {
		http.Redirect(w, r, s.cfg.BasePath+"/dashboard", http.StatusSeeOther)
		return nil
	}
	return s.pages.render(w, "home", http.StatusOK, page{Title: "Sign in", SignUpByEmail: s.cfg.SignUpMode == SignUpEmailFirst,
		Notice: notices[r.URL.Query().Get("notice")]})
}

// handleDashboard is mounted behind RequireUser (routes.go).
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) error {
	u := passkeyd.UserFromContext(r.Context())
	creds, err := s.store.ListCredentials(r.Context(), u.ID)
	if err != nil {
		return err
	}
	codes, err := s.store.CountRecoveryCodes(r.Context(), u.ID)
	if err != nil {
		return err
	}
	data := page{Title: "Your account", User: &userView{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Username: u.Username, CreatedAt: u.CreatedAt},
		EmailVerified: !u.EmailVerifiedAt.IsZero(), RecoveryCodes: codes, ConnectedApps: s.apps != nil}
	if s.admins != nil {
		admin, err := s.admins.IsAdmin(r.Context(), u.ID)
		if err != nil {
			return err
		}
		if admin {
			data.ConsoleURL = s.cfg.BasePath + "/admin"
		}
	}
	for _, c := range creds {
		data.Passkeys = append(data.Passkeys, passkeyView{
			ID: c.ID, Name: c.Name, Provider: providerName(c),
			CreatedAt: c.CreatedAt, LastUsedAt: c.LastUsedAt,
			Synced: c.BackupState, BackupEligible: c.BackupEligible, CloneWarning: c.CloneWarning,
			Transports: c.Transports,
		})
	}
	return s.pages.render(w, "dashboard", http.StatusOK, data)
}

// handlePage serves a page that needs no data but who is signed in; its
// script does the rest through the API.
func (s *Server) handlePage(name, title, action string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		data := page{Title: title, Action: action}
		if created, err := time.Parse(dateParam, r.URL.Query().Get("created")); err == nil {
			data.AccountCreated = created
		}
		if u, sess := passkeyd.UserFromContext(r.Context()), passkeyd.SessionFromContext(r.Context()); u != nil {
			data.User = &userView{ID: u.ID, Email: u.Email, CreatedAt: u.CreatedAt}
			data.Recovery = sess.Scope == passkeyd.ScopeRecovery
		}
		return s.pages.render(w, name, http.StatusOK, data)
	}
}

// providerName names who keeps the passkey, from its AAGUID or, when the
// provider hides it, from how it is reached.
func providerName(c *passkeyd.Credential) string {
	return aaguid.Describe(c.AAGUID, aaguid.Hint{Transports: c.Transports, Attachment: c.Attachment, BackupEligible: c.BackupEligible})
}
