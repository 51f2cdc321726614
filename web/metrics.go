package web

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/promreg"
)

// Metrics are passkeyd's Prometheus metrics. Create them once with
// NewMetrics and pass them in Deps; nil Metrics record nothing.
type Metrics struct {
	ceremoniesStarted   *prometheus.CounterVec
	ceremoniesSucceeded *prometheus.CounterVec
	ceremoniesFailed    *prometheus.CounterVec
	clientErrors        *prometheus.CounterVec
	requestDuration     *prometheus.HistogramVec
	rateLimited         *prometheus.CounterVec
	cloneWarnings       prometheus.Counter
	recoveryEmails      prometheus.Counter
	reg                 prometheus.Registerer
}

// NewMetrics registers passkeyd's metrics with reg. Called again with the
// same registry it returns Metrics that count in the same series; only one
// Server may use them (see watchSessions).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		ceremoniesStarted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passkeyd_ceremonies_started_total", Help: "Ceremonies begun (options sent), by ceremony.",
		}, []string{"ceremony"}),
		ceremoniesSucceeded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passkeyd_ceremonies_succeeded_total", Help: "Ceremonies verified, by ceremony and passkey provider (AAGUID name).",
		}, []string{"ceremony", "provider"}),
		ceremoniesFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passkeyd_ceremonies_failed_total", Help: "Ceremonies refused at verification, by ceremony and reason.",
		}, []string{"ceremony", "reason"}),
		clientErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passkeyd_client_errors_total", Help: "WebAuthn errors browsers reported (NotAllowedError, InvalidStateError, ...), by ceremony.",
		}, []string{"ceremony", "name"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "passkeyd_http_request_duration_seconds", Help: "Request latency by route and status class.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "code"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passkeyd_rate_limited_total", Help: "Requests refused by a rate limit, by limit.",
		}, []string{"limit"}),
		cloneWarnings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "passkeyd_clone_warnings_total", Help: "Sign-ins refused because a passkey's counter did not increase.",
		}),
		recoveryEmails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "passkeyd_recovery_emails_sent_total", Help: "Recovery and takeover links queued for sending.",
		}),
		reg: reg,
	}
	m.ceremoniesStarted = promreg.Register(reg, m.ceremoniesStarted)
	m.ceremoniesSucceeded = promreg.Register(reg, m.ceremoniesSucceeded)
	m.ceremoniesFailed = promreg.Register(reg, m.ceremoniesFailed)
	m.clientErrors = promreg.Register(reg, m.clientErrors)
	m.requestDuration = promreg.Register(reg, m.requestDuration)
	m.rateLimited = promreg.Register(reg, m.rateLimited)
	m.cloneWarnings = promreg.Register(reg, m.cloneWarnings)
	m.recoveryEmails = promreg.Register(reg, m.recoveryEmails)
	return m
}

// The methods below are safe on a nil *Metrics.

func (m *Metrics) started(ceremony string) {
	if m != nil {
		m.ceremoniesStarted.WithLabelValues(ceremony).Inc()
	}
}

func (m *Metrics) succeeded(ceremony, provider string) {
	if m != nil {
		if provider == "" {
			provider = "unknown"
		}
		m.ceremoniesSucceeded.WithLabelValues(ceremony, provider).Inc()
	}
}

func (m *Metrics) failed(ceremony, reason string) {
	if m != nil {
		m.ceremoniesFailed.WithLabelValues(ceremony, reason).Inc()
	}
}

func (m *Metrics) clientError(ceremony, name string) {
	if m != nil {
		m.clientErrors.WithLabelValues(ceremony, name).Inc()
	}
}

func (m *Metrics) observe(route string, status int, d time.Duration) {
	if m != nil {
		m.requestDuration.WithLabelValues(route, strconv.Itoa(status/100)+"xx").Observe(d.Seconds())
	}
}

func (m *Metrics) limited(limit string) {
	if m != nil {
		m.rateLimited.WithLabelValues(limit).Inc()
	}
}

func (m *Metrics) recoveryEmailSent() {
	if m != nil {
		m.recoveryEmails.Inc()
	}
}

// watchSessions adds a gauge of active sessions, counted in the store at
// each scrape (every instance reports the same, shared number). The gauge
// can be registered once: a second Server given the same Metrics gets an
// error, since its sessions would not be counted.
func (m *Metrics) watchSessions(store passkeyd.Store, now func() time.Time) error {
	if m == nil {
		return nil
	}
	err := m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "passkeyd_active_sessions", Help: "Unexpired login sessions, across all instances.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := store.CountActiveSessions(ctx, now())
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	}))
	if err != nil {
		return fmt.Errorf("web.New: Deps.Metrics are already used by another Server (call NewMetrics once per Server, each with its own registry): %w", err)
	}
	return nil
}

func (m *Metrics) cloneWarning() {
	if m != nil {
		m.cloneWarnings.Inc()
	}
}
