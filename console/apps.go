package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/httpjson"
	"github.com/passkeyd/passkeyd/oidc"
)

// appJSON is an app (an OpenID Connect client) as the API shows it.
// Lifetimes are Go durations ("10m", "1h"), "" for the provider's default.
type appJSON struct {
	ID                     string     `json:"id"`
	Name                   string     `json:"name"`
	Public                 bool       `json:"public"`
	RedirectURIs           []string   `json:"redirectUris"`
	PostLogoutRedirectURIs []string   `json:"postLogoutRedirectUris"`
	Scopes                 []string   `json:"scopes"`
	IDTokenAlg             string     `json:"idTokenAlg"`
	AccessTokenTTL         string     `json:"accessTokenTtl"`
	IDTokenTTL             string     `json:"idTokenTtl"`
	RefreshTokenTTL        string     `json:"refreshTokenTtl"`
	Trusted                bool       `json:"trusted"`
	AllowedUsers           []string   `json:"allowedUsers"`
	AllowedGroups          []string   `json:"allowedGroups"`
	AllowUnverifiedEmail   bool       `json:"allowUnverifiedEmail"`
	Declared               bool       `json:"declared"`
	CreatedAt              time.Time  `json:"createdAt"`
	LastUsedAt             *time.Time `json:"lastUsedAt,omitempty"`
}

func toApp(c *passkeyd.OIDCClient) appJSON {
	return appJSON{ID: c.ID, Name: c.Name, Public: c.Public, RedirectURIs: nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs), Scopes: nonNil(c.Scopes), IDTokenAlg: c.IDTokenAlg,
		AccessTokenTTL: formatTTL(c.AccessTokenTTL), IDTokenTTL: formatTTL(c.IDTokenTTL), RefreshTokenTTL: formatTTL(c.RefreshTokenTTL),
		Trusted: c.Trusted, AllowedUsers: nonNil(c.AllowedUsers), AllowedGroups: nonNil(c.AllowedGroups),
		AllowUnverifiedEmail: c.AllowUnverifiedEmail, Declared: c.Declared, CreatedAt: c.CreatedAt, LastUsedAt: optionalTime(c.LastUsedAt)}
}

// formatTTL writes a lifetime as people write it: "10m", "1h", "1h30m";
// "" for 0 (the default).
func formatTTL(d time.Duration) string {
	if d == 0 {
		return ""
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// appInput is what creating or updating an app sends: the settings of
// `passkeyd clients add` (the same names as appJSON's).
type appInput struct {
	ID                     string   `json:"id"` // create: a fixed client ID (default: a random one); update: the app's or none
	Name                   string   `json:"name"`
	Public                 *bool    `json:"public"` // chosen at creation
	RedirectURIs           []string `json:"redirectUris"`
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris"`
	Scopes                 []string `json:"scopes"`
	IDTokenAlg             string   `json:"idTokenAlg"`
	AccessTokenTTL         string   `json:"accessTokenTtl"`
	IDTokenTTL             string   `json:"idTokenTtl"`
	RefreshTokenTTL        string   `json:"refreshTokenTtl"`
	Trusted                bool     `json:"trusted"`
	AllowedUsers           []string `json:"allowedUsers"`
	AllowedGroups          []string `json:"allowedGroups"`
	AllowUnverifiedEmail   bool     `json:"allowUnverifiedEmail"`
}

// apply sets every setting of in on c (an update replaces them all, as
// PUT does); the lifetimes are parsed here, the rest is checked by
// oidc.ValidateClient, as for the CLI.
func (in *appInput) apply(c *passkeyd.OIDCClient) error {
	c.Name = strings.TrimSpace(in.Name)
	c.RedirectURIs = in.RedirectURIs
	c.PostLogoutRedirectURIs = in.PostLogoutRedirectURIs
	c.Scopes = in.Scopes
	c.IDTokenAlg = in.IDTokenAlg
	for _, ttl := range []struct {
		field string
		in    string
		out   *time.Duration
	}{{"accessTokenTtl", in.AccessTokenTTL, &c.AccessTokenTTL}, {"idTokenTtl", in.IDTokenTTL, &c.IDTokenTTL}, {"refreshTokenTtl", in.RefreshTokenTTL, &c.RefreshTokenTTL}} {
		*ttl.out = 0
		if ttl.in == "" {
			continue
		}
		d, err := time.ParseDuration(ttl.in)
		if err != nil {
			return passkeyd.Errorf(passkeyd.EINVALID, "%s: a duration like 10m or 1h, or empty for the default.", ttl.field)
		}
		*ttl.out = d
	}
	c.Trusted = in.Trusted
	c.AllowedUsers = in.AllowedUsers
	c.AllowedGroups = nil
	for _, g := range in.AllowedGroups {
		name, err := passkeyd.ValidateGroupName(g)
		if err != nil {
			return err
		}
		c.AllowedGroups = append(c.AllowedGroups, name)
	}
	c.AllowUnverifiedEmail = in.AllowUnverifiedEmail
	return oidc.ValidateClient(c)
}

// app finds the app of the request's {id}.
func (c *Console) app(r *http.Request) (*passkeyd.OIDCClient, error) {
	return c.store.FindOIDCClient(r.Context(), r.PathValue("id"))
}

// errDeclared refuses to change an app OIDC_CLIENTS_FILE declares: the
// file is applied at every start, and would undo the change.
func errDeclared(app *passkeyd.OIDCClient) error {
	return passkeyd.Errorf(passkeyd.ECONFLICT, "%s is declared in OIDC_CLIENTS_FILE: change it there (the file is applied at every start).", app.Name)
}

// appEvent is the event of a change to an app, which the store records
// with the change, in the same transaction.
func (c *Console) appEvent(r *http.Request, who *caller, app *passkeyd.OIDCClient, typ, detail string) *passkeyd.Event {
	ev := c.event(r, who, "", typ, detail)
	ev.ClientID = app.ID
	return ev
}

func (c *Console) handleApps(w http.ResponseWriter, r *http.Request, _ *caller) error {
	list, err := c.store.ListOIDCClients(r.Context())
	if err != nil {
		return err
	}
	res := struct {
		Apps []appJSON `json:"apps"`
	}{Apps: []appJSON{}}
	for _, a := range list {
		res.Apps = append(res.Apps, toApp(a))
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

func (c *Console) handleApp(w http.ResponseWriter, r *http.Request, _ *caller) error {
	app, err := c.app(r)
	if err != nil {
		return err
	}
	issuer := c.cfg.PublicURL
	httpjson.Write(w, http.StatusOK, struct {
		App          appJSON      `json:"app"`
		DiscoveryURL string       `json:"discoveryUrl"`
		Issuer       string       `json:"issuer"`
		Settings     []AppSetting `json:"settings"`
	}{toApp(app), issuer + "/.well-known/openid-configuration", issuer, AppSettings(issuer, app)})
	return nil
}

func (c *Console) handleCreateApp(w http.ResponseWriter, r *http.Request, who *caller) error {
	var in appInput
	if err := httpjson.DecodeStrict(w, r, &in); err != nil {
		return err
	}
	now := c.now()
	app := &passkeyd.OIDCClient{ID: strings.TrimSpace(in.ID), Public: in.Public != nil && *in.Public, CreatedAt: now, UpdatedAt: now}
	if app.ID == "" {
		app.ID = oidc.NewClientID()
	}
	var secret string
	if !app.Public {
		secret, app.SecretHash = oidc.NewSecret()
	}
	if err := in.apply(app); err != nil {
		return err
	}
	if err := c.store.CreateOIDCClient(r.Context(), app, c.appEvent(r, who, app, passkeyd.EventAppCreated, "app "+app.Name+" created")); err != nil {
		if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
			return passkeyd.Errorf(passkeyd.ECONFLICT, "An app with client ID %s exists already.", app.ID)
		}
		return err
	}
	httpjson.Write(w, http.StatusCreated, struct {
		App    appJSON `json:"app"`
		Secret string  `json:"secret,omitempty"` // shown once: only its hash is stored
	}{toApp(app), secret})
	return nil
}

func (c *Console) handleUpdateApp(w http.ResponseWriter, r *http.Request, who *caller) error {
	var in appInput
	if err := httpjson.DecodeStrict(w, r, &in); err != nil {
		return err
	}
	app, err := c.app(r)
	if err != nil {
		return err
	}
	if app.Declared {
		return errDeclared(app)
	}
	if in.ID != "" && in.ID != app.ID {
		return passkeyd.Errorf(passkeyd.EINVALID, "A client ID cannot change: create another app.")
	}
	if in.Public != nil && *in.Public != app.Public {
		return passkeyd.Errorf(passkeyd.EINVALID, "Public or confidential is chosen when an app is created: create another app to change it.")
	}
	if err := in.apply(app); err != nil {
		return err
	}
	app.UpdatedAt = c.now()
	if err := c.store.SaveOIDCClient(r.Context(), app, c.appEvent(r, who, app, passkeyd.EventAppUpdated, "app "+app.Name+" updated")); err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, struct {
		App appJSON `json:"app"`
	}{toApp(app)})
	return nil
}

// handleRotateSecret gives a confidential app a new secret, as `passkeyd
// clients rotate-secret` does: the old one stops working, and the app's
// tokens end for every user.
func (c *Console) handleRotateSecret(w http.ResponseWriter, r *http.Request, who *caller) error {
	app, err := c.app(r)
	if err != nil {
		return err
	}
	if app.Declared {
		return errDeclared(app)
	}
	if app.Public {
		return passkeyd.Errorf(passkeyd.ECONFLICT, "%s is a public app: it has no secret.", app.Name)
	}
	var secret string
	secret, app.SecretHash = oidc.NewSecret()
	app.UpdatedAt = c.now()
	if err := c.store.SaveOIDCClient(r.Context(), app, c.appEvent(r, who, app, passkeyd.EventAppSecretRotated, "secret of "+app.Name+" rotated")); err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, struct {
		Secret string `json:"secret"`
	}{secret})
	return nil
}

func (c *Console) handleDeleteApp(w http.ResponseWriter, r *http.Request, who *caller) error {
	app, err := c.app(r)
	if err != nil {
		return err
	}
	if app.Declared {
		return errDeclared(app)
	}
	if err := c.store.DeleteOIDCClient(r.Context(), app.ID, c.appEvent(r, who, app, passkeyd.EventAppDeleted, "app "+app.Name+" deleted")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
