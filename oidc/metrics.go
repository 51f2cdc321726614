package oidc

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/passkeyd/passkeyd/internal/promreg"
)

// Metrics are the provider's Prometheus metrics, per client. The label
// values are client IDs, which only an operator creates, so their number
// stays bounded. A nil *Metrics records nothing.
type Metrics struct {
	signIns *prometheus.CounterVec
	tokens  *prometheus.CounterVec
	refused *prometheus.CounterVec
}

// NewMetrics registers the provider's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passkeyd_oidc_sign_ins_total", Help: "Sign-ins to apps (codes issued), by client.",
		}, []string{"client"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passkeyd_oidc_tokens_issued_total", Help: "Token responses, by client and grant (authorization_code, refresh_token).",
		}, []string{"client", "grant"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passkeyd_oidc_refused_total", Help: "Refusals worth watching, by client and reason (code_reused, refresh_reused, client_auth_failed, consent_denied, user_not_allowed, other_browser).",
		}, []string{"client", "reason"}),
	}
	// Two servers sharing one registry share the counters.
	m.signIns, m.tokens, m.refused = promreg.Register(reg, m.signIns), promreg.Register(reg, m.tokens), promreg.Register(reg, m.refused)
	return m
}

func (m *Metrics) signIn(client string) {
	if m != nil {
		m.signIns.WithLabelValues(client).Inc()
	}
}

func (m *Metrics) issued(client, grant string) {
	if m != nil {
		m.tokens.WithLabelValues(client, grant).Inc()
	}
}

func (m *Metrics) refuse(client, reason string) {
	if m != nil {
		m.refused.WithLabelValues(client, reason).Inc()
	}
}
