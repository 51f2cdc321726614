package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/passkeyd/passkeyd"
)

// Queue sends messages off the request path. A handler that answers "lost
// your passkey?" must take the same time whether or not the address has an
// account, so it enqueues the email (or nothing) and returns; one worker
// goroutine sends, in order, trying each message up to three times.
//
// The worker logs a failure with the message's kind and the recipient's
// domain only: the text may hold a recovery token, and the address is
// personal data.
type Queue struct {
	// OnSent, when set, is called with a message's Kind after the sender
	// accepted it (for metrics). Set it before the first Enqueue.
	OnSent func(kind string)
	// OnFailed, when set, is called with a message's Kind when the queue
	// gives up on it: dropped because the queue was full or closed, refused
	// as invalid, or failed on every try. Set it before the first Enqueue;
	// it runs on the worker and on Enqueue's caller, so it must be safe for
	// concurrent use (a Prometheus counter is).
	OnFailed func(kind string)

	sender Sender
	log    *slog.Logger
	ch     chan passkeyd.Email
	done   chan struct{} // closed when the worker has returned

	mu     sync.RWMutex // held for writing only to close ch
	closed bool

	ctx    context.Context // canceled when Close gives up waiting
	cancel context.CancelFunc

	tries       int
	backoff     time.Duration // before the second try; each later wait is 4 times longer
	sendTimeout time.Duration // for one try
}

// NewQueue starts a queue that holds up to buffer messages (at least 1)
// waiting to be sent by s. A nil log discards logs. Call Close to stop it.
func NewQueue(s Sender, log *slog.Logger, buffer int) *Queue {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	buffer = max(buffer, 1)
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{
		sender:      s,
		log:         log,
		ch:          make(chan passkeyd.Email, buffer),
		done:        make(chan struct{}),
		ctx:         ctx,
		cancel:      cancel,
		tries:       3,
		backoff:     2 * time.Second,
		sendTimeout: time.Minute,
	}
	go q.run()
	return q
}

// A Queue is the Mailer web hands its email to.
var _ passkeyd.Mailer = (*Queue)(nil)

// Enqueue hands m to the worker and reports whether it was taken. It never
// blocks: when the queue is full or closed it drops m, logs a warning and
// returns false. An invalid message (see validate) is refused here,
// so the caller learns at once.
func (q *Queue) Enqueue(m passkeyd.Email) bool {
	if err := validate(m); err != nil {
		q.log.Error("email refused", "event", "mail_invalid", "kind", m.Kind, "to_domain", domainOf(m.To), "error", err)
		q.failed(m.Kind)
		return false
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.log.Warn("email dropped: queue closed", "event", "mail_dropped", "kind", m.Kind, "to_domain", domainOf(m.To))
		q.failed(m.Kind)
		return false
	}
	select {
	case q.ch <- m:
		return true
	default:
		q.log.Warn("email dropped: queue full", "event", "mail_dropped", "kind", m.Kind, "to_domain", domainOf(m.To), "capacity", cap(q.ch))
		q.failed(m.Kind)
		return false
	}
}

// Close stops taking messages, waits until the worker has sent (or given up
// on) every queued one, and stops it. When ctx ends first, Close cancels
// the send in progress, drops the messages still waiting (each logged),
// and returns ctx's error once the worker has stopped. Calling Close again
// waits the same way.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		q.cancel()
		<-q.done
		return fmt.Errorf("close mail queue: %w", ctx.Err())
	}
}

func (q *Queue) run() {
	defer close(q.done)
	defer q.cancel()
	for m := range q.ch {
		if q.ctx.Err() != nil {
			q.log.Warn("email dropped: queue closed before it was sent", "event", "mail_dropped", "kind", m.Kind, "to_domain", domainOf(m.To))
			q.failed(m.Kind)
			continue
		}
		q.deliver(m)
	}
}

// deliver sends m, trying again after a growing pause unless the error
// says another try cannot succeed.
func (q *Queue) deliver(m passkeyd.Email) {
	wait := q.backoff
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(q.ctx, q.sendTimeout)
		err := q.sender.Send(ctx, m)
		cancel()
		if err == nil {
			q.log.Info("email sent", "event", "mail_sent", "kind", m.Kind, "to_domain", domainOf(m.To), "tries", try)
			if q.OnSent != nil {
				q.OnSent(m.Kind)
			}
			return
		}
		attrs := []any{"event", "mail_failed", "kind", m.Kind, "to_domain", domainOf(m.To), "tries", try, "error", redact(err, m.To)}
		if try >= q.tries || permanent(err) || q.ctx.Err() != nil {
			q.log.Error("email not sent", attrs...)
			q.failed(m.Kind)
			return
		}
		q.log.Warn("email not sent; trying again", append(attrs, "retry_in", wait)...)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-q.ctx.Done():
			t.Stop()
		}
		wait *= 4
	}
}

func (q *Queue) failed(kind string) {
	if q.OnFailed != nil {
		q.OnFailed(kind)
	}
}

// permanent reports whether sending again cannot help: the message is
// invalid, the server answered 5xx (bad recipient, wrong password), or the
// server's certificate does not verify.
func permanent(err error) bool {
	if passkeyd.ErrorCode(err) == passkeyd.EINVALID {
		return true
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code >= 500 && se.Code < 600
	}
	var ce *tls.CertificateVerificationError
	return errors.As(err, &ce)
}

// redact returns err's text with the recipient's address replaced: mail
// servers like to quote it ("550 <bob@example.com>: no such user").
func redact(err error, to string) string {
	s := err.Error()
	addr := to
	if a, perr := parseAddress("recipient", to); perr == nil {
		addr = a.Address
	}
	if addr == "" {
		return s
	}
	for _, form := range []string{addr, strings.ToLower(addr)} {
		s = strings.ReplaceAll(s, form, "[recipient]")
	}
	return s
}
