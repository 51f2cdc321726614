package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// TestClientWorkedOutOnce: the client address is read from X-Forwarded-For
// once, by the first middleware, and every later reader gets that value
// from the request's context rather than parsing the headers again.
func TestClientWorkedOutOnce(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	var got []client
	h := withRequest(trusted, time.Minute, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, clientOf(r))
		// Whatever happens to the request later, the client stays.
		r.RemoteAddr = "192.0.2.99:1"
		r.Header.Set("X-Forwarded-For", "198.51.100.1")
		got = append(got, clientOf(r))
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "10.0.0.2:4000"
	req.Header.Set("X-Forwarded-For", "203.0.113.7, 10.0.0.3")
	h.ServeHTTP(httptest.NewRecorder(), req)
	want := client{ip: "203.0.113.7", rateKey: "203.0.113.7"}
	if len(got) != 2 || got[0] != want || got[1] != want {
		t.Fatalf("client = %+v, want %+v twice", got, want)
	}
	v6 := httptest.NewRequest("GET", "/", nil)
	v6.RemoteAddr = "[2001:db8:1:2:3::4]:5"
	got = nil
	h.ServeHTTP(httptest.NewRecorder(), v6)
	if got[0].ip != "2001:db8:1:2:3::4" || got[0].rateKey == got[0].ip {
		t.Fatalf("IPv6 client = %+v, want its /64 as rate key", got[0])
	}
}
