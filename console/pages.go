package console

import (
	"net/http"

	"github.com/passkeyd/passkeyd"
)

// Page is what every console page gives web template "admin" (as .Data).
// The page's script reads Section and ID (data-section, data-id on
// #console) and fills the page from the JSON API.
type Page struct {
	// Section is one of "overview", "people", "person", "apps", "app",
	// "new-app", "groups", "group", "audit", "api-keys", "setup"; for an
	// error page "signed-out" (401), "forbidden" (403) or "not-found".
	Section string
	ID      string // the person's, app's or group's ID on a detail page
	Admin   string // who is signed in: the administrator's email (or "API key NAME")
	Token   string // setup: the link's token, which the page posts
	Heading string
}

// pageFunc is the one shape of the console's page handlers: it returns
// the page to render, or an error for page to answer with an error page.
type pageFunc func(w http.ResponseWriter, r *http.Request, who *caller) (*Page, error)

// page adapts a pageFunc behind access ("" for none), rendering web
// template "admin".
func (c *Console) page(access Access, fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var who *caller
		var err error
		if access != "" {
			who, err = c.authorize(r, access)
		}
		if access == Setup && passkeyd.ErrorCode(err) == passkeyd.EUNAUTHORIZED {
			// Whoever opens the setup link signed out gets its page,
			// which signs them in first (the link's token stays in it).
			c.render(w, r, http.StatusUnauthorized, &Page{Section: "setup", Token: r.URL.Query().Get("token"),
				Heading: "Sign in to become the administrator"})
			return
		}
		var p *Page
		if err == nil {
			p, err = fn(w, r, who)
		}
		if err != nil {
			c.errorPage(w, r, err)
			return
		}
		if who != nil {
			p.Admin = who.adminName()
		}
		c.render(w, r, http.StatusOK, p)
	})
}

// section returns the handler of a page whose script does the rest.
func (c *Console) section(name, heading string) pageFunc {
	return func(_ http.ResponseWriter, r *http.Request, _ *caller) (*Page, error) {
		return &Page{Section: name, ID: r.PathValue("id"), Heading: heading}, nil
	}
}

// setupPage is the page the setup link opens, signed in (see page for
// signed out): a button claims it (POST /api/admin/setup).
func (c *Console) setupPage(_ http.ResponseWriter, r *http.Request, _ *caller) (*Page, error) {
	return &Page{Section: "setup", Token: r.URL.Query().Get("token"), Heading: "Become the administrator"}, nil
}

// errorPage answers a page's error with the console's page saying what
// went wrong, with the status the JSON API would answer.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	c.logError(r, err)
	p := &Page{Heading: passkeyd.ErrorMessage(err)}
	switch passkeyd.ErrorCode(err) {
	case passkeyd.EUNAUTHORIZED:
		p.Section, p.Heading = "signed-out", "Sign in first: the console is for administrators."
	case passkeyd.EFORBIDDEN:
		p.Section, p.Heading = "forbidden", "You are not an administrator."
	case passkeyd.ENOTFOUND:
		p.Section = "not-found"
	}
	c.render(w, r, passkeyd.HTTPStatus(err), p)
}

// render writes web template "admin". A template that fails is a bug:
// logged, and a bare 500.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, p *Page) {
	if err := c.pages.Render(w, r, status, "admin", p); err != nil {
		c.log.ErrorContext(r.Context(), "console page", "section", p.Section, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
	}
}
