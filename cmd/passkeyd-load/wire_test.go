package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestWire returns a wire to url, as the load tool makes them.
func newTestWire(t *testing.T, ctx context.Context, url string, timeout time.Duration) *wire {
	t.Helper()
	cfg, err := Config{Target: url, Timeout: timeout}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWire(ctx, cfg, newDialer(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	return w
}

// TestWireCookies: the cookies a server sets come back on the next
// requests whose path they match, replaced when set again, and gone once
// deleted (Max-Age=0, or Expires in the past) or expired.
func TestWireCookies(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/set":
			w.Header().Add("Set-Cookie", "session=s1; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax")
			w.Header().Add("Set-Cookie", "ceremony_a=A; Path=/; Max-Age=300")
			w.Header().Add("Set-Cookie", `quoted="q v"; Path=/`)
			w.Header().Add("Set-Cookie", "here=h") // default path: /api
			w.Header().Add("Set-Cookie", "elsewhere=e; Path=/other")
			w.Header().Add("Set-Cookie", "gone=g; Max-Age=1")
		case "/api/replace":
			w.Header().Add("Set-Cookie", "session=s2; Path=/; Max-Age=3600")
			w.Header().Add("Set-Cookie", "ceremony_a=; Path=/; Max-Age=0")
			w.Header().Add("Set-Cookie", "quoted=; Path=/; Expires=Thu, 01 Jan 1970 00:00:01 GMT")
			w.Header().Add("Set-Cookie", "ceremony_b=B; Path=/; Max-Age=300")
			w.Header().Add("Set-Cookie", "=nameless; Path=/")
		}
		fmt.Fprint(w, r.Header.Get("Cookie"))
	}))
	defer ts.Close()
	w := newTestWire(t, t.Context(), ts.URL, 5*time.Second)
	var jar cookieJar
	post := func(path string) string {
		t.Helper()
		res, err := w.post(path, []byte(`{}`), &jar)
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("POST %s: %v, status %d", path, err, res.Status)
		}
		return string(res.Body)
	}
	if got := post("/api/set"); got != "" {
		t.Errorf("first request sent cookies %q", got)
	}
	// "gone" expires after a second: the jar sends it only while it lasts.
	for i := range jar.cookies {
		if jar.cookies[i].name == "gone" {
			jar.cookies[i].expires = time.Now().Add(-time.Millisecond)
		}
	}
	if got, want := post("/api/echo"), `session=s1; ceremony_a=A; quoted="q v"; here=h`; got != want {
		t.Errorf("cookies sent to /api/echo:\n got %s\nwant %s", got, want)
	}
	if got, want := post("/elsewhere"), `session=s1; ceremony_a=A; quoted="q v"`; got != want {
		t.Errorf("cookies sent to /elsewhere:\n got %s\nwant %s", got, want)
	}
	post("/api/replace")
	if got, want := post("/api/echo"), `session=s2; here=h; ceremony_b=B`; got != want {
		t.Errorf("cookies after replacing and deleting:\n got %s\nwant %s", got, want)
	}
}

// TestWireResponses: bodies by Content-Length and chunked are read whole
// and the connection is kept; after Connection: close the next request
// dials again; a server error is a status, not a failure.
func TestWireResponses(t *testing.T) {
	var mu sync.Mutex
	peers := map[string]bool{}
	big := strings.Repeat("x", 10000)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		peers[r.RemoteAddr] = true
		mu.Unlock()
		switch r.URL.Path {
		case "/chunked":
			fmt.Fprint(w, big[:5000])
			w.(http.Flusher).Flush() // no length known: chunked
			fmt.Fprint(w, big[5000:])
		case "/close":
			w.Header().Set("Connection", "close")
			fmt.Fprint(w, "bye")
		case "/fail":
			http.Error(w, `{"error":"boom"}`, http.StatusInternalServerError)
		default:
			fmt.Fprint(w, "ok")
		}
	}))
	defer ts.Close()
	w := newTestWire(t, t.Context(), ts.URL, 5*time.Second)
	var jar cookieJar
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/a", 200, "ok"},
		{"/chunked", 200, big},
		{"/b", 200, "ok"},
		{"/fail", 500, `{"error":"boom"}` + "\n"},
		{"/c", 200, "ok"},
	} {
		res, err := w.post(tc.path, []byte(`{}`), &jar)
		if err != nil || res.Status != tc.status || string(res.Body) != tc.body {
			t.Fatalf("POST %s: %v, status %d, %d bytes; want status %d, %d bytes", tc.path, err, res.Status, len(res.Body), tc.status, len(tc.body))
		}
	}
	if len(peers) != 1 {
		t.Errorf("%d connections for five requests, want one kept alive", len(peers))
	}
	for _, path := range []string{"/close", "/d"} {
		if res, err := w.post(path, nil, &jar); err != nil || res.Status != 200 {
			t.Fatalf("POST %s: %v, status %d", path, err, res.Status)
		}
	}
	if len(peers) != 2 {
		t.Errorf("%d connections, want a second one after Connection: close", len(peers))
	}
}

// rawServer answers every request on its connections with answer.
func rawServer(t *testing.T, answer func(conn net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for { // skip the request's head; these tests send no body
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						answer(conn)
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestWireRawAnswers: what net/http's server does not send but HTTP/1.1
// allows, and what it does not allow.
func TestWireRawAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		status       int
		body         string // "" with status 0: an error is expected
	}{
		{"Informational", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok"},
		{"BodyToClose", "HTTP/1.1 200 OK\r\n\r\nuntil the end", 200, "until the end"},
		{"ChunkExtensionsAndTrailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\nTrailer: 1\r\n\r\n", 200, "ok"},
		{"NoContent", "HTTP/1.1 204 No Content\r\n\r\n", 204, ""},
		{"BadStatusLine", "HTTP/1.1 OK\r\n\r\n", 0, ""},
		{"ConflictingLengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", 0, ""},
		{"UnknownTransferEncoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok", 0, ""},
		{"ShortBody", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := rawServer(t, func(conn net.Conn) {
				fmt.Fprint(conn, tc.answer)
				if !strings.Contains(tc.answer, "Content-Length") && !strings.Contains(tc.answer, "chunked") {
					conn.Close()
				}
				if tc.name == "ShortBody" {
					conn.Close()
				}
			})
			w := newTestWire(t, t.Context(), url, 5*time.Second)
			res, err := w.post("/x", nil, &cookieJar{})
			if tc.status == 0 {
				if err == nil {
					t.Fatalf("status %d, body %q; want an error", res.Status, res.Body)
				}
				return
			}
			if err != nil || res.Status != tc.status || string(res.Body) != tc.body {
				t.Fatalf("%v, status %d, body %q; want %d, %q", err, res.Status, res.Body, tc.status, tc.body)
			}
		})
	}
}

// TestWireTimeoutAndCancel: a server that never answers costs a request
// its timeout, and a cancelled run does not wait for the timeout.
func TestWireTimeoutAndCancel(t *testing.T) {
	url := rawServer(t, func(net.Conn) {})
	w := newTestWire(t, t.Context(), url, 50*time.Millisecond)
	if _, err := w.post("/x", nil, &cookieJar{}); !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
		t.Errorf("no answer within the timeout: %v, want a timeout", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	w = newTestWire(t, ctx, url, time.Hour)
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := w.post("/x", nil, &cookieJar{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestWireDo: the oidc mode's requests are what a browser's navigation
// and form, and an app's back-channel call, send: a GET without a body or
// Content-Length, Origin only on the browser's form, the browser's
// cookies only with its jar; and the answer's Location is read.
func TestWireDo(t *testing.T) {
	type seen struct {
		method, query, origin, cookie, auth, body, length string
	}
	var got seen
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 64)
		n, _ := r.Body.Read(b)
		got = seen{r.Method, r.URL.RawQuery, r.Header.Get("Origin"), r.Header.Get("Cookie"), r.Header.Get("Authorization"), string(b[:n]), r.Header.Get("Content-Length")}
		if r.URL.Path == "/oidc/authorize" {
			http.SetCookie(w, &http.Cookie{Name: "passkeyd_oidc", Value: "v", Path: "/"})
			http.Redirect(w, r, "http://localhost:1/oidc/login?id=abc", http.StatusFound)
		}
	}))
	defer ts.Close()
	w := newTestWire(t, t.Context(), ts.URL, 5*time.Second)
	var jar cookieJar

	res, err := w.do(request{method: "GET", path: "/oidc/authorize?state=s", header: acceptHTML, jar: &jar})
	if err != nil || res.Status != http.StatusFound || string(res.Location) != "http://localhost:1/oidc/login?id=abc" {
		t.Fatalf("GET authorize: %v, status %d, Location %q", err, res.Status, res.Location)
	}
	if want := (seen{method: "GET", query: "state=s"}); got != want {
		t.Errorf("the server saw %+v, want %+v (no Origin, cookie, body or Content-Length)", got, want)
	}
	if p := pathOf(res.Location); p != "/oidc/login?id=abc" {
		t.Errorf("pathOf(%s) = %q", res.Location, p)
	}

	res, err = w.do(request{method: "POST", path: "/oidc/consent", header: formBody, origin: true, body: []byte("id=abc&decision=allow"), jar: &jar})
	if err != nil || res.Status != http.StatusOK || len(res.Location) != 0 {
		t.Fatalf("POST consent: %v, status %d, Location %q (want none)", err, res.Status, res.Location)
	}
	if want := (seen{method: "POST", origin: w.origin[len("Origin: ") : len(w.origin)-2], cookie: "passkeyd_oidc=v", body: "id=abc&decision=allow", length: "21"}); got != want {
		t.Errorf("the server saw %+v, want %+v", got, want)
	}

	if _, err := w.do(request{method: "POST", path: "/oidc/token", header: formBody + "Authorization: Basic eDp5\r\n", body: []byte("grant_type=x")}); err != nil {
		t.Fatal(err)
	}
	if want := (seen{method: "POST", auth: "Basic eDp5", body: "grant_type=x", length: "12"}); got != want {
		t.Errorf("the app's request: the server saw %+v, want %+v (no cookies, no Origin)", got, want)
	}
}
