// Command mount shows passkeyd inside another Go web application: the
// passkey pages and API under /auth/, and an app route that only signed-in
// users reach.
//
//	go run ./examples/mount
//	open http://localhost:3000/auth/   (sign up, sign in)
//	open http://localhost:3000/app/    (your own page, signed in only)
package main

import (
	"context"
	"fmt"
	"html"
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

func main() {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "file:example.db")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	auth, err := web.New(web.Config{
		RPID:     "localhost",
		Origins:  []string{"http://localhost:3000"},
		Secret:   []byte(os.Getenv("SESSION_SECRET") + "-development-only-secret-padding"),
		BasePath: "/auth",
	}, web.Deps{Store: store, Logger: slog.Default()})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", auth))
	mux.Handle("/app/", auth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := passkeyd.UserFromContext(r.Context())
		fmt.Fprintf(w, "<p>Hello, %s. This page is yours alone. <a href=\"/auth/dashboard\">Your passkeys</a></p>", html.EscapeString(u.Email))
	})))
	mux.Handle("/{$}", http.RedirectHandler("/app/", http.StatusSeeOther))
	log.Println("listening on http://localhost:3000")
	log.Fatal(http.ListenAndServe("localhost:3000", mux))
}
