package imagetest

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/internal/loopback"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/testserver"
)

// runCommand runs a command and returns what it wrote, both streams.
func runCommand(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// unpack writes the image's root file system into dir, with the modes and
// owners its layers give (the caller is root).
func (img *image) unpack(t *testing.T, dir string) {
	t.Helper()
	for _, l := range img.layers {
		err := eachEntry(l, func(h *tar.Header, r io.Reader) error {
			dst := filepath.Join(dir, filepath.FromSlash(h.Name))
			switch h.Typeflag {
			case tar.TypeDir:
				if err := os.MkdirAll(dst, 0o755); err != nil {
					return err
				}
			case tar.TypeReg:
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					return err
				}
				f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
				if err != nil {
					return err
				}
				_, err = io.Copy(f, r)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
			default:
				return fmt.Errorf("%s: type %q not unpacked", h.Name, h.Typeflag)
			}
			if err := os.Lchown(dst, h.Uid, h.Gid); err != nil {
				return err
			}
			return os.Chmod(dst, os.FileMode(h.Mode).Perm())
		})
		if err != nil {
			t.Fatalf("unpack %s: %v", img.archive, err)
		}
	}
}

// sandbox runs commands from an unpacked image as a container runtime
// would, without one: in fresh mount, PID, IPC and UTS namespaces, the
// root file system mounted read-only with data bound writable on /data,
// chrooted into it as the image's user. The network is the host's.
type sandbox struct {
	root, data string
	user       string   // uid:gid
	env        []string // the image's environment, with the test's settings after it
	unshare    string
	mount      string
	chroot     string
}

// setup is the shell script, run by the host's sh inside the new
// namespaces before chroot: $1 root, $2 data, $3 mount, $4 chroot, $5
// uid:gid, then the command.
const setup = `set -e
root=$1 data=$2 mount=$3 chroot=$4 user=$5
shift 5
"$mount" --bind "$root" "$root"
"$mount" --bind "$data" "$root/data"
"$mount" -o remount,bind,ro "$root"
exec "$chroot" --userspec="$user" "$root" "$@"
`

// command is argv run inside the sandbox. --kill-child: the command dies
// with unshare.
func (s *sandbox) command(argv ...string) (string, []string) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		sh = "/bin/sh"
	}
	args := append([]string{"--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child",
		sh, "-c", setup, "sh", s.root, s.data, s.mount, s.chroot, s.user}, argv...)
	return s.unshare, args
}

// run runs argv inside the sandbox to its end.
func (s *sandbox) run(argv ...string) (string, error) {
	name, args := s.command(argv...)
	cmd := exec.Command(name, args...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// newSandbox unpacks img for running. It needs root, unshare, mount and
// chroot; without them the test skips, or fails under CI=true.
func newSandbox(t *testing.T, img *image) *sandbox {
	t.Helper()
	if os.Geteuid() != 0 {
		const why = "running the image without a container runtime needs root (unshare, mount, chroot --userspec); CI runs as root"
		if testserver.InCI() {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	s := &sandbox{root: filepath.Join(t.TempDir(), "rootfs"), data: t.TempDir(), user: img.config.Config.User}
	for _, tool := range []struct {
		dst  *string
		name string
	}{{&s.unshare, "unshare"}, {&s.mount, "mount"}, {&s.chroot, "chroot"}} {
		p, err := exec.LookPath(tool.name)
		if err != nil {
			t.Fatalf("%s (util-linux, coreutils) is needed to run the image: %v", tool.name, err)
		}
		*tool.dst = p
	}
	img.unpack(t, s.root)
	uid, gid := img.user(t)
	// The volume: a fresh directory owned by the image's user, as /data
	// is in the image (podman and docker copy its ownership into a new
	// named volume).
	if err := os.Chown(s.data, uid, gid); err != nil {
		t.Fatal(err)
	}
	s.env = img.config.Config.Env
	return s
}

// TestImageRuns starts the amd64 image's entrypoint from its unpacked root
// file system, signs up and signs in with a software authenticator, and
// runs the image's HEALTHCHECK from the same root: healthy while passkeyd
// runs, unhealthy once it has stopped.
func TestImageRuns(t *testing.T) {
	img := loadImage(t, "amd64")
	s := newSandbox(t, img)
	c := img.config.Config
	port := testserver.FreePort(t)
	origin := "http://localhost:" + port
	// The image's settings, with another port: the sandbox shares the
	// host's network, where 8080 may be taken. The origin is the default
	// one (http://localhost:PORT), so passkeyd generates its secret in /data.
	s.env = append(s.env, "PORT="+port)

	if out, err := s.run(append(c.Entrypoint, "version")...); err != nil ||
		!strings.HasPrefix(out, "passkeyd "+c.Labels["org.opencontainers.image.version"]) {
		t.Errorf("passkeyd version = %q, %v; want the version label %q", out, err, c.Labels["org.opencontainers.image.version"])
	}

	// Outside /data nothing is writable: a data directory elsewhere cannot
	// be made.
	elsewhere := *s
	elsewhere.env = append(slices.Clone(s.env), "DATA_DIR=/elsewhere")
	if out, err := elsewhere.run(append(c.Entrypoint, c.Cmd...)...); err == nil || !strings.Contains(out, "read-only file system") {
		t.Errorf("passkeyd with DATA_DIR=/elsewhere: %v\n%s\nwant a read-only file system refusal", err, out)
	}

	name, args := s.command(append(c.Entrypoint, c.Cmd...)...)
	p := testserver.Start(t, testserver.Config{Name: "passkeyd (image)", Bin: name, Args: args, Env: s.env})
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			p.Stop(10 * time.Second)
		}
		if t.Failed() {
			t.Logf("passkeyd (image) log:\n%s", p.Out.String())
		}
	})
	base := "http://127.0.0.1:" + port
	p.WaitHealthy(t, base+"/readyz", 60*time.Second)

	// passkeyd is the child unshare forked: PID 1 of its namespace.
	pid := childOf(t, p.Pid())
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := img.user(t)
	if want := fmt.Sprintf("Uid:\t%d\t%d\t%d\t%d\n", uid, uid, uid, uid); !strings.Contains(string(status), want) {
		t.Errorf("passkeyd does not run as uid %d:\n%s", uid, status)
	}
	// It listens on every interface (HOST=0.0.0.0 in the image), not just
	// on loopback as it does outside a container.
	if listen := listeningOn(t, port); len(listen) != 1 || !anyAddress(listen[0]) {
		t.Errorf("listening on %q (hexadecimal), want one socket on all interfaces", listen)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr := &http.Transport{DialContext: (&net.Dialer{Control: loopback.DialControl}).DialContext}
	email := "image@example.com"
	key := softauthn.New("localhost", origin)
	if _, err := softauthn.NewClient(base, origin, tr).Register(ctx, key, email); err != nil {
		t.Fatalf("sign up: %v", err)
	}
	res, err := softauthn.NewClient(base, origin, tr).SignIn(ctx, key, email, nil)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if !res.Verified || res.User.Email != email {
		t.Fatalf("sign in: %+v", res)
	}

	healthcheck := c.Healthcheck.Test[1:] // after "CMD"
	if out, err := s.run(healthcheck...); err != nil {
		t.Errorf("healthcheck while passkeyd runs: %v\n%s", err, out)
	}

	// SIGTERM to passkeyd itself: unshare then exits with its status.
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("passkeyd did not stop within 30 s of SIGTERM")
	}
	stopped = true
	if p.Err() != nil {
		t.Errorf("passkeyd exited with %v", p.Err())
	}
	if out, err := s.run(healthcheck...); err == nil {
		t.Errorf("healthcheck passed with passkeyd stopped:\n%s", out)
	}

	// What it kept is in the volume, owned by the image's user.
	for _, name := range []string{"passkeyd.db", "session-secret"} {
		fi, err := os.Stat(filepath.Join(s.data, name))
		if err != nil {
			t.Errorf("not in /data: %v", err)
			continue
		}
		if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid {
			t.Errorf("/data/%s is owned by uid %d, want %d", name, st.Uid, uid)
		}
	}
}

// childOf is the one child process of pid.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b))
	if len(fields) != 1 {
		t.Fatalf("unshare (pid %d) has children %q, want one", pid, fields)
	}
	child, err := strconv.Atoi(fields[0])
	if err != nil {
		t.Fatal(err)
	}
	return child
}

// listeningOn is the local addresses (hexadecimal, as the kernel shows
// them) of the TCP sockets listening on port, from /proc/net/tcp and tcp6.
func listeningOn(t *testing.T, port string) []string {
	t.Helper()
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			// local_address is HEXIP:HEXPORT; state 0A is LISTEN.
			if len(f) > 3 && f[3] == "0A" && strings.HasSuffix(f[1], fmt.Sprintf(":%04X", n)) {
				out = append(out, strings.TrimSuffix(f[1], fmt.Sprintf(":%04X", n)))
			}
		}
	}
	return out
}

// anyAddress reports whether a hexadecimal address from /proc/net/tcp(6)
// is 0.0.0.0 or ::, all interfaces.
func anyAddress(hex string) bool { return strings.Trim(hex, "0") == "" }
