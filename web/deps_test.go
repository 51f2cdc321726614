package web_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoOpenIDProvider keeps web mountable on its own: a Go app that
// mounts web for passkey sign-in links neither the OpenID Connect provider
// (package oidc, which cmd/passkeyd mounts beside) nor the libraries only
// the provider needs. examples/mount is such an app.
func TestLinksNoOpenIDProvider(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".", "../examples/mount").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := []string{
		"github.com/passkeyd/passkeyd/oidc",
		"github.com/passkeyd/passkeyd/console",
		"github.com/zitadel/",
		"github.com/go-chi/chi/",
		"github.com/gorilla/",
		"go.opentelemetry.io/",
		"github.com/rs/cors",
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 10 {
		t.Fatalf("go list -deps listed %d packages: %q", len(pkgs), out)
	}
	for _, pkg := range pkgs {
		for _, f := range forbidden {
			if pkg == f || strings.HasPrefix(pkg, f) {
				t.Errorf("web or examples/mount depends on %s", pkg)
			}
		}
	}
}
