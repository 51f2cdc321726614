package imagetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRelease runs scripts/release for the two Linux targets, whose
// builds scripts/image has just made (so it only links and packs), and
// checks the archives, SHA256SUMS, and that each binary is the image's, byte
// for byte: one build recipe for both. Like the image tests it needs
// PASSKEYD_TEST_IMAGE_DIR. Without a LICENSE file in the repository, it
// checks that scripts/release refuses to build, and builds trial archives
// with PASSKEYD_RELEASE_WITHOUT_LICENSE=1.
func TestRelease(t *testing.T) {
	images := map[string]*image{"amd64": loadImage(t, "amd64"), "arm64": loadImage(t, "arm64")}
	version := images["amd64"].config.Config.Labels["org.opencontainers.image.version"]
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(root, "LICENSE"))
	hasLicense := err == nil
	out := t.TempDir()
	release := func(env ...string) (string, error) {
		cmd := exec.Command(filepath.Join(root, "scripts", "release"), "-targets", "linux/amd64,linux/arm64", "-out", out)
		cmd.Env = append(os.Environ(), append([]string{"PASSKEYD_VERSION=" + version, "PASSKEYD_RELEASE_WITHOUT_LICENSE="}, env...)...)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	var env []string
	if !hasLicense {
		if msg, err := release(); err == nil || !strings.Contains(msg, "no LICENSE file") {
			t.Errorf("scripts/release without a LICENSE file: %v\n%s\nwant a refusal naming LICENSE", err, msg)
		}
		env = []string{"PASSKEYD_RELEASE_WITHOUT_LICENSE=1"}
	}
	if msg, err := release(env...); err != nil {
		t.Fatalf("scripts/release: %v\n%s", err, msg)
	}

	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		sum, name, _ := strings.Cut(line, "  ")
		listed = append(listed, name)
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatalf("SHA256SUMS lists %s: %v", name, err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
			t.Errorf("SHA256SUMS: %s does not match", name)
		}
	}
	wantDocs := []string{"CHANGELOG.md", "LICENSE", "README.md", "passkeyd"}
	if !hasLicense {
		wantDocs = []string{"CHANGELOG.md", "NO-LICENSE.txt", "README.md", "passkeyd"}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		base := "passkeyd-" + version + "-linux-" + arch
		if !slices.Contains(listed, base+".tar.gz") {
			t.Errorf("SHA256SUMS lists %q, not %s.tar.gz", listed, base)
			continue
		}
		files := readTarGz(t, filepath.Join(out, base+".tar.gz"), base+"/")
		var names []string
		for name := range files {
			names = append(names, name)
		}
		slices.Sort(names)
		if !slices.Equal(names, wantDocs) {
			t.Errorf("%s.tar.gz holds %q, want %q", base, names, wantDocs)
		}
		imageBin := filepath.Join(t.TempDir(), "passkeyd")
		if err := images[arch].extract(t, imageBin, binaryPath); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(imageBin); !bytes.Equal(b, files["passkeyd"]) {
			t.Errorf("%s: the release binary is not the image's", base)
		}
	}
}

// readTarGz returns the regular files of a .tar.gz under prefix, by name
// after it.
func readTarGz(t *testing.T, name, prefix string) map[string][]byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if !strings.HasPrefix(h.Name, prefix) {
			t.Errorf("%s: %s is outside %s", name, h.Name, prefix)
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimPrefix(h.Name, prefix)] = b
	}
}
