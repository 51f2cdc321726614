package clientaddr_test

import (
	"net/netip"
	"testing"

	"github.com/passkeyd/passkeyd/internal/clientaddr"
)

func TestParseHop(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":             "203.0.113.7",
		" 203.0.113.7:5678 ":      "203.0.113.7",
		"2001:db8::1":             "2001:db8::1",
		"[2001:db8::1]":           "2001:db8::1",
		"[2001:db8::1]:443":       "2001:db8::1",
		"::ffff:198.51.100.2":     "198.51.100.2",
		"[::ffff:198.51.100.2]:1": "198.51.100.2",
	} {
		got, err := clientaddr.ParseHop(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseHop(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "unknown", "203.0.113.7:", "[2001:db8::1", "example.com:80"} {
		if a, err := clientaddr.ParseHop(bad); err == nil {
			t.Errorf("ParseHop(%q) = %v, want an error", bad, a)
		}
	}
}

func TestFromRequest(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct", "198.51.100.9:4000", []string{"203.0.113.7"}, "198.51.100.9"},
		{"proxied", "10.0.0.1:4000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"hop with port", "10.0.0.1:4000", []string{"203.0.113.7:5678"}, "203.0.113.7"},
		{"IPv6 hop with port", "10.0.0.1:4000", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"chain of proxies", "10.0.0.1:4000", []string{"192.0.2.1, 203.0.113.7, [fd00::5]:80"}, "203.0.113.7"},
		{"two headers", "10.0.0.1:4000", []string{"192.0.2.1", "203.0.113.7:1"}, "203.0.113.7"},
		{"unreadable hop", "10.0.0.1:4000", []string{"203.0.113.7, junk"}, "10.0.0.1"},
		{"mapped peer", "[::ffff:10.0.0.1]:4000", []string{"203.0.113.7"}, "203.0.113.7"},
	}
	for _, tt := range tests {
		got, ok := clientaddr.FromRequest(tt.remote, tt.xff, proxies)
		if !ok || got.String() != tt.want {
			t.Errorf("%s: FromRequest = %v, %v; want %s", tt.name, got, ok, tt.want)
		}
	}
}

func TestRateKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"::ffff:203.0.113.7":   "203.0.113.7",
		"2001:db8:1:2:aaaa::1": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
	} {
		if got := clientaddr.RateKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("RateKey(%s) = %s, want %s", in, got, want)
		}
	}
}
