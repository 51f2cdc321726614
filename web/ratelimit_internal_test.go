package web

import (
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
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

// The README's table of rate limits names each limit RATE_LIMIT takes,
// with its default, and nothing else.
func TestREADMEListsEveryRateLimit(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "### Rate limits\n")
	if !ok {
		t.Fatal("README has no Rate limits section")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	table = table[strings.Index(table, "|"):]
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| ([^|]+) \\|").FindAllStringSubmatch(table, -1) {
		rows[m[1]] = strings.TrimSpace(m[2])
	}
	def := DefaultRateLimits()
	names, limits := def.byName()
	for _, name := range names {
		l := limits[name]
		got, ok := rows[name]
		if !ok {
			t.Errorf("README's rate limits table has no row for %s", name)
			continue
		}
		if want := readableLimit(*l); got != want {
			t.Errorf("README: %s is %q; the default is %q", name, got, want)
		}
		delete(rows, name)
	}
	for name := range rows {
		t.Errorf("README lists rate limit %s, which RATE_LIMIT does not take", name)
	}
}

// readableLimit writes a limit as the README does: "10 per 15 minutes".
func readableLimit(l Limit) string {
	switch {
	case l.Window == time.Minute:
		return strconv.Itoa(l.Count) + " per minute"
	case l.Window%time.Minute == 0:
		return strconv.Itoa(l.Count) + " per " + strconv.Itoa(int(l.Window/time.Minute)) + " minutes"
	}
	return l.String()
}
