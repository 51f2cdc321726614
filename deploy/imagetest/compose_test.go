package imagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd/internal/testserver"
)

// composeTool is the command that checks a compose file:
// PASSKEYD_TEST_COMPOSE (e.g. "docker compose"), or docker-compose. Without
// one the test skips, or fails under CI=true.
func composeTool(t *testing.T) []string {
	t.Helper()
	if v := strings.Fields(os.Getenv("PASSKEYD_TEST_COMPOSE")); len(v) > 0 {
		return v
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}
	}
	const how = "install docker-compose (Debian: apt-get install docker-compose; scripts/test does), or set PASSKEYD_TEST_COMPOSE to a compose command"
	if testserver.InCI() {
		t.Fatal("no compose tool, and CI must check the compose files: " + how)
	}
	t.Skip("no compose tool, so the compose files are not checked: " + how)
	return nil
}

// composeConfig runs `compose -f FILE config ARGS` with only the given
// variables (and PATH) in its environment, and no .env file.
func composeConfig(t *testing.T, file string, vars []string, args ...string) (string, error) {
	t.Helper()
	tool := composeTool(t)
	dir := t.TempDir() // the project directory: no .env, no stray settings
	abs, err := filepath.Abs(filepath.Join("..", file))
	if err != nil {
		t.Fatal(err)
	}
	argv := append(tool[1:], "--project-directory", dir, "-f", abs, "config")
	cmd := exec.Command(tool[0], append(argv, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, vars...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestComposeFiles checks deploy/compose.yaml and compose.postgres.yaml
// against the Compose schema, and that the PostgreSQL variant runs two
// passkeyd instances sharing SESSION_SECRET and PUBLIC_URL behind one
// proxy, and refuses to start without the shared secret.
func TestComposeFiles(t *testing.T) {
	if out, err := composeConfig(t, "compose.yaml", nil, "-q"); err != nil {
		t.Errorf("compose.yaml: %v\n%s", err, out)
	}

	secrets := []string{"SESSION_SECRET=shared-secret-0123456789abcdefghijklmnop", "POSTGRES_PASSWORD=pgpassword42"}
	out, err := composeConfig(t, "compose.postgres.yaml", secrets)
	if err != nil {
		t.Fatalf("compose.postgres.yaml: %v\n%s", err, out)
	}
	for _, want := range []string{"SESSION_SECRET: shared-secret-0123456789abcdefghijklmnop", "PUBLIC_URL: http://localhost:8080",
		"WEBAUTHN_ORIGIN: http://localhost:8080", "@postgres:5432/passkeyd"} {
		if n := strings.Count(out, want); n != 2 {
			t.Errorf("compose.postgres.yaml: %q appears %d times, want once in each passkeyd instance:\n%s", want, n, out)
		}
	}
	for _, service := range []string{"passkeyd-1", "passkeyd-2", "postgres", "proxy"} {
		if !strings.Contains(out, "\n  "+service+":\n") {
			t.Errorf("compose.postgres.yaml has no service %s:\n%s", service, out)
		}
	}

	for _, missing := range []string{"SESSION_SECRET"} {
		var vars []string
		for _, kv := range secrets {
			if !strings.HasPrefix(kv, missing+"=") {
				vars = append(vars, kv)
			}
		}
		if out, err := composeConfig(t, "compose.postgres.yaml", vars, "-q"); err == nil || !strings.Contains(out, missing) {
			t.Errorf("compose.postgres.yaml without %s: %v\n%s; want a refusal naming it", missing, err, out)
		}
	}
}
