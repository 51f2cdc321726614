package console

import (
	"net/url"
	"slices"
	"strings"

	"github.com/passkeyd/passkeyd"
)

// AppSetting is how to configure one common app to sign in with passkeyd
// as a given client: the README's App settings table, with the client's
// values filled in. The console shows them on an app's page.
type AppSetting struct {
	Name  string   `json:"name"`
	Lines []string `json:"lines"`
}

// secretPlaceholder stands for the client secret, which passkeyd shows
// once and keeps only the hash of.
const secretPlaceholder = "SECRET"

// AppSettings returns the settings of Grafana, Gitea/Forgejo, Nextcloud,
// oauth2-proxy and Auth.js for app, with passkeyd at issuer (PUBLIC_URL).
// Scopes are the app's own, less offline_access where the app does not
// refresh; oauth2-proxy is given the app's allowed groups, which it then
// checks too. (Mapping groups to roles is the README's: it names groups.)
func AppSettings(issuer string, app *passkeyd.OIDCClient) []AppSetting {
	discovery := issuer + "/.well-known/openid-configuration"
	secret := secretPlaceholder
	if app.Public {
		secret = "(none: a public app)"
	}
	scopes := strings.Join(app.Scopes, " ")
	without := func(drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(app.Scopes), func(s string) bool { return slices.Contains(drop, s) })
	}
	redirect := "REDIRECT_URI"
	if len(app.RedirectURIs) > 0 {
		redirect = app.RedirectURIs[0]
	}

	grafana := []string{
		"[auth.generic_oauth]",
		"enabled = true",
		"name = passkeyd",
		"client_id = " + app.ID,
		"client_secret = " + secret,
		"scopes = " + scopes,
		"auth_url = " + issuer + "/oidc/authorize",
		"token_url = " + issuer + "/oidc/token",
		"api_url = " + issuer + "/oidc/userinfo",
		"use_pkce = true",
		"use_refresh_token = " + yes(slices.Contains(app.Scopes, "offline_access")),
		"email_attribute_path = email",
		"login_attribute_path = preferred_username",
		"name_attribute_path = name",
	}
	if slices.Contains(app.Scopes, "groups") {
		grafana = append(grafana, "groups_attribute_path = groups")
	}
	if len(app.PostLogoutRedirectURIs) > 0 {
		grafana = append(grafana, "signout_redirect_url = "+issuer+"/oidc/end_session?client_id="+url.QueryEscape(app.ID)+
			"&post_logout_redirect_uri="+url.QueryEscape(app.PostLogoutRedirectURIs[0]))
	}

	gitea := []string{
		"gitea admin auth add-oauth --name passkeyd --provider openidConnect --key " + app.ID + " --secret " + secret +
			" --auto-discover-url " + discovery + " --scopes " + strings.Join(without("openid", "offline_access"), ","),
	}

	nextcloud := []string{
		"occ user_oidc:provider passkeyd --clientid=" + app.ID + " --clientsecret=" + secret + " --discoveryuri=" + discovery +
			` --scope="` + strings.Join(without("offline_access"), " ") + `" --mapping-uid=sub --mapping-email=email --mapping-display-name=name`,
	}

	proxy := []string{
		"--provider=oidc",
		"--oidc-issuer-url=" + issuer,
		"--client-id=" + app.ID,
		"--client-secret=" + secret,
		"--redirect-url=" + redirect,
		"--code-challenge-method=S256",
		"--email-domain=*",
	}
	if slices.Contains(app.Scopes, "groups") { // oauth2-proxy asks for openid email profile otherwise
		proxy = append(proxy, `--scope="`+strings.Join(without("offline_access"), " ")+`"`)
	}
	for _, g := range app.AllowedGroups {
		proxy = append(proxy, "--allowed-group="+g)
	}

	authjs := []string{
		`{ id: "passkeyd", name: "passkeyd", type: "oauth",`,
		`  wellKnown: "` + discovery + `",`,
		`  authorization: { params: { scope: "` + strings.Join(without("offline_access"), " ") + `" } },`,
		`  clientId: "` + app.ID + `", clientSecret: process.env.PASSKEYD_CLIENT_SECRET,`,
		`  checks: ["pkce", "state"], idToken: true,`,
		`  profile: (claims) => ({ id: claims.sub, email: claims.email, name: claims.name ?? claims.preferred_username ?? null }) }`,
	}

	return []AppSetting{
		{"Grafana (grafana.ini)", grafana},
		{"Gitea / Forgejo", gitea},
		{"Nextcloud (user_oidc)", nextcloud},
		{"oauth2-proxy", proxy},
		{"Auth.js (next-auth v4)", authjs},
	}
}

func yes(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
