// Package testclock is a clock that tests move by hand, for the Now
// functions of web.Config and oidc.Config.
package testclock

import (
	"sync"
	"time"
)

// Clock reads the time it was set to until a test advances it. It is safe
// for concurrent use: handlers read it while the test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock that reads start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
