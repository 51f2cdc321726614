//go:build !race

// The race detector allocates on its own account: the budget below holds
// for ordinary builds only.

package web_test

import (
	"fmt"
	"net/http/httptest"
	"runtime"
	"testing"
)

// The allocation budget of a whole passkey sign-in through net/http
// (issue 22): generate-authentication-options and verify-authentication,
// everything the server allocates for them. Measured with go1.26: 38,566
// bytes in 575 objects, from 47,064 in 640 before the diet (BENCHMARKS.md,
// "Allocations per ceremony"). The margin is for library upgrades; a
// change that spends more should say why.
const (
	signInBudgetBytes   = 42 << 10
	signInBudgetObjects = 610
)

// TestSignInAllocationBudget runs sign-ins as BenchmarkCeremonyHTTP does,
// a client that allocates nothing per request on one kept-alive
// connection, and counts what the process allocates during the requests
// (the authenticator's work in between is not counted).
func TestSignInAllocationBudget(t *testing.T) {
	s := newBenchServer(t, nil)
	ts := httptest.NewServer(s.h)
	defer ts.Close()
	c := dialWire(t, ts.Listener.Addr().String())
	defer c.conn.Close()
	users := make([]*wireBrowser, 8)
	for i := range users {
		users[i] = &wireBrowser{benchBrowser: newBenchBrowser(fmt.Sprintf("user%d@example.com", i))}
		users[i].emailBody = emailBody(users[i].email)
		opts := c.post(t, users[i], "/api/passkeys/generate-registration-options", users[i].emailBody)
		att, _, err := users[i].auth.Create(opts)
		if err != nil {
			t.Fatal(err)
		}
		c.post(t, users[i], "/api/passkeys/verify-registration", att)
	}

	var bytes, objects uint64
	var before, after runtime.MemStats
	counted := func(f func() []byte) []byte {
		runtime.ReadMemStats(&before)
		out := f()
		runtime.ReadMemStats(&after)
		bytes += after.TotalAlloc - before.TotalAlloc
		objects += after.Mallocs - before.Mallocs
		return out
	}
	const warmUp, n = 20, 200
	for i := range warmUp + n {
		if i == warmUp {
			bytes, objects = 0, 0
		}
		u := users[i%len(users)]
		email := []byte(`{}`)
		if i%2 == 0 {
			email = u.emailBody
		}
		opts := counted(func() []byte {
			return c.post(t, u, "/api/passkeys/generate-authentication-options", email)
		})
		assertion, err := u.auth.Get(opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		counted(func() []byte { return c.post(t, u, "/api/passkeys/verify-authentication", assertion) })
	}
	perBytes, perObjects := float64(bytes)/n, float64(objects)/n
	t.Logf("a sign-in allocates %.0f bytes in %.0f objects", perBytes, perObjects)
	if perBytes > signInBudgetBytes || perObjects > signInBudgetObjects {
		t.Errorf("a sign-in allocates %.0f bytes in %.0f objects, over the budget of %d bytes and %d objects",
			perBytes, perObjects, signInBudgetBytes, signInBudgetObjects)
	}
}
