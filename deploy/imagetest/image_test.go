package imagetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// maxImageBytes is the most the image may hold, uncompressed.
const maxImageBytes = 30_000_000

// The image's layout: where Containerfile puts things.
const (
	binaryPath = "/usr/local/bin/passkeyd"
	caPath     = "/etc/ssl/certs/ca-certificates.crt"
	dataDir    = "/data"
)

// imageConfig is the part of a Docker image configuration the tests read.
type imageConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       struct {
		User         string              `json:"User"`
		Env          []string            `json:"Env"`
		Entrypoint   []string            `json:"Entrypoint"`
		Cmd          []string            `json:"Cmd"`
		WorkingDir   string              `json:"WorkingDir"`
		Volumes      map[string]struct{} `json:"Volumes"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts"`
		Labels       map[string]string   `json:"Labels"`
		Healthcheck  *struct {
			Test []string `json:"Test"`
		} `json:"Healthcheck"`
	} `json:"config"`
}

// image is one platform's image, read from its archive.
type image struct {
	archive string
	config  imageConfig
	layers  [][]byte               // uncompressed layer tars, lowest first
	files   map[string]*tar.Header // absolute path: its header in the topmost layer holding it
}

// loadImage reads the image of arch (amd64 or arm64) from the archive
// scripts/image wrote in PASSKEYD_TEST_IMAGE_DIR. Without that variable the
// test skips, or fails under CI=true.
func loadImage(t *testing.T, arch string) *image {
	t.Helper()
	dir := os.Getenv("PASSKEYD_TEST_IMAGE_DIR")
	if dir == "" {
		const how = "scripts/test builds the image with scripts/image and sets it; or run scripts/image -out DIR and set PASSKEYD_TEST_IMAGE_DIR=DIR"
		if testserver.InCI() {
			t.Fatal("PASSKEYD_TEST_IMAGE_DIR is not set, and CI must test the container image: " + how)
		}
		t.Skip("PASSKEYD_TEST_IMAGE_DIR is not set, so the container image is not tested: " + how)
	}
	matches, err := filepath.Glob(filepath.Join(dir, "passkeyd-*-linux-"+arch+".image.tar"))
	if err != nil || len(matches) != 1 {
		t.Fatalf("want one passkeyd-VERSION-linux-%s.image.tar in %s, found %v", arch, dir, matches)
	}
	img, err := readArchive(matches[0])
	if err != nil {
		t.Fatalf("%s: %v", matches[0], err)
	}
	return img
}

// readArchive reads a docker-archive: manifest.json naming the config and
// the layers, each a file of the archive.
func readArchive(name string) (*image, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		entries[path.Clean(h.Name)] = b
	}
	var manifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(entries["manifest.json"], &manifest); err != nil {
		return nil, fmt.Errorf("manifest.json: %v", err)
	}
	if len(manifest) != 1 {
		return nil, fmt.Errorf("manifest.json lists %d images, want 1", len(manifest))
	}
	img := &image{archive: name, files: map[string]*tar.Header{}}
	if err := json.Unmarshal(entries[path.Clean(manifest[0].Config)], &img.config); err != nil {
		return nil, fmt.Errorf("config %s: %v", manifest[0].Config, err)
	}
	for _, l := range manifest[0].Layers {
		b, ok := entries[path.Clean(l)]
		if !ok {
			return nil, fmt.Errorf("layer %s is not in the archive", l)
		}
		if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, fmt.Errorf("layer %s: %v", l, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				return nil, fmt.Errorf("layer %s: %v", l, err)
			}
		}
		img.layers = append(img.layers, b)
		err := eachEntry(b, func(h *tar.Header, _ io.Reader) error {
			img.files[h.Name] = h
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("layer %s: %v", l, err)
		}
	}
	return img, nil
}

// eachEntry calls fn with each entry of a layer, its name made absolute
// and clean. A whiteout (a file deleted by a later layer) is an error: a
// scratch image built in one step has none.
func eachEntry(layer []byte, fn func(*tar.Header, io.Reader) error) error {
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		h.Name = path.Clean("/" + h.Name)
		if strings.HasPrefix(path.Base(h.Name), ".wh.") {
			return fmt.Errorf("whiteout %s: the image should be one layer from scratch", h.Name)
		}
		if err := fn(h, tr); err != nil {
			return err
		}
	}
}

// size is the bytes of the image's layers, uncompressed.
func (img *image) size() int {
	n := 0
	for _, l := range img.layers {
		n += len(l)
	}
	return n
}

// env is the value of key in the image's environment, and whether it is set.
func (img *image) env(key string) (string, bool) {
	for _, kv := range img.config.Config.Env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v, true
		}
	}
	return "", false
}

// user is the image's numeric user and group (USER uid:gid).
func (img *image) user(t *testing.T) (uid, gid int) {
	t.Helper()
	u, g, ok := strings.Cut(img.config.Config.User, ":")
	uid, errU := strconv.Atoi(u)
	gid, errG := strconv.Atoi(g)
	if !ok || errU != nil || errG != nil {
		t.Fatalf("USER %q: want a numeric uid:gid, which Kubernetes' runAsNonRoot can check without an /etc/passwd", img.config.Config.User)
	}
	return uid, gid
}

// TestImageConfig checks each image's configuration from outside.
func TestImageConfig(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			img := loadImage(t, arch)
			c := img.config.Config
			if img.config.OS != "linux" || img.config.Architecture != arch {
				t.Errorf("platform %s/%s, want linux/%s", img.config.OS, img.config.Architecture, arch)
			}
			if uid, gid := img.user(t); uid == 0 || gid == 0 {
				t.Errorf("USER %q: runs as root", c.User)
			}
			if _, ok := c.Volumes[dataDir]; !ok || len(c.Volumes) != 1 {
				t.Errorf("volumes %v, want only %s", c.Volumes, dataDir)
			}
			if _, ok := c.ExposedPorts["8080/tcp"]; !ok || len(c.ExposedPorts) != 1 {
				t.Errorf("exposed ports %v, want only 8080/tcp", c.ExposedPorts)
			}
			// The binary listens on loopback unless HOST says otherwise: in
			// a container that is unreachable through a published port.
			for key, want := range map[string]string{"HOST": "0.0.0.0", "PORT": "8080", "DATA_DIR": dataDir} {
				if v, ok := img.env(key); v != want {
					t.Errorf("env %s = %q (set: %v), want %q", key, v, ok, want)
				}
			}
			if want := []string{binaryPath}; !slices.Equal(c.Entrypoint, want) {
				t.Errorf("entrypoint %q, want %q", c.Entrypoint, want)
			}
			if want := []string{"serve"}; !slices.Equal(c.Cmd, want) {
				t.Errorf("cmd %q, want %q", c.Cmd, want)
			}
			if c.Healthcheck == nil {
				t.Error("no HEALTHCHECK (an OCI-format build drops it: scripts/image builds the docker format)")
			} else if want := []string{"CMD", binaryPath, "healthcheck"}; !slices.Equal(c.Healthcheck.Test, want) {
				t.Errorf("healthcheck %q, want %q (no shell: the exec form)", c.Healthcheck.Test, want)
			}
			for _, key := range []string{"version", "revision", "source", "licenses"} {
				if c.Labels["org.opencontainers.image."+key] == "" {
					t.Errorf("label org.opencontainers.image.%s is missing or empty (labels: %v)", key, c.Labels)
				}
			}
			if src := c.Labels["org.opencontainers.image.source"]; !strings.HasPrefix(src, "https://") {
				t.Errorf("source label %q is not an https URL", src)
			}
			// The licence label says NOASSERTION exactly while the
			// repository carries no LICENSE file.
			_, err := os.Stat(filepath.Join("..", "..", "LICENSE"))
			if lic := c.Labels["org.opencontainers.image.licenses"]; (lic == "NOASSERTION") != os.IsNotExist(err) {
				t.Errorf("licenses label %q, with LICENSE present: %v", lic, err == nil)
			}
		})
	}
}

// TestImageFiles checks what each image holds: the binary, the CA
// certificates and an empty /data owned by the image's user; no shell,
// nothing else; under maxImageBytes.
func TestImageFiles(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			img := loadImage(t, arch)
			if n := img.size(); n >= maxImageBytes {
				t.Errorf("image is %d bytes uncompressed, want under %d", n, maxImageBytes)
			}
			var regular []string
			for name, h := range img.files {
				switch path.Base(name) {
				case "sh", "bash", "ash", "dash", "zsh", "busybox", "toybox":
					t.Errorf("the image holds a shell: %s", name)
				}
				switch h.Typeflag {
				case tar.TypeReg:
					regular = append(regular, name)
				case tar.TypeDir:
				default:
					t.Errorf("%s: type %q; want only files and directories", name, h.Typeflag)
				}
			}
			slices.Sort(regular)
			if want := []string{caPath, binaryPath}; !slices.Equal(regular, want) {
				t.Errorf("files %q, want exactly %q", regular, want)
			}
			if h := img.files[binaryPath]; h == nil || h.Mode&0o111 == 0 {
				t.Errorf("%s is missing or not executable", binaryPath)
			}
			uid, gid := img.user(t)
			if h := img.files[dataDir]; h == nil || h.Typeflag != tar.TypeDir || h.Uid != uid || h.Gid != gid {
				t.Errorf("%s: %+v; want a directory owned by %d:%d", dataDir, h, uid, gid)
			}
		})
	}
}

// TestImageBinaryArch: the arm64 image holds a static arm64 binary (and
// the amd64 image an amd64 one), as `go version -m` reads its build
// settings. (-trimpath leaves -ldflags out of them: TestImageRuns checks
// the version stamp by running the amd64 binary.)
func TestImageBinaryArch(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			img := loadImage(t, arch)
			bin := filepath.Join(t.TempDir(), "passkeyd")
			if err := img.extract(t, bin, binaryPath); err != nil {
				t.Fatal(err)
			}
			out, err := runCommand("go", "version", "-m", bin)
			if err != nil {
				t.Fatalf("go version -m: %v\n%s", err, out)
			}
			for _, want := range []string{"GOOS=linux", "GOARCH=" + arch, "CGO_ENABLED=0", "-trimpath=true"} {
				if !strings.Contains(out, want) {
					t.Errorf("go version -m does not show %s:\n%s", want, out)
				}
			}
		})
	}
}

// extract writes the file at name in the image to dst.
func (img *image) extract(t *testing.T, dst, name string) error {
	t.Helper()
	found := false
	for _, l := range img.layers {
		err := eachEntry(l, func(h *tar.Header, r io.Reader) error {
			if h.Name != name || h.Typeflag != tar.TypeReg {
				return nil
			}
			found = true
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o755)
		})
		if err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%s is not in the image", name)
	}
	return nil
}
