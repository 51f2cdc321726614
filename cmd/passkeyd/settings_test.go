package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/web"
)

// help runs `passkeyd ARGS -h` and returns what it printed.
func help(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), append(args, "-h"), env(nil), &out, &out); err != nil {
		t.Fatalf("passkeyd %s -h: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

// flagHelp is the help of one flag in -h's output.
func flagHelp(t *testing.T, out, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(name) + `( \w+)?\n\s+(.*)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("-h does not list -%s:\n%s", name, out)
	}
	return m[2]
}

// The defaults -h shows are the library's: web.DefaultConfig (and
// oidc's), not a second copy in cmd.
func TestHelpShowsLibraryDefaults(t *testing.T) {
	out := help(t)
	libraryDefaults := reflect.ValueOf(web.DefaultConfig())
	checked := 0
	for _, e := range settingTable() {
		if e.field == "" || e.secret {
			continue
		}
		var want string
		switch f := libraryDefaults.FieldByName(e.field); {
		case e.field == "KeyPublishDelay":
			want = shortDuration(oidc.DefaultKeyPublishDelay)
		case !f.IsValid():
			t.Fatalf("-%s: web.Config has no field %s", e.flag, e.field)
		case f.Type() == reflect.TypeOf(time.Duration(0)):
			want = shortDuration(time.Duration(f.Int()))
		case f.Kind() == reflect.String:
			want = f.String()
		}
		got := flagHelp(t, out, e.flag)
		if want == "" {
			if strings.Contains(got, "(default ") {
				t.Errorf("-%s shows a default, but %s has none: %s", e.flag, e.field, got)
			}
			continue
		}
		checked++
		if !strings.HasSuffix(got, "(default "+want+")") {
			t.Errorf("-%s: %q, want the library's default %s", e.flag, got, want)
		}
	}
	if checked < 10 {
		t.Fatalf("checked %d defaults; the table lost its library fields", checked)
	}
}

// A value out of a library's bounds is refused at start, and the error
// names the environment variable that set it (the library names the
// Config field; cmd maps it through the table).
func TestOutOfBoundsNamesTheVariable(t *testing.T) {
	for _, b := range web.LifetimeBounds() {
		variable := envOf(b.Field)
		if variable == b.Field {
			t.Fatalf("no setting for %s", b.Field)
		}
		for _, d := range []time.Duration{b.Min / 2, b.Max + time.Second} {
			value := d.String()
			t.Run(variable+"="+value, func(t *testing.T) {
				err := run(context.Background(), nil, env(map[string]string{variable: value, "DATA_DIR": t.TempDir(), "PORT": "0"}), os.Stderr, os.Stderr)
				if err == nil {
					t.Fatal("started; want a refusal")
				}
				if !strings.HasPrefix(err.Error(), variable+" ") || strings.Contains(err.Error(), b.Field) {
					t.Fatalf("error %q, want one naming %s and not the field %s", err, variable, b.Field)
				}
			})
		}
	}
}

// Each subcommand reads its own settings: the database commands do not
// take the server's listening, mail or log settings.
func TestSubcommandsTakeTheirSettings(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		has, lacks []string
	}{
		{[]string{"migrate"}, []string{"-database-url", "-data-dir", "-database-max-conns"}, []string{"-port", "-smtp-url", "-session-secret", "-rp-id", "-log-level"}},
		{[]string{"users", "list"}, []string{"-database-url", "-session-secret", "-origin", "-recovery-link-ttl"}, []string{"-smtp-url", "-metrics-addr", "-log-level", "-host"}},
		{[]string{"oidc", "rotate-keys"}, []string{"-database-url", "-session-secret-file", "-oidc-key-publish-delay"}, []string{"-smtp-url", "-rate-limit", "-challenge-timeout"}},
		{nil, []string{"-port", "-smtp-url", "-database-url", "-challenge-timeout"}, nil},
	} {
		out := help(t, tc.args...)
		for _, f := range tc.has {
			if !strings.Contains(out, "\n  "+f+" ") {
				t.Errorf("passkeyd %v -h lacks %s", tc.args, f)
			}
		}
		for _, f := range tc.lacks {
			if strings.Contains(out, "\n  "+f+" ") {
				t.Errorf("passkeyd %v -h lists %s", tc.args, f)
			}
		}
	}
	// A server setting given to a database command is an error, not ignored.
	err := run(context.Background(), []string{"migrate", "-port", "9000"}, env(nil), os.Stderr, os.Stderr)
	if err == nil || !strings.Contains(err.Error(), "-port") {
		t.Fatalf("migrate -port: %v, want an unknown flag", err)
	}
}

// README's settings tables (Configuration, and the production one) list
// every setting by its variable and flag, and no other.
func TestREADMEListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // variable → flag
	names := regexp.MustCompile("`-?([A-Za-z_-]+)`")
	for _, m := range regexp.MustCompile("(?m)^\\| ((?:`[A-Z_]+`(?:, )?)+) \\| ((?:`-[a-z-]+`(?:, )?)+) \\|").FindAllStringSubmatch(string(b), -1) {
		vars, flags := names.FindAllStringSubmatch(m[1], -1), names.FindAllStringSubmatch(m[2], -1)
		if len(vars) != len(flags) {
			t.Fatalf("README row %q: %d variables, %d flags", m[0], len(vars), len(flags))
		}
		for i := range vars {
			rows[vars[i][1]] = flags[i][1]
		}
	}
	for _, e := range settingTable() {
		flag, ok := rows[e.env]
		switch {
		case !ok:
			t.Errorf("README's tables have no row for %s", e.env)
		case flag != e.flag:
			t.Errorf("README: %s is -%s; the flag is -%s", e.env, flag, e.flag)
		}
		delete(rows, e.env)
	}
	for env := range rows {
		t.Errorf("README lists %s, which is no setting", env)
	}
}

// Every setting reads its variable and its flag.
func TestEverySettingIsRead(t *testing.T) {
	for _, e := range settingTable() {
		value := "x"
		switch e.value(&settings{}).(type) {
		case *durationValue:
			value = "42s"
		case *countValue:
			value = "42"
		case *boolValue:
			value = "true"
		}
		if e.env == "SMTP_URL_FILE" { // read at once
			value = t.TempDir() + "/smtp-url"
			if err := os.WriteFile(value, []byte("smtp://mail.example.com:587"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		fromEnv, err := parseSettings("passkeyd", serveGroups, nil, env(map[string]string{e.env: value}), os.Stderr)
		if err != nil {
			t.Fatalf("%s=%s: %v", e.env, value, err)
		}
		fromFlag, err := parseSettings("passkeyd", serveGroups, []string{"-" + e.flag + "=" + value}, env(nil), os.Stderr)
		if err != nil {
			t.Fatalf("-%s=%s: %v", e.flag, value, err)
		}
		for name, s := range map[string]*settings{"env " + e.env: fromEnv, "flag -" + e.flag: fromFlag} {
			if got := fmt.Sprint(e.value(s)); got != value {
				t.Errorf("%s=%s: the setting is %q", name, value, got)
			}
		}
	}
}
