package web

import "testing"

func TestNormalizeOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"http://localhost:8080":     "http://localhost:8080",
		"http://localhost:8080/":    "http://localhost:8080",
		"HTTPS://App.Example.COM":   "https://app.example.com",
		"https://example.com:443":   "https://example.com",
		"http://localhost:80":       "http://localhost",
		"https://example.com:8443/": "https://example.com:8443",
		"http://[::1]:8080":         "http://[::1]:8080",
	} {
		if got := normalizeOrigin(in); got != want {
			t.Errorf("normalizeOrigin(%q) = %q, want %q", in, got, want)
		}
	}
}
