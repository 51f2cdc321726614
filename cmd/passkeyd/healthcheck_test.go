package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHealthcheck runs `passkeyd healthcheck` against the real server,
// found from the same HOST and PORT the server reads, and against servers
// that are not ready or not there.
func TestHealthcheck(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan []string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- serve(ctx, nil, env(map[string]string{"DATA_DIR": dir, "PORT": "0", "HOST": "127.0.0.1"}), &logs, func(a []string) { ready <- a })
	}()
	var addr string
	select {
	case addrs := <-ready:
		addr = addrs[0]
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready")
	}
	t.Cleanup(func() { cancel(); <-done })
	_, port, _ := net.SplitHostPort(addr)

	check := func(vars map[string]string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"healthcheck"}, args...), env(vars), &out, &out)
		return out.String(), err
	}
	for _, host := range []string{"127.0.0.1", "0.0.0.0", ""} {
		if out, err := check(map[string]string{"HOST": host, "PORT": port}); err != nil {
			t.Errorf("HOST=%q PORT=%s: %v %s", host, port, err, out)
		}
	}
	if _, err := check(nil, "-url", "http://"+addr+"/readyz"); err != nil {
		t.Errorf("-url: %v", err)
	}

	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error": "The database is unavailable."}`, http.StatusServiceUnavailable)
	}))
	defer notReady.Close()
	if _, err := check(nil, "-url", notReady.URL+"/readyz"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("a 503 /readyz: err = %v, want a failure naming 503", err)
	}
	closed := notReady.Listener.Addr().String()
	notReady.Close()
	_, closedPort, _ := net.SplitHostPort(closed)
	if _, err := check(map[string]string{"PORT": closedPort}); err == nil {
		t.Error("nothing listening: healthcheck passed")
	}
	if _, err := check(nil, "extra"); err == nil {
		t.Error("an unexpected argument was accepted")
	}
}

// TestHealthcheckTLS: with TLS_CERT_FILE set the healthcheck speaks https
// to loopback and accepts the certificate in that file, and no other.
func TestHealthcheckTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	writeCert := func(der []byte) string {
		path := filepath.Join(t.TempDir(), "cert.pem")
		b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var out bytes.Buffer
	vars := map[string]string{"HOST": "127.0.0.1", "PORT": port, "TLS_CERT_FILE": writeCert(srv.Certificate().Raw)}
	if err := run(context.Background(), []string{"healthcheck"}, env(vars), &out, &out); err != nil {
		t.Fatalf("the server's own certificate: %v %s", err, out.String())
	}
	// Another certificate for the same names (127.0.0.1, example.com).
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := *srv.Certificate()
	tmpl.SignatureAlgorithm = x509.UnknownSignatureAlgorithm // ECDSA's, from the key
	tmpl.PublicKey = &key.PublicKey
	other, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	vars["TLS_CERT_FILE"] = writeCert(other)
	if err := run(context.Background(), []string{"healthcheck"}, env(vars), &out, &out); err == nil {
		t.Fatal("another certificate was accepted")
	}
}
