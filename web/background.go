package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// backgroundSlots bounds the work running after its request was answered,
// so a flood cannot pile it up; beyond it, work is refused and logged.
const backgroundSlots = 64

// background runs work after the answer is sent (the recovery and sign-up look-ups, so
// that the answer takes the same time whether or not an account exists),
// and lets Close wait for it.
type background struct {
	log     *slog.Logger
	timeout time.Duration // RequestTimeout
	slots   chan struct{}
	mu      sync.Mutex // guards closed and the WaitGroup's Add
	closed  bool
	wg      sync.WaitGroup
}

func newBackground(log *slog.Logger, timeout time.Duration) *background {
	return &background{log: log, timeout: timeout, slots: make(chan struct{}, backgroundSlots)}
}

// afterAnswer runs work off the request path, bounded by RequestTimeout
// like the request itself. What it needs from r must be copied before the
// call: the request is finished by the time work runs. It keeps only the
// request ID, for the logs. When every slot is taken, or the Server is
// closing, the work is dropped and the log says so.
func (b *background) afterAnswer(r *http.Request, what string, work func(ctx context.Context)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		b.log.WarnContext(r.Context(), "server closing; background work dropped", "work", what)
		return
	}
	select {
	case b.slots <- struct{}{}:
	default:
		b.log.WarnContext(r.Context(), "background slots full; work dropped", "work", what, "slots", cap(b.slots))
		return
	}
	ctx := context.WithValue(context.Background(), requestKey{}, &requestInfo{id: RequestID(r.Context()), client: clientOf(r)})
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer func() { <-b.slots }()
		defer cancel()
		defer func() {
			if v := recover(); v != nil {
				b.log.ErrorContext(ctx, "panic in background work", "work", what, "panic", fmt.Sprint(v))
			}
		}()
		work(ctx)
	}()
}

// Close waits, until ctx is done, for the work the Server does after
// answering (recovery and sign-up look-ups, each bounded by RequestTimeout), and
// refuses new such work. Call it after the http.Server's Shutdown and
// before closing the store. The Server still answers requests after
// Close, but starts no more background work.
func (s *Server) Close(ctx context.Context) error {
	b := s.background
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	done := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("web: background work still running: %w", ctx.Err())
	}
}
