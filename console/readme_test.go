package console_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd/console"
)

// The README's Console API table lists every API route of the table with
// its access, and nothing else; its list of pages names every page.
func TestREADMEListsEveryRoute(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Console API\n")
	if !ok {
		t.Fatal("README has no Console API section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z]+ /api/admin/[^`]*)` \\| ([a-z-]+) \\|").FindAllStringSubmatch(section, -1) {
		rows[m[1]] = m[2]
	}
	readme := map[console.Access]string{console.Admin: "admin", console.StepUp: "step-up", console.Setup: "setup"}
	h := newHarnessWithoutAdmin(t)
	for _, rt := range h.console.Routes() {
		key := rt.Method + " " + rt.Pattern
		if rt.Page {
			if !strings.Contains(section, "`"+key+"`") {
				t.Errorf("README's Console API does not name the page %s", key)
			}
			continue
		}
		access, ok := rows[key]
		if !ok {
			t.Errorf("README's Console API table has no row for %s", key)
			continue
		}
		if access != readme[rt.Access] {
			t.Errorf("README: %s is %s; the route table says %s", key, access, readme[rt.Access])
		}
		delete(rows, key)
	}
	for key := range rows {
		t.Errorf("README lists %s, which is no route", key)
	}
}
