package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// A host application mounts passkeyd under a prefix of its own mux and
// protects its own routes with RequireUser.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "passkeyd-example")
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(context.Background(), "file:"+filepath.Join(dir, "app.db"))
	if err != nil {
		panic(err)
	}
	defer store.Close()

	auth, err := web.New(web.Config{
		RPID:     "example.com",
		Origins:  []string{"https://example.com"},
		Secret:   []byte("a-random-secret-of-at-least-32-bytes!"),
		BasePath: "/auth",
	}, web.Deps{Store: store})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", auth))
	mux.Handle("/app/", auth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello", passkeyd.UserFromContext(r.Context()).Email)
	})))

	// Signed out: the app's page sends the browser to the sign-in page.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/app/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output: 303 /auth/
}
