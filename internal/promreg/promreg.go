// Package promreg registers Prometheus collectors so that registering the
// same metrics twice in one registry shares them instead of panicking.
package promreg

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c with reg and returns it, or, when reg holds an
// equal collector already (the same name, help and labels: a second
// handler built on one registry), returns that one, so that both count
// in the same series. Any other refusal (the same name with other labels
// or help) is a programming error and panics, as MustRegister does.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(err)
}
