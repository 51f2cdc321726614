package web

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The metric label is the rule's name, never cut from the key: a key
// without a ":" (an IPv4 address, an account ID) used to panic (issue 11.12).
func TestLimitedMetricLabelIsTheRuleName(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	ls := newLimiters(RateLimits{VerifyPerIP: Limit{Count: 1, Window: time.Minute}, OptionsPerIP: Limit{1, time.Minute},
		OptionsPerEmail: Limit{1, time.Minute}, FailuresPerCredential: Limit{1, time.Minute}, RecoveryPerEmail: Limit{1, time.Minute}}, m)
	r := httptest.NewRequest("POST", "/", nil)
	if err := ls.allow(ls.verifyPerIP, "ip", httptest.NewRecorder(), r, "192.0.2.1"); err != nil {
		t.Fatalf("first request limited: %v", err)
	}
	if err := ls.allow(ls.verifyPerIP, "ip", httptest.NewRecorder(), r, "192.0.2.1"); err != errTooMany {
		t.Fatalf("second request: %v, want errTooMany", err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range families {
		if f.GetName() == "passkeyd_rate_limited_total" {
			for _, s := range f.GetMetric() {
				got = append(got, s.GetLabel()[0].GetValue()+"="+strconv.FormatFloat(s.GetCounter().GetValue(), 'f', -1, 64))
			}
		}
	}
	if len(got) != 1 || got[0] != "ip=1" {
		t.Fatalf("passkeyd_rate_limited_total by limit: %v, want [ip=1]", got)
	}
}
