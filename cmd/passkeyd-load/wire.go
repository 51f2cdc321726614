package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd/internal/loopback"
)

// The load tool speaks HTTP/1.1 itself, on kept-alive connections, instead
// of through net/http's client: with net/http, its transport goroutines,
// header maps and cookie jar cost the tool about as much CPU per request as
// the server spends, and the tool shares the server's cores. What it sends
// is what a browser's fetch sends (method, path, Host, Origin,
// Content-Type, Content-Length, the cookies the server set); what it reads
// is checked as strictly as it needs: the status line, the headers it uses
// (Content-Length, Transfer-Encoding, Connection, Set-Cookie) and the body
// (by length, chunked, or up to the end of the connection).

// maxResponse bounds a response's body: the API's answers are a few
// kilobytes. (A header line is bounded by the read buffer, 16 KB.)
const maxResponse = 1 << 20

// newDialer returns the dialer that connects to the target: with a
// timeout, and, unless remote targets are allowed, only to a loopback
// address, checked at connect time on the address the name resolved to.
func newDialer(c Config) *net.Dialer {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !c.AllowRemote {
		d.Control = loopback.DialControl
	}
	return d
}

// wire is one worker's connection to the target, reused from request to
// request and dialled again when the server closes it or a request fails.
// It is not safe for concurrent use: each worker has its own.
type wire struct {
	ctx     context.Context
	dialer  *net.Dialer
	addr    string      // host:port to dial
	tls     *tls.Config // nil for http
	timeout time.Duration

	head   []byte // the headers every API request has, after the request line's path
	bare   []byte // the headers every request has: the request line's end, Host, User-Agent
	origin string // the Origin header line

	conn      net.Conn
	br        *bufio.Reader
	stopAfter func() bool // cancels the context.AfterFunc that breaks a blocked read
	req       []byte      // the request being written, reused
	body      []byte      // the last response's body, reused
	location  []byte      // the last response's Location header, reused
}

func newWire(ctx context.Context, c Config, dialer *net.Dialer) (*wire, error) {
	u, err := url.Parse(c.Target)
	if err != nil {
		return nil, err
	}
	w := &wire{ctx: ctx, dialer: dialer, addr: u.Host, timeout: c.Timeout}
	if u.Port() == "" {
		w.addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	if u.Scheme == "https" {
		w.tls = &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}}
	}
	w.head = fmt.Appendf(nil, " HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nUser-Agent: passkeyd-load\r\nAccept: application/json\r\nContent-Type: application/json\r\n",
		u.Host, c.Origin)
	w.bare = fmt.Appendf(nil, " HTTP/1.1\r\nHost: %s\r\nUser-Agent: passkeyd-load\r\n", u.Host)
	w.origin = "Origin: " + c.Origin + "\r\n"
	return w, nil
}

// clone returns a wire to the same target with a connection of its own.
func (w *wire) clone() *wire {
	return &wire{ctx: w.ctx, dialer: w.dialer, addr: w.addr, tls: w.tls, timeout: w.timeout, head: w.head, bare: w.bare, origin: w.origin}
}

// response is an answer to one request. Body and Location are valid until
// the next request on the same wire.
type response struct {
	Status   int
	Body     []byte
	Location []byte // the Location header, empty without one
}

// post sends body to the JSON API's path with the cookies of jar, reads
// the answer, and stores the cookies it sets in jar.
func (w *wire) post(path string, body []byte, jar *cookieJar) (response, error) {
	return w.send("POST ", path, w.head, "", body, jar)
}

// request is one request of the app sign-in (oidc.go): a page the browser
// visits, a form it posts, or an app's own call to the provider.
type request struct {
	method string // GET or POST
	path   string // with the query
	header string // header lines besides Host, User-Agent, Origin, Cookie and Content-Length, each ending in \r\n
	origin bool   // send the Origin header, as a browser does with a form's POST
	body   []byte // sent with Content-Length when the method is POST
	jar    *cookieJar
}

// do sends r and reads the answer; with a jar, as post does with cookies.
// An app's back-channel request (token, userinfo) has no jar: no cookies.
func (w *wire) do(r request) (response, error) {
	extra := r.header
	if r.origin {
		extra = w.origin + extra
	}
	if r.method == "GET" {
		return w.send("GET ", r.path, w.bare, extra, nil, r.jar)
	}
	return w.send(r.method+" ", r.path, w.bare, extra, r.body, r.jar)
}

// send writes one request: the method (with its space), path, head and
// extra header lines, Content-Length unless it is a GET, the cookies of
// jar (if any) that match the path, and the body.
func (w *wire) send(method, path string, head []byte, extra string, body []byte, jar *cookieJar) (response, error) {
	if err := w.ctx.Err(); err != nil {
		return response{}, err
	}
	if w.conn == nil {
		if err := w.dial(); err != nil {
			return response{}, err
		}
	}
	now := time.Now()
	req := append(w.req[:0], method...)
	req = append(req, path...)
	req = append(req, head...)
	req = append(req, extra...)
	if method != "GET " {
		req = append(req, "Content-Length: "...)
		req = strconv.AppendInt(req, int64(len(body)), 10)
		req = append(req, "\r\n"...)
	}
	if jar != nil {
		req = jar.appendHeader(req, path, now)
	}
	req = append(req, "\r\n"...)
	req = append(req, body...)
	w.req = req

	if err := w.conn.SetDeadline(now.Add(w.timeout)); err != nil {
		w.close()
		return response{}, err
	}
	res, keep, err := w.roundTrip(req, path, jar, now)
	if err != nil || !keep {
		w.close()
	}
	if err != nil && w.ctx.Err() != nil {
		err = w.ctx.Err()
	}
	return res, err
}

func (w *wire) roundTrip(req []byte, path string, jar *cookieJar, now time.Time) (res response, keep bool, err error) {
	if _, err := w.conn.Write(req); err != nil {
		return res, false, err
	}
	for {
		// Informational answers (100 Continue, 103 Early Hints) come before
		// the real one; nothing asks for them, but they are allowed.
		res.Status, keep, err = w.readResponse(path, jar, now)
		if err != nil || res.Status >= 200 {
			break
		}
	}
	if err != nil {
		return res, false, err
	}
	res.Body, res.Location = w.body, w.location
	return res, keep, nil
}

// readResponse reads a response's status line and headers, stores its
// cookies in jar and its body in w.body. keep says whether the connection
// may carry the next request.
func (w *wire) readResponse(path string, jar *cookieJar, now time.Time) (status int, keep bool, err error) {
	line, err := w.readLine()
	if err != nil {
		return 0, false, err
	}
	// HTTP/1.1 200 OK
	proto, rest, ok1 := bytes.Cut(line, []byte(" "))
	code, _, _ := bytes.Cut(rest, []byte(" "))
	status, err = strconv.Atoi(string(code))
	if !ok1 || len(code) != 3 || err != nil || status < 100 || !bytes.HasPrefix(proto, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	keep = string(proto) == "HTTP/1.1"
	length, chunked := int64(-1), false
	w.location = w.location[:0]
	for {
		line, err := w.readLine()
		if err != nil {
			return 0, false, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 {
			return 0, false, fmt.Errorf("malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 || (length >= 0 && n != length) {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
			length = n
		case asciiEqualFold(name, "Transfer-Encoding"):
			if !asciiEqualFold(value, "chunked") {
				return 0, false, fmt.Errorf("unsupported Transfer-Encoding %q", value)
			}
			chunked = true
		case asciiEqualFold(name, "Connection"):
			if asciiEqualFold(value, "close") {
				keep = false
			}
		case asciiEqualFold(name, "Set-Cookie"):
			if jar != nil {
				jar.set(value, path, now)
			}
		case asciiEqualFold(name, "Location"):
			w.location = append(w.location[:0], value...)
		}
	}
	if status < 200 {
		return status, keep, nil
	}
	w.body = w.body[:0]
	switch {
	case status == http.StatusNoContent || status == http.StatusNotModified:
	case chunked:
		err = w.readChunked()
	case length >= 0:
		if length > maxResponse {
			return 0, false, fmt.Errorf("response of %d bytes", length)
		}
		w.body = grow(w.body, int(length))
		_, err = io.ReadFull(w.br, w.body)
	default: // the body ends with the connection
		keep = false
		w.body, err = appendAll(w.body, w.br)
	}
	return status, keep, err
}

// readChunked reads a chunked body into w.body, and the trailer after it.
func (w *wire) readChunked() error {
	for {
		line, err := w.readLine()
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";")) // chunk extensions are ignored
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 || int64(len(w.body))+n > maxResponse {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			break
		}
		start := len(w.body)
		w.body = grow(w.body, start+int(n))
		if _, err := io.ReadFull(w.br, w.body[start:]); err != nil {
			return err
		}
		if crlf, err := w.readLine(); err != nil || len(crlf) != 0 {
			return errors.New("chunk not followed by CRLF")
		}
	}
	for { // trailer fields, up to an empty line
		line, err := w.readLine()
		if err != nil || len(line) == 0 {
			return err
		}
	}
}

// readLine returns the next line without its line ending. The slice is
// valid until the next read.
func (w *wire) readLine() ([]byte, error) {
	line, err := w.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errors.New("header line too long")
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func (w *wire) dial() error {
	conn, err := w.dialer.DialContext(w.ctx, "tcp", w.addr)
	if err != nil {
		return err
	}
	conn = fastSocket(conn)
	if w.tls != nil {
		tc := tls.Client(conn, w.tls)
		if err := tc.HandshakeContext(w.ctx); err != nil {
			conn.Close()
			return err
		}
		conn = tc
	}
	w.conn = conn
	if w.br == nil {
		w.br = bufio.NewReaderSize(conn, 16<<10)
	} else {
		w.br.Reset(conn)
	}
	// A cancelled run (a signal, -max-time) must not wait for a blocked
	// read to time out.
	w.stopAfter = context.AfterFunc(w.ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

// close drops the connection; the next request dials a new one.
func (w *wire) close() {
	if w.conn == nil {
		return
	}
	w.stopAfter()
	w.conn.Close()
	w.conn = nil
}

// grow returns b resized to n bytes, keeping its content, reallocated
// only when too small.
func grow(b []byte, n int) []byte {
	return slices.Grow(b, n-len(b))[:n]
}

// appendAll reads r to its end into b, up to maxResponse bytes.
func appendAll(b []byte, r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	buf.Write(b)
	n, err := buf.ReadFrom(io.LimitReader(r, maxResponse+1))
	if err == nil && n > maxResponse {
		err = fmt.Errorf("response over %d bytes", maxResponse)
	}
	return buf.Bytes(), err
}

// asciiEqualFold is strings.EqualFold for ASCII header names and tokens,
// without converting b to a string.
func asciiEqualFold[T []byte | string](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(s) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// cookieJar is one browser's cookies for the one site it talks to: the
// cookies the server set, sent back on every request whose path they
// match until they expire or the server deletes them. Domain attributes
// are not needed (one host) and not checked.
type cookieJar struct {
	cookies []jarCookie // in the order they were first set, as browsers send them
}

type jarCookie struct {
	name, value, path string
	expires           time.Time // zero: until the browser closes
}

// set stores the cookie of one Set-Cookie header, or deletes it (Max-Age
// zero or negative, or Expires in the past). It reads the name, the value
// and the attributes that decide where and how long the cookie is sent
// (Path, Max-Age, Expires); Domain is not needed for one host, and
// Secure, HttpOnly and SameSite change nothing for a client that is not a
// page. A header without a name=value pair is ignored, as browsers do.
func (j *cookieJar) set(header []byte, requestPath string, now time.Time) {
	pair, attrs, _ := bytes.Cut(header, []byte(";"))
	name, value, ok := bytes.Cut(pair, []byte("="))
	name, value = bytes.TrimSpace(name), bytes.TrimSpace(value)
	if !ok || len(name) == 0 {
		return
	}
	var path []byte
	var expires time.Time
	maxAge := false // Max-Age wins over Expires (RFC 6265 5.3, step 3)
	for len(attrs) > 0 {
		var attr []byte
		attr, attrs, _ = bytes.Cut(attrs, []byte(";"))
		key, val, _ := bytes.Cut(attr, []byte("="))
		key, val = bytes.TrimSpace(key), bytes.TrimSpace(val)
		switch {
		case asciiEqualFold(key, "Path"):
			path = val
		case asciiEqualFold(key, "Max-Age"):
			secs, err := strconv.Atoi(string(val))
			if err != nil {
				continue // an invalid attribute is ignored
			}
			maxAge = true
			if secs <= 0 {
				expires = time.Unix(1, 0)
			} else {
				expires = now.Add(time.Duration(secs) * time.Second)
			}
		case asciiEqualFold(key, "Expires") && !maxAge:
			if t, err := http.ParseTime(string(val)); err == nil {
				expires = t
			}
		}
	}
	cookiePath := string(path)
	if !strings.HasPrefix(cookiePath, "/") { // RFC 6265 5.1.4, the default path
		cookiePath = "/"
		if i := strings.LastIndexByte(requestPath, '/'); i > 0 {
			cookiePath = requestPath[:i]
		}
	}
	deleted := !expires.IsZero() && !expires.After(now)
	for i := range j.cookies {
		if old := &j.cookies[i]; old.name == string(name) && old.path == cookiePath {
			if deleted {
				j.cookies = append(j.cookies[:i], j.cookies[i+1:]...)
			} else {
				old.value, old.expires = string(value), expires
			}
			return
		}
	}
	if !deleted {
		j.cookies = append(j.cookies, jarCookie{name: string(name), value: string(value), path: cookiePath, expires: expires})
	}
}

// appendHeader appends the Cookie header line for a request to path, if
// any cookie is due, and forgets the cookies that expired.
func (j *cookieJar) appendHeader(b []byte, path string, now time.Time) []byte {
	first := true
	kept := j.cookies[:0]
	for _, c := range j.cookies {
		if !c.expires.IsZero() && !c.expires.After(now) {
			continue
		}
		kept = append(kept, c)
		if !pathMatch(path, c.path) {
			continue
		}
		if first {
			b = append(b, "Cookie: "...)
			first = false
		} else {
			b = append(b, "; "...)
		}
		b = append(b, c.name...)
		b = append(b, '=')
		b = append(b, c.value...)
	}
	clear(j.cookies[len(kept):])
	j.cookies = kept
	if !first {
		b = append(b, "\r\n"...)
	}
	return b
}

// pathMatch is RFC 6265's path-match of a request path and a cookie path.
func pathMatch(path, cookiePath string) bool {
	if path == cookiePath {
		return true
	}
	return strings.HasPrefix(path, cookiePath) && (strings.HasSuffix(cookiePath, "/") || path[len(cookiePath)] == '/')
}
