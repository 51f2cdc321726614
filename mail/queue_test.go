package mail

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/mail/mailtest"
)

// syncBuffer is a bytes.Buffer safe for the worker and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// counter counts calls per kind, for OnSent and OnFailed.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[kind]++
}

func (c *counter) get(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[kind]
}

// newTestQueue returns a queue on s with short pauses, its log, and
// counters for its hooks. It is closed when the test ends.
func newTestQueue(t *testing.T, s Sender, buffer int) (q *Queue, log *syncBuffer, sent, failed *counter) {
	t.Helper()
	log = &syncBuffer{}
	q = NewQueue(s, slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})), buffer)
	q.backoff = 10 * time.Millisecond
	sent, failed = &counter{}, &counter{}
	q.OnSent, q.OnFailed = sent.add, failed.add
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q.Close(ctx)
	})
	return q, log, sent, failed
}

// gate is a Sender that holds every Send until released or canceled:
// it keeps the worker busy so the queue fills up.
type gate struct {
	started chan struct{}
	release chan struct{}
}

func newGate() *gate {
	return &gate{started: make(chan struct{}, 100), release: make(chan struct{})}
}

func (g *gate) Send(ctx context.Context, m passkeyd.Email) error {
	g.started <- struct{}{}
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestQueue(t *testing.T) {
	const token = "tok3n-SECRET-value"
	recovery := func(to string) passkeyd.Email {
		return passkeyd.Email{To: to, Subject: "Sign in", Text: "Your link:\nhttps://example.com/recover?token=" + token + "\n", Kind: "recovery"}
	}

	t.Run("Delivers", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		q, log, sent, _ := newTestQueue(t, mustOpen(t, srv.URL()), 10)
		if !q.Enqueue(recovery("alice@example.org")) {
			t.Fatal("Enqueue = false, want true")
		}
		got := waitFor(t, srv, "alice@example.org")
		if link := mailtest.Link(got.Text, "https://example.com/recover"); !strings.HasSuffix(link, token) {
			t.Errorf("link = %q, want the token", link)
		}
		if err := q.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got, want := sent.get("recovery"), 1; got != want {
			t.Errorf("OnSent(recovery) calls = %d, want %d", got, want)
		}
		if !strings.Contains(log.String(), "event=mail_sent") {
			t.Errorf("log = %q, want mail_sent", log.String())
		}
	})

	t.Run("RetriesTemporaryFailure", func(t *testing.T) {
		srv := mailtest.NewServer(t, mailtest.WithDataFailures(2, 451))
		q, log, sent, failed := newTestQueue(t, mustOpen(t, srv.URL()), 10)
		q.Enqueue(recovery("alice@example.org"))
		waitFor(t, srv, "alice@example.org")
		if err := q.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if sent.get("recovery") != 1 || failed.get("recovery") != 0 {
			t.Errorf("sent, failed = %d, %d; want 1, 0", sent.get("recovery"), failed.get("recovery"))
		}
		if got, want := strings.Count(log.String(), "event=mail_failed"), 2; got != want {
			t.Errorf("mail_failed lines = %d, want %d\n%s", got, want, log.String())
		}
	})

	t.Run("GivesUpAfterThreeTries", func(t *testing.T) {
		srv := mailtest.NewServer(t, mailtest.WithDataFailures(5, 451))
		q, log, sent, failed := newTestQueue(t, mustOpen(t, srv.URL()), 10)
		q.Enqueue(recovery("alice@example.org"))
		if err := q.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if sent.get("recovery") != 0 || failed.get("recovery") != 1 {
			t.Errorf("sent, failed = %d, %d; want 0, 1", sent.get("recovery"), failed.get("recovery"))
		}
		if !strings.Contains(log.String(), "tries=3") {
			t.Errorf("log = %q, want a final failure after 3 tries", log.String())
		}
		// All three tries were answered 451, so the server kept nothing.
		if got := len(srv.Messages()); got != 0 {
			t.Errorf("server kept %d messages, want 0", got)
		}
	})

	t.Run("NoRetryOnPermanentFailure", func(t *testing.T) {
		srv := mailtest.NewServer(t, mailtest.WithDataFailures(1, 550))
		q, log, _, failed := newTestQueue(t, mustOpen(t, srv.URL()), 10)
		q.Enqueue(recovery("alice@example.org"))
		q.Enqueue(passkeyd.Email{To: "bob@example.org", Subject: "Hi", Text: "second", Kind: "verify_email"})
		// The second message arrives, and the first was not tried again
		// (the server would have accepted it).
		waitFor(t, srv, "bob@example.org")
		if err := q.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := len(srv.Messages()); got != 1 {
			t.Errorf("server got %d messages, want 1", got)
		}
		if got, want := failed.get("recovery"), 1; got != want {
			t.Errorf("OnFailed(recovery) calls = %d, want %d", got, want)
		}
		// The failure is logged by kind and domain: no token, no address.
		out := log.String()
		for _, want := range []string{"event=mail_failed", "kind=recovery", "to_domain=example.org", "tries=1"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		for _, secret := range []string{token, "alice@", "Your link"} {
			if strings.Contains(out, secret) {
				t.Errorf("log shows %q:\n%s", secret, out)
			}
		}
	})

	t.Run("DropsWhenFullWithoutBlocking", func(t *testing.T) {
		g := newGate()
		q, log, _, failed := newTestQueue(t, g, 2)
		if !q.Enqueue(recovery("a@example.org")) {
			t.Fatal("first Enqueue = false")
		}
		<-g.started // the worker holds the first; two more fill the buffer
		for i := range 2 {
			if !q.Enqueue(recovery("b@example.org")) {
				t.Fatalf("Enqueue %d = false, want true", i+2)
			}
		}
		start := time.Now()
		if q.Enqueue(recovery("c@example.org")) {
			t.Error("Enqueue on a full queue = true, want false")
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("Enqueue on a full queue took %v, want no wait", d)
		}
		if got, want := failed.get("recovery"), 1; got != want {
			t.Errorf("OnFailed calls = %d, want %d", got, want)
		}
		out := log.String()
		if !strings.Contains(out, "event=mail_dropped") || !strings.Contains(out, "to_domain=example.org") {
			t.Errorf("log = %q, want a mail_dropped warning with the domain", out)
		}
		if strings.Contains(out, token) || strings.Contains(out, "c@example.org") {
			t.Errorf("log shows the token or the address:\n%s", out)
		}
		close(g.release)
	})

	t.Run("CloseDrains", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		q, _, sent, _ := newTestQueue(t, mustOpen(t, srv.URL()), 20)
		const n = 10
		for range n {
			if !q.Enqueue(recovery("alice@example.org")) {
				t.Fatal("Enqueue = false")
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if got := len(srv.Messages()); got != n {
			t.Errorf("after Close the server has %d messages, want %d", got, n)
		}
		if got := sent.get("recovery"); got != n {
			t.Errorf("OnSent calls = %d, want %d", got, n)
		}
		if q.Enqueue(recovery("alice@example.org")) {
			t.Error("Enqueue after Close = true, want false")
		}
		if err := q.Close(ctx); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
	})

	t.Run("CloseGivesUpAtDeadline", func(t *testing.T) {
		g := newGate()
		q, _, sent, failed := newTestQueue(t, g, 5)
		for range 3 {
			q.Enqueue(recovery("alice@example.org"))
		}
		<-g.started
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := q.Close(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close = %v, want context.DeadlineExceeded", err)
		}
		if got := len(g.started); got != 0 {
			t.Errorf("%d more sends started after Close gave up, want 0", got)
		}
		if sent.get("recovery") != 0 || failed.get("recovery") != 3 {
			t.Errorf("sent, failed = %d, %d; want 0, 3", sent.get("recovery"), failed.get("recovery"))
		}
	})

	t.Run("RefusesInvalid", func(t *testing.T) {
		g := newGate()
		q, _, _, failed := newTestQueue(t, g, 5)
		if q.Enqueue(passkeyd.Email{To: "alice@example.org\r\nBcc: eve@example.net", Subject: "x", Text: "x", Kind: "recovery"}) {
			t.Error("Enqueue(header injection) = true, want false")
		}
		if got := failed.get("recovery"); got != 1 {
			t.Errorf("OnFailed calls = %d, want 1", got)
		}
	})
}

func TestRedact(t *testing.T) {
	err := errors.New("SMTP error 550: <Bob@Example.org>: no such user (bob@example.org)")
	if got, want := redact(err, "Bob@Example.org"), "SMTP error 550: <[recipient]>: no such user ([recipient])"; got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
}
