package web_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkCeremonyHTTP is one whole ceremony through net/http: passkeyd's
// handler behind a real http.Server on loopback, on a SQLite file, and a
// client that speaks HTTP/1.1 itself on one kept-alive connection and
// allocates nothing per request, so that B/op and allocs/op are the
// server's: net/http's request handling, the handlers, go-webauthn and the
// store. The authenticator's work runs with the timer stopped. scripts/bench
// runs it for the allocations per sign-in and per registration (issue 22):
//
//	go test -run '^$' -bench CeremonyHTTP -benchtime 2000x -benchmem ./web/
//
// SignIn is generate-authentication-options then verify-authentication over
// 64 registered users, alternately with and without an email (the load
// tool's mixed mode); Register is a new account's options and verify.
// SignInLogged and RegisterLogged are the same with a text log line per
// request, as cmd/passkeyd writes (to io.Discard here).
func BenchmarkCeremonyHTTP(b *testing.B) {
	for _, logged := range []bool{false, true} {
		var log *slog.Logger
		name := ""
		if logged {
			log = slog.New(slog.NewTextHandler(io.Discard, nil))
			name = "Logged"
		}
		benchmarkCeremoniesHTTP(b, newBenchServerLogging(b, log, logged), name)
	}
}

func benchmarkCeremoniesHTTP(b *testing.B, s *benchServer, name string) {
	ts := httptest.NewServer(s.h)
	b.Cleanup(ts.Close)
	c := dialWire(b, ts.Listener.Addr().String())
	b.Cleanup(func() { c.conn.Close() })

	users := make([]*wireBrowser, 64)
	for i := range users {
		users[i] = &wireBrowser{benchBrowser: newBenchBrowser(fmt.Sprintf("user%d@example.com", i))}
		c.signUp(b, users[i])
	}
	b.Run("SignIn"+name, func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			u := users[i%len(users)]
			email := []byte(`{}`)
			if i%2 == 0 {
				email = u.emailBody
			}
			opts := c.post(b, u, "/api/passkeys/generate-authentication-options", email)
			b.StopTimer()
			assertion, err := u.auth.Get(opts, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			c.post(b, u, "/api/passkeys/verify-authentication", assertion)
		}
	})
	seq := 0
	b.Run("Register"+name, func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			seq++
			br := &wireBrowser{benchBrowser: newBenchBrowser(fmt.Sprintf("new%d@example.com", seq))}
			b.StartTimer()
			c.signUp(b, br)
		}
	})
}

// wireBrowser is a benchBrowser whose cookies are kept as bytes reused
// from one answer to the next.
type wireBrowser struct {
	*benchBrowser
	emailBody []byte
	jar       []wireCookie
}

type wireCookie struct {
	name  string
	value []byte
	set   bool
}

func (br *wireBrowser) setCookie(name, value []byte, deleted bool) {
	for i := range br.jar {
		if br.jar[i].name == string(name) {
			br.jar[i].value = append(br.jar[i].value[:0], value...)
			br.jar[i].set = !deleted
			return
		}
	}
	if !deleted {
		br.jar = append(br.jar, wireCookie{name: string(name), value: append([]byte(nil), value...), set: true})
	}
}

// wireClient is one kept-alive HTTP/1.1 connection, its buffers reused.
type wireClient struct {
	conn net.Conn
	r    *bufio.Reader
	req  []byte
	body []byte
}

func dialWire(b testing.TB, addr string) *wireClient {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	return &wireClient{conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
}

func (c *wireClient) signUp(b *testing.B, br *wireBrowser) {
	br.emailBody = emailBody(br.email)
	opts := c.post(b, br, "/api/passkeys/generate-registration-options", br.emailBody)
	b.StopTimer()
	att, _, err := br.auth.Create(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	c.post(b, br, "/api/passkeys/verify-registration", att)
}

// post sends a JSON request as br's browser and keeps the cookies the
// answer sets. It returns the body, valid until the next post, and fails
// the benchmark on any status but 200.
func (c *wireClient) post(b testing.TB, br *wireBrowser, path string, body []byte) []byte {
	req := append(c.req[:0], "POST "...)
	req = append(req, path...)
	req = append(req, " HTTP/1.1\r\nHost: localhost:8080\r\nOrigin: "+benchOrigin+
		"\r\nUser-Agent: Mozilla/5.0 (benchmark)\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: "...)
	req = strconv.AppendInt(req, int64(len(body)), 10)
	req = append(req, "\r\n"...)
	sep := "Cookie: "
	for _, ck := range br.jar {
		if ck.set {
			req = append(req, sep...)
			req = append(req, ck.name...)
			req = append(req, '=')
			req = append(req, ck.value...)
			sep = "; "
		}
	}
	if sep == "; " {
		req = append(req, "\r\n"...)
	}
	req = append(req, "\r\n"...)
	req = append(req, body...)
	c.req = req
	if _, err := c.conn.Write(req); err != nil {
		b.Fatal(err)
	}
	status, resp, err := c.readResponse(br)
	if err != nil {
		b.Fatalf("POST %s: %v", path, err)
	}
	if status != 200 {
		b.Fatalf("POST %s: status %d: %s", path, status, resp)
	}
	return resp
}

func (c *wireClient) readResponse(br *wireBrowser) (int, []byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, err
	}
	length, chunked := -1, false
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(": "))
		if !ok {
			return 0, nil, fmt.Errorf("bad header %q", line)
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, nil, err
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Equal(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Set-Cookie")):
			pair, attrs, _ := bytes.Cut(value, []byte("; "))
			n, v, _ := bytes.Cut(pair, []byte("="))
			deleted := bytes.Contains(attrs, []byte("Max-Age=0")) || len(v) == 0
			br.setCookie(n, v, deleted)
		}
	}
	c.body = c.body[:0]
	switch {
	case chunked:
		for {
			line, err := c.r.ReadSlice('\n')
			if err != nil {
				return 0, nil, err
			}
			size, err := strconv.ParseInt(string(bytes.TrimRight(line, "\r\n")), 16, 64)
			if err != nil {
				return 0, nil, err
			}
			if err := c.readBody(int(size) + 2); err != nil { // the chunk and its CRLF
				return 0, nil, err
			}
			c.body = c.body[:len(c.body)-2]
			if size == 0 {
				break
			}
		}
	case length >= 0:
		if err := c.readBody(length); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, fmt.Errorf("answer without a length")
	}
	return status, c.body, nil
}

func (c *wireClient) readBody(n int) error {
	start := len(c.body)
	c.body = append(c.body, make([]byte, n)...)
	_, err := io.ReadFull(c.r, c.body[start:])
	return err
}
