package oidc_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/postgres"
	"github.com/passkeyd/passkeyd/sqlite"
)

// TestFirstKeysOnce: on a fresh database, requests on two instances that
// all find no signing key at once (JWKS, and the first ID token to sign)
// make exactly one key per algorithm between them, and every JWKS answer
// is the same.
func TestFirstKeysOnce(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		file := "file:" + filepath.Join(t.TempDir(), "passkeyd.db")
		firstKeysOnce(t, func(t *testing.T) oidc.Store {
			s, err := sqlite.Open(t.Context(), file)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		dsn := testserver.PostgresDSN(t)
		firstKeysOnce(t, func(t *testing.T) oidc.Store {
			s, err := postgres.Open(t.Context(), dsn, postgres.PoolConfig{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

func firstKeysOnce(t *testing.T, open func(t *testing.T) oidc.Store) {
	stores := []oidc.Store{open(t), open(t)} // two instances, two pools
	var providers []*oidc.Provider
	for _, s := range stores {
		p, err := oidc.New(oidc.Config{
			Issuer: "http://localhost:9", Secret: []byte("an-oidc-test-secret-of-at-least-32-characters"), StepUpWindow: time.Minute,
		}, oidc.Deps{Store: s, Pages: noPages{}, Users: nobody{}})
		if err != nil {
			t.Fatal(err)
		}
		providers = append(providers, p)
	}
	const n = 16
	bodies := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		p := providers[i%2]
		wg.Go(func() {
			<-start
			if i%8 >= 6 {
				errs[i] = p.EnsureKeys(t.Context()) // what the first token request to sign does
				return
			}
			w := httptest.NewRecorder()
			p.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/oidc/keys", nil))
			if w.Code != http.StatusOK {
				t.Errorf("JWKS %d: status %d %s", i, w.Code, w.Body)
			}
			bodies[i] = w.Body.String()
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("EnsureKeys %d: %v", i, err)
		}
	}
	keys, err := stores[1].ListOIDCKeys(t.Context(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	perAlg := map[string][]string{}
	for _, k := range keys {
		perAlg[k.Algorithm] = append(perAlg[k.Algorithm], k.ID)
	}
	for _, alg := range oidc.Algorithms {
		if len(perAlg[alg]) != 1 {
			t.Errorf("%s keys after %d concurrent first uses on two instances: %v; want exactly one", alg, n, perAlg[alg])
		}
	}
	for i, b := range bodies {
		if b != "" && b != bodies[0] {
			t.Errorf("JWKS answer %d differs from the first:\n%s\n%s", i, b, bodies[0])
		}
	}
}

// noPages answers a page with its status only; nobody is signed in.
type (
	noPages struct{}
	nobody  struct{}
)

func (noPages) Render(w http.ResponseWriter, _ *http.Request, status int, _ string, _ any) error {
	w.WriteHeader(status)
	return nil
}

func (nobody) SignedIn(*http.Request) (*passkeyd.User, *passkeyd.Session) { return nil, nil }
