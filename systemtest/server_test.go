package systemtest

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/loopback"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/postgres"
	"github.com/passkeyd/passkeyd/sqlite"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// database is where a test's passkeyd keeps its data.
type database struct {
	kind      string // "sqlite" or "postgres"
	url       string // where the test finds it
	serverURL string // the server's DATABASE_URL, if not url
}

// store is the store the checks open; sqlstore.DB gives its pool for
// queries the Store has no method for.
type store = passkeyd.Store

// sqliteDatabase is a fresh SQLite file in the test's temporary directory.
func sqliteDatabase(t testing.TB) database {
	return database{kind: "sqlite", url: "file:" + filepath.Join(t.TempDir(), "passkeyd.db")}
}

// postgresDatabase is a fresh schema in the PASSKEYD_TEST_POSTGRES
// database, dropped when the test ends. Without PASSKEYD_TEST_POSTGRES the
// test skips, or fails under CI=true.
func postgresDatabase(t testing.TB) database {
	t.Helper()
	return database{kind: "postgres", url: testserver.PostgresDSN(t)}
}

// open opens the database with its store package (applying no migration
// the server has not applied already). The caller closes it.
func (d database) open(t testing.TB) store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		st  store
		err error
	)
	switch d.kind {
	case "sqlite":
		st, err = sqlite.Open(ctx, d.url)
	case "postgres":
		st, err = postgres.Open(ctx, d.url, postgres.PoolConfig{MaxOpenConns: 2})
	default:
		err = fmt.Errorf("unknown database kind %q", d.kind)
	}
	if err != nil {
		t.Fatalf("open the %s database with the store package: %v", d.kind, err)
	}
	return st
}

// server is a passkeyd process, started, killed and restarted on one port
// and one database.
type server struct {
	t       testing.TB
	bin     string
	db      database
	dir     string
	port    string
	URL     string // http://127.0.0.1:PORT, where clients connect
	Origin  string // http://localhost:PORT, the configured origin
	metrics string // http://127.0.0.1:MPORT/metrics, or ""
	env     []string
	log     *logBuffer

	proc   *testserver.Process // the latest start's, or nil
	starts int
}

// sessionSecret is fixed, so that sessions survive restarts.
const sessionSecret = "systemtest-session-secret-0123456789abcdef"

// newServer prepares a passkeyd on a free loopback port and db; start runs
// it. At cleanup a running process is killed, and if the test failed the
// server's log is printed.
func newServer(t testing.TB, db database, withMetrics bool) *server {
	t.Helper()
	s := &server{t: t, bin: testserver.Binary(t), db: db, dir: t.TempDir(), port: testserver.FreePort(t), log: newLogBuffer()}
	s.URL = "http://127.0.0.1:" + s.port
	s.Origin = "http://localhost:" + s.port
	s.env = append(baseEnv(),
		"HOST=127.0.0.1",
		"PORT="+s.port,
		"WEBAUTHN_RP_ID=localhost",
		"WEBAUTHN_ORIGIN="+s.Origin,
		"DATABASE_URL="+cmp.Or(db.serverURL, db.url),
		"DATA_DIR="+filepath.Join(s.dir, "data"),
		"SESSION_SECRET="+sessionSecret,
		"RATE_LIMIT=off",
		"LOG_FORMAT=text",
	)
	if withMetrics {
		addr := "127.0.0.1:" + testserver.FreePort(t)
		s.metrics = "http://" + addr + "/metrics"
		s.env = append(s.env, "METRICS_ADDR="+addr)
	}
	t.Cleanup(func() {
		if s.running() {
			s.log.mark("SIGKILL at cleanup")
			s.proc.Signal(syscall.SIGKILL)
			<-s.proc.Exited()
		}
		if t.Failed() {
			s.printLog()
		}
	})
	return s
}

// baseEnv is the environment passed on to passkeyd: enough to run, and the
// Go runtime's settings, but none of the caller's passkeyd settings.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "HOME", "TMPDIR", "GODEBUG", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GOTRACEBACK":
			env = append(env, kv)
		}
	}
	return env
}

func (s *server) running() bool { return s.proc != nil && s.proc.Running() }

// start starts the process and waits until GET /readyz answers 200 (the
// database answers and is migrated).
func (s *server) start() {
	t := s.t
	t.Helper()
	if s.running() {
		t.Fatal("start: passkeyd is running already")
	}
	s.starts++
	s.log.mark(fmt.Sprintf("start #%d", s.starts))
	s.proc = testserver.Start(t, testserver.Config{Bin: s.bin, Dir: s.dir, Env: s.env, Log: s.log})
	err := s.proc.WaitOK(s.URL+"/readyz", 30*time.Second)
	switch {
	case errors.Is(err, testserver.ErrExited):
		t.Fatalf("passkeyd (start #%d) exited before it was ready: %v", s.starts, s.proc.Err())
	case err != nil:
		t.Fatalf("passkeyd (start #%d): %v", s.starts, err)
	}
}

// signal sends sig to the process. Unlike the other methods, it may be
// called from any goroutine.
func (s *server) signal(sig syscall.Signal) {
	name := sig.String()
	switch sig {
	case syscall.SIGKILL:
		name = "SIGKILL"
	case syscall.SIGTERM:
		name = "SIGTERM"
	}
	s.log.mark(name)
	s.proc.Signal(sig)
}

// waitKilled waits for the process to die of a SIGKILL sent by signal, and
// fails the test if it died otherwise (by itself, before the kill).
func (s *server) waitKilled() {
	t := s.t
	t.Helper()
	select {
	case <-s.proc.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("passkeyd did not die within 10s of SIGKILL")
	}
	if ws, ok := s.proc.State().Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("passkeyd (start #%d) exited by itself before the kill: %v", s.starts, s.proc.Err())
	}
}

// stop sends SIGTERM and expects a clean exit within 20 seconds.
func (s *server) stop() {
	t := s.t
	t.Helper()
	if s.proc == nil {
		t.Fatal("stop: passkeyd was never started")
	}
	if !s.running() {
		t.Fatalf("stop: passkeyd (start #%d) is not running; it exited by itself: %v", s.starts, s.proc.Err())
	}
	s.signal(syscall.SIGTERM)
	select {
	case <-s.proc.Exited():
		if err := s.proc.Err(); err != nil {
			t.Errorf("passkeyd exited with %v after SIGTERM, want a clean exit", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("passkeyd did not exit within 20s of SIGTERM")
	}
}

func (s *server) pid() int { return s.proc.Pid() }

// printLog logs what the server wrote: all of it when short, else its
// beginning, its warnings and errors, and its end, and saves the whole of
// what was kept to a file that outlives the test.
func (s *server) printLog() {
	s.t.Helper()
	text, bad, trimmed := s.log.snapshot()
	if !trimmed && len(text) <= 256<<10 {
		s.t.Logf("passkeyd log:\n%s", text)
		return
	}
	saved := ""
	if f, err := os.CreateTemp("", "passkeyd-systemtest-*.log"); err == nil {
		_, werr := f.WriteString(text)
		if cerr := f.Close(); werr == nil && cerr == nil {
			saved = " (all of it kept is in " + f.Name() + ")"
		}
	}
	tail := text
	if len(tail) > 64<<10 {
		tail = tail[len(tail)-64<<10:]
		tail = tail[strings.IndexByte(tail, '\n')+1:]
	}
	s.t.Logf("passkeyd log%s: warnings, errors and markers:\n%s\n... last 64 KB:\n%s", saved, strings.Join(bad, "\n"), tail)
}

// newTransport is shared by a test's simulated browsers: idle connections
// enough for every worker, and connections to loopback addresses only.
func newTransport() *http.Transport {
	d := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: loopback.DialControl,
	}
	return &http.Transport{
		Proxy:               nil,
		DialContext:         d.DialContext,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// logBuffer collects the server's output from two pipes, across restarts.
// It keeps the first 256 KB and the last 4 MB, and every line that is a
// warning, an error, a panic or a test marker.
type logBuffer struct {
	mu      sync.Mutex
	head    []byte
	tail    []byte
	dropped int64
	partial []byte
	bad     []string
}

const (
	logHeadMax = 256 << 10
	logTailMax = 4 << 20
	logBadMax  = 500
)

func newLogBuffer() *logBuffer { return &logBuffer{} }

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.write(p)
	return len(p), nil
}

func (b *logBuffer) write(p []byte) {
	if n := min(len(p), logHeadMax-len(b.head)); n > 0 {
		b.head = append(b.head, p[:n]...)
		p = p[n:]
	}
	b.tail = append(b.tail, p...)
	if len(b.tail) > 2*logTailMax {
		cut := len(b.tail) - logTailMax
		b.dropped += int64(cut)
		b.tail = append(b.tail[:0], b.tail[cut:]...)
	}
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		line := string(b.partial[:i])
		b.partial = b.partial[i+1:]
		if isBadLine(line) && len(b.bad) < logBadMax {
			b.bad = append(b.bad, line)
		}
	}
	if len(b.partial) > 64<<10 { // no newline for ages: not a log line
		b.partial = b.partial[:0]
	}
}

// mark writes a line of the test's own into the log.
func (b *logBuffer) mark(what string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.write([]byte(fmt.Sprintf("=== systemtest %s: %s\n", time.Now().Format("15:04:05.000"), what)))
}

func isBadLine(line string) bool {
	return strings.HasPrefix(line, "=== systemtest") || strings.Contains(line, "level=WARN") ||
		strings.Contains(line, "level=ERROR") || strings.HasPrefix(line, "panic:") ||
		strings.HasPrefix(line, "fatal error:")
}

// snapshot returns the kept text, the bad lines (markers included), and
// whether anything was dropped.
func (b *logBuffer) snapshot() (text string, bad []string, trimmed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	text = string(b.head)
	if b.dropped > 0 {
		text += fmt.Sprintf("\n... (%d bytes dropped) ...\n", b.dropped)
	}
	return text + string(b.tail), append([]string(nil), b.bad...), b.dropped > 0
}

// problems returns the warning, error and panic lines (not the markers).
func (b *logBuffer) problems() []string {
	_, bad, _ := b.snapshot()
	var out []string
	for _, l := range bad {
		if !strings.HasPrefix(l, "=== systemtest") {
			out = append(out, l)
		}
	}
	return out
}

// procStatus returns a process's resident memory in bytes and its number of
// open file descriptors (sockets, database files, pipes).
func procStatus(pid int) (rss int64, fds int, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("VmRSS %q: %v", v, err)
			}
			rss = kb << 10
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("no VmRSS in /proc/PID/status")
	}
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, 0, err
	}
	return rss, len(entries), nil
}

// metricValue reads one unlabelled sample (such as go_goroutines) from a
// Prometheus text exposition, or the sum of a labelled family's samples;
// found is false when there is no such sample (a labelled counter nothing
// has counted yet has none).
func metricValue(client *http.Client, metricsURL, name string) (sum float64, found bool, err error) {
	resp, err := client.Get(metricsURL)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, false, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, false, fmt.Errorf("GET %s: status %d", metricsURL, resp.StatusCode)
	}
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		fields := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, false, fmt.Errorf("metric %s: %q: %v", name, line, err)
		}
		sum += v
		found = true
	}
	return sum, found, nil
}

// withLatency starts a TCP proxy to the PostgreSQL server dsn names that
// delays everything it forwards by delay, and returns dsn through it. A
// dsn on a Unix socket is returned as it is.
func withLatency(t testing.TB, dsn string, delay time.Duration) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" || u.Query().Get("host") != "" {
		t.Logf("PASSKEYD_TEST_POSTGRES is not on TCP: no latency added")
		return dsn
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				client.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, client, server)
			mu.Unlock()
			wg.Go(func() { delayedCopy(server, client, delay) })
			wg.Go(func() { delayedCopy(client, server, delay) })
		}
	})
	u.Host = ln.Addr().String()
	return u.String()
}

// delayedCopy copies src to dst, each chunk delay after it was read, as a
// network link would; then closes both. Whatever src sent before it closed
// (a COMMIT, say) is still delivered.
func delayedCopy(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	chunks := make(chan chunk, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		failed := false
		for c := range chunks {
			if failed {
				continue
			}
			time.Sleep(time.Until(c.at))
			if _, err := dst.Write(c.b); err != nil {
				failed = true
				src.Close()
			}
		}
		dst.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunks <- chunk{b: bytes.Clone(buf[:n]), at: time.Now().Add(delay)}
		}
		if err != nil {
			break
		}
	}
	close(chunks)
	<-done
}
