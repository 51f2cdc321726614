package web_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd/web"
)

// behindProxy is a server that trusts loopback as its reverse proxy, with
// the default per-address options limit (60 a minute).
func behindProxy(t *testing.T, optionsPerIP int) *env {
	t.Helper()
	return newEnv(t, func(c *web.Config) {
		c.RateLimits = web.DefaultRateLimits()
		c.RateLimits.OptionsPerIP.Count = optionsPerIP
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
}

// optionsFrom asks for sign-in options as the proxy forwarding for client.
func optionsFrom(t *testing.T, e *env, client string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+authOptions, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", client)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// One IPv6 client usually holds a whole /64: its addresses share one limit
// (issue 13.3), while another /64 keeps its own.
func TestRateLimitKeysIPv6ByNetwork(t *testing.T) {
	e := behindProxy(t, 60)
	limited := 0
	for i := 1; i <= 70; i++ {
		if optionsFrom(t, e, fmt.Sprintf("2001:db8:1:2::%x", i)) == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 10 {
		t.Fatalf("70 requests from one /64 under a limit of 60: %d answered 429, want 10", limited)
	}
	if s := optionsFrom(t, e, "2001:db8:1:3::1"); s != http.StatusOK {
		t.Fatalf("a client of another /64: %d, want 200", s)
	}
	// IPv4-mapped IPv6 is the IPv4 client, not a /64 of mapped addresses.
	for i := 1; i <= 60; i++ {
		if s := optionsFrom(t, e, fmt.Sprintf("::ffff:198.51.100.%d", i)); s != http.StatusOK {
			t.Fatalf("IPv4 client %d (mapped): %d, want 200", i, s)
		}
	}
}

// A proxy that writes the client's port in X-Forwarded-For must not make
// its own address the client's (issue 13.5).
func TestForwardedHopWithPort(t *testing.T) {
	e := behindProxy(t, 3)
	for _, hops := range [][]string{
		{"203.0.113.7:5678", "203.0.113.7:5679", "203.0.113.7:1", "203.0.113.7:2"},
		{"[2001:db8::1]:443", "[2001:db8::2]:443", "[2001:db8::3]:80", "2001:db8::4"},
	} {
		var got []int
		for _, h := range hops {
			got = append(got, optionsFrom(t, e, h))
		}
		if fmt.Sprint(got) != fmt.Sprint([]int{200, 200, 200, 429}) {
			t.Fatalf("%v: statuses %v, want three 200 then 429 (one client)", hops, got)
		}
	}
	// Each of those was counted as its client, not as the proxy: another
	// client behind the same proxy is still served.
	if s := optionsFrom(t, e, "198.51.100.1:4444"); s != http.StatusOK {
		t.Fatalf("another client behind the proxy: %d, want 200", s)
	}
}
