package web_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// The benchmarks below drive the real handlers (web.New) on a SQLite file,
// calling ServeHTTP directly: what they time is the handler, go-webauthn
// and the store, without the network or net/http's connection handling
// (the load tool, cmd/passkeyd-load, measures those). The software
// authenticator's work (making keys, signing) runs with the timer stopped.
//
// Besides ns/op they report cpu-ns/op, the process's CPU time per
// operation, which stays true when other processes share the machine.
//
//	go test -run '^$' -bench 'SignIn|Register' -benchmem ./web/

const benchOrigin = "http://localhost:8080"

// benchServer is passkeyd's handler on a SQLite file in b.TempDir().
type benchServer struct {
	h http.Handler
}

func newBenchServer(b testing.TB, log *slog.Logger) *benchServer {
	b.Helper()
	return newBenchServerLogging(b, log, false)
}

// newBenchServerLogging is newBenchServer, and with logRequests a log line
// per request, as cmd/passkeyd writes.
func newBenchServerLogging(b testing.TB, log *slog.Logger, logRequests bool) *benchServer {
	b.Helper()
	store, err := sqlite.Open(b.Context(), "file:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatalf("open store: %v", err)
	}
	b.Cleanup(func() { store.Close() })
	h, err := web.New(web.Config{
		RPID:        "localhost",
		Origins:     []string{benchOrigin},
		Secret:      []byte(strings.Repeat("s", 32)),
		RateLimits:  web.RateLimits{Off: true},
		LogRequests: logRequests,
	}, web.Deps{Store: store, Logger: log})
	if err != nil {
		b.Fatalf("web.New: %v", err)
	}
	return &benchServer{h: h}
}

// benchBrowser is one person: cookies and a device.
type benchBrowser struct {
	email   string
	cookies map[string]string
	auth    *softauthn.Authenticator
}

func newBenchBrowser(email string) *benchBrowser {
	return &benchBrowser{email: email, cookies: map[string]string{}, auth: softauthn.New("localhost", benchOrigin)}
}

// post sends a JSON request as br's browser would and keeps the cookies
// the answer sets. It fails the benchmark on any status but 200.
func (s *benchServer) post(b *testing.B, br *benchBrowser, path string, body []byte) []byte {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", benchOrigin)
	req.Header.Set("User-Agent", "Mozilla/5.0 (benchmark)")
	for name, value := range br.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("POST %s: status %d: %s", path, rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(br.cookies, c.Name)
		} else {
			br.cookies[c.Name] = c.Value
		}
	}
	return rec.Body.Bytes()
}

func emailBody(email string) []byte {
	if email == "" {
		return []byte(`{}`)
	}
	return []byte(`{"email":"` + email + `"}`)
}

// signUp runs a whole registration ceremony for br.
func (s *benchServer) signUp(b *testing.B, br *benchBrowser) {
	opts := s.post(b, br, "/api/passkeys/generate-registration-options", emailBody(br.email))
	att, _, err := br.auth.Create(opts)
	if err != nil {
		b.Fatal(err)
	}
	s.post(b, br, "/api/passkeys/verify-registration", att)
}

// cpuMeter adds up the process's CPU time over the timed parts of a
// benchmark; start and stop go with b.StartTimer and b.StopTimer.
type cpuMeter struct {
	total, since time.Duration
}

func (m *cpuMeter) start() { m.since = processCPU() }
func (m *cpuMeter) stop()  { m.total += processCPU() - m.since }
func (m *cpuMeter) report(b *testing.B, n int) {
	if n > 0 && m.total > 0 {
		b.ReportMetric(float64(m.total.Nanoseconds())/float64(n), "cpu-ns/op")
	}
}

// BenchmarkSignIn: the two requests of a sign-in ceremony, apart and
// together, over 64 registered users, alternately with and without an
// email (the load tool's mixed mode). Logged runs the handler with an
// info-level text logger (as cmd/passkeyd has) writing to io.Discard.
func BenchmarkSignIn(b *testing.B) {
	for _, logged := range []bool{false, true} {
		var log *slog.Logger
		name := ""
		if logged {
			log = slog.New(slog.NewTextHandler(io.Discard, nil))
			name = "Logged"
		}
		s := newBenchServer(b, log)
		users := make([]*benchBrowser, 64)
		for i := range users {
			users[i] = newBenchBrowser(fmt.Sprintf("user%d@example.com", i))
			s.signUp(b, users[i])
		}
		email := func(i int) string {
			if i%2 == 0 {
				return users[i%len(users)].email
			}
			return ""
		}
		b.Run("Options"+name, func(b *testing.B) {
			b.ReportAllocs()
			var cpu cpuMeter
			cpu.start()
			for i := 0; i < b.N; i++ {
				s.post(b, users[i%len(users)], "/api/passkeys/generate-authentication-options", emailBody(email(i)))
			}
			cpu.stop()
			cpu.report(b, b.N)
		})
		for _, step := range []string{"Verify", "Ceremony"} {
			b.Run(step+name, func(b *testing.B) {
				b.ReportAllocs()
				var cpu cpuMeter
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					u := users[i%len(users)]
					if step == "Ceremony" {
						b.StartTimer()
						cpu.start()
					}
					opts := s.post(b, u, "/api/passkeys/generate-authentication-options", emailBody(email(i)))
					if step == "Ceremony" {
						cpu.stop()
						b.StopTimer()
					}
					assertion, err := u.auth.Get(opts, nil)
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					cpu.start()
					s.post(b, u, "/api/passkeys/verify-authentication", assertion)
					cpu.stop()
				}
				cpu.report(b, b.N)
			})
		}
	}
}

// BenchmarkRegister: the two requests of a sign-up, apart and together.
// Each iteration signs up a new account.
func BenchmarkRegister(b *testing.B) {
	s := newBenchServer(b, nil)
	seq := 0
	next := func() *benchBrowser {
		seq++
		return newBenchBrowser(fmt.Sprintf("new%d@example.com", seq))
	}
	b.Run("Options", func(b *testing.B) {
		b.ReportAllocs()
		var cpu cpuMeter
		cpu.start()
		for i := 0; i < b.N; i++ {
			br := next()
			s.post(b, br, "/api/passkeys/generate-registration-options", emailBody(br.email))
		}
		cpu.stop()
		cpu.report(b, b.N)
	})
	for _, step := range []string{"Verify", "Ceremony"} {
		b.Run(step, func(b *testing.B) {
			b.ReportAllocs()
			var cpu cpuMeter
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				br := next()
				if step == "Ceremony" {
					b.StartTimer()
					cpu.start()
				}
				opts := s.post(b, br, "/api/passkeys/generate-registration-options", emailBody(br.email))
				if step == "Ceremony" {
					cpu.stop()
					b.StopTimer()
				}
				att, _, err := br.auth.Create(opts)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				cpu.start()
				s.post(b, br, "/api/passkeys/verify-registration", att)
				cpu.stop()
			}
			cpu.report(b, b.N)
		})
	}
}
