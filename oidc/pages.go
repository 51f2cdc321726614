package oidc

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed templates/*.html static/*
var assets embed.FS

// pages are the provider's own pages: sign-in, consent and errors. They
// stand alone (no script or style inline, so passkeyd's strict
// Content-Security-Policy holds), and use passkeyd's JSON API to sign in.
type pages struct {
	templates map[string]*template.Template
	static    map[string][]byte // by hashed name
	urls      map[string]string // plain name → path below the issuer
}

func loadPages() (*pages, error) {
	p := &pages{templates: map[string]*template.Template{}, static: map[string][]byte{}, urls: map[string]string{}}
	for _, name := range []string{"signin.js", "oidc.css"} {
		body, err := assets.ReadFile("static/" + name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		p.static[hashed] = body
		p.urls[name] = "/oidc/static/" + hashed
	}
	funcs := template.FuncMap{"static": func(name string) string { return p.urls[name] }}
	for _, name := range []string{"signin", "consent", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		p.templates[name] = t
	}
	return p, nil
}

func (p *pages) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	var buf bytes.Buffer
	if err := p.templates[name].Execute(&buf, data); err != nil {
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// handleStatic serves the pages' script and style under content-hashed
// names, cacheable for a year.
func (p *pages) handleStatic() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		body, ok := p.static[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Write(body)
	})
}
