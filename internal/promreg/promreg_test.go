package promreg_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passkeyd/passkeyd/internal/promreg"
)

func counter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_total", Help: "A test counter."}, []string{"kind"})
}

// Registering the same metric twice in one registry gives the first back:
// both count in one series.
func TestRegisterTwiceShares(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := promreg.Register(reg, counter())
	b := promreg.Register(reg, counter())
	a.WithLabelValues("x").Inc()
	b.WithLabelValues("x").Inc()
	families, err := reg.Gather()
	if err != nil || len(families) != 1 || len(families[0].GetMetric()) != 1 {
		t.Fatalf("gathered %v, %v; want one family with one series", families, err)
	}
	if got := families[0].GetMetric()[0].GetCounter().GetValue(); got != 2 {
		t.Errorf("counter = %v after one increment through each; want 2", got)
	}
}

// The same name with other labels is a programming error.
func TestRegisterConflictPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	promreg.Register(reg, counter())
	defer func() {
		if recover() == nil {
			t.Error("registering test_total with other labels did not panic")
		}
	}()
	promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_total", Help: "A test counter."}, []string{"other"}))
}
