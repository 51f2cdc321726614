package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// healthcheck asks a running passkeyd's /readyz and fails unless it
// answers 200: the container image's HEALTHCHECK, which has no shell or
// curl to do it. It finds the server from the settings the server reads
// (HOST, PORT, TLS_CERT_FILE), so one environment serves both.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("passkeyd healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "", "URL to ask instead; default http(s)://HOST:PORT/readyz, HOST 0.0.0.0 or empty meaning 127.0.0.1")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected argument %q", fs.Arg(0))
	}
	// A Transport of its own: no HTTP_PROXY from the environment, no
	// connection kept.
	transport := &http.Transport{DisableKeepAlives: true}
	url := *target
	if url == "" {
		certFile := getenv("TLS_CERT_FILE")
		scheme := "http"
		if certFile != "" {
			scheme = "https"
			pinned, err := pinnedLeaf(certFile)
			if err != nil {
				return fmt.Errorf("healthcheck: %w", err)
			}
			transport.TLSClientConfig = pinned
		}
		port := getenv("PORT")
		if port == "" {
			port = defaultOf("PORT")
		}
		url = scheme + "://" + net.JoinHostPort(healthcheckHost(getenv("HOST")), port) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: status %d", url, res.StatusCode)
	}
	fmt.Fprintf(stdout, "healthy: GET %s: status %d\n", url, res.StatusCode)
	return nil
}

// healthcheckHost is the address to reach a server listening on host:
// a wildcard or empty HOST (loopback only) is reached on loopback.
func healthcheckHost(host string) string {
	switch host {
	case "", "0.0.0.0":
		return "127.0.0.1"
	case "::", "[::]":
		return "::1"
	}
	return host
}

// pinnedLeaf is a TLS client configuration that accepts exactly the
// certificate in certFile (its first, the leaf), whatever name it is for:
// the healthcheck connects to a loopback address, which the certificate
// (issued for the site's domain) does not name.
func pinnedLeaf(certFile string) (*tls.Config, error) {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("TLS_CERT_FILE: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("TLS_CERT_FILE %s: no PEM certificate", certFile)
	}
	leaf := block.Bytes
	return &tls.Config{
		// Name and chain checks are replaced by the byte comparison below.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			if len(rawCerts) == 0 || !bytes.Equal(rawCerts[0], leaf) {
				return errors.New("the server's certificate is not the one in TLS_CERT_FILE")
			}
			return nil
		},
	}, nil
}
