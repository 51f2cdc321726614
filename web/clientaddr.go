package web

import (
	"net/http"
	"net/netip"

	"github.com/passkeyd/passkeyd/internal/clientaddr"
)

// client is where a request came from, worked out once per request by
// withRequest, the first middleware, and carried in its context: the rate
// limits, the logs, sessions and security-log events all read it there.
type client struct {
	// ip is the connection's peer, or, when that peer is a trusted proxy,
	// the nearest address in X-Forwarded-For that is not a trusted proxy
	// itself (see clientaddr).
	ip string
	// rateKey is what every per-address rate limit counts the client
	// under: its address, or for IPv6 its /64.
	rateKey string
}

// clientFrom works out r's client (see client); only withRequest calls it.
func clientFrom(r *http.Request, trusted []netip.Prefix) client {
	if addr, ok := clientaddr.FromRequest(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trusted); ok {
		return client{ip: addr.String(), rateKey: clientaddr.RateKey(addr)}
	}
	return client{ip: r.RemoteAddr, rateKey: r.RemoteAddr}
}

// clientOf returns the client withRequest found for r. A request that did
// not pass through it (none of the Server's own) counts as its peer.
func clientOf(r *http.Request) client {
	if info := requestOf(r.Context()); info != nil {
		return info.client
	}
	return client{ip: r.RemoteAddr, rateKey: r.RemoteAddr}
}

// clientIP is the address the logs and the security log show for r.
func clientIP(r *http.Request) string { return clientOf(r).ip }

// clientRateKey is the key per-address rate limits count r under.
func clientRateKey(r *http.Request) string { return clientOf(r).rateKey }
