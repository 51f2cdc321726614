// Package clientaddr finds a request's client address behind trusted
// proxies, and the key under which per-address rate limits count it.
package clientaddr

import (
	"net/netip"
	"strings"
)

// FromRequest returns the client address of a request whose connection
// came from remoteAddr ("host:port") with the given X-Forwarded-For header
// values: the peer itself, or, when the peer is a trusted proxy, the
// nearest X-Forwarded-For hop that is not a trusted proxy. Hops further
// left were written by the client and prove nothing; an unreadable hop
// stops the walk at the last address known good. ok is false only when
// remoteAddr itself is unreadable.
func FromRequest(remoteAddr string, forwardedFor []string, trusted []netip.Prefix) (addr netip.Addr, ok bool) {
	addr, err := ParseHop(remoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	if !isTrusted(addr, trusted) {
		return addr, true
	}
	hops := strings.Split(strings.Join(forwardedFor, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := ParseHop(hops[i])
		if err != nil {
			break
		}
		addr = hop
		if !isTrusted(addr, trusted) {
			break
		}
	}
	return addr, true
}

// ParseHop reads one address as proxies write it in X-Forwarded-For, with
// or without a port: "203.0.113.7", "203.0.113.7:5678", "2001:db8::1",
// "[2001:db8::1]" or "[2001:db8::1]:443". IPv4-mapped IPv6 addresses come
// back as IPv4; a zone is dropped.
func ParseHop(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap().WithZone(""), nil
}

// RateKey is the key per-address rate limits count a client under: an
// IPv4 address itself, an IPv6 address's /64. One IPv6 subscriber usually
// gets a whole /64 (or more), so counting single IPv6 addresses would give
// each client 2^64 allowances.
func RateKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
