package sqlstore

import (
	"sync"

	"github.com/passkeyd/passkeyd"
)

// PreparedReads counts the queries prepared on st's read pool.
func PreparedReads(st passkeyd.Store) int {
	s := st.(interface{ sqlStore() *Store }).sqlStore()
	s.readStmts.mu.Lock()
	defer s.readStmts.mu.Unlock()
	return len(s.readStmts.m)
}

// HoldGroupCommit makes st's next group-commit leader wait before it takes
// the queue, until release is called; queued reports how many writes wait.
func HoldGroupCommit(st passkeyd.Store) (queued func() int, release func()) {
	s := st.(interface{ sqlStore() *Store }).sqlStore()
	hold := make(chan struct{})
	var once sync.Once
	s.group.beforeBatch = func() { <-hold }
	queued = func() int {
		s.group.mu.Lock()
		defer s.group.mu.Unlock()
		return len(s.group.queue)
	}
	release = func() {
		once.Do(func() { close(hold) }) // the hook stays, and no longer waits
	}
	return queued, release
}
