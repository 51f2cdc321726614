package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// groupCommit runs the write transactions of concurrent callers as one
// database transaction, each in a savepoint of its own, and commits them
// together. On SQLite, where writers take turns anyway, a commit's cost
// (its WAL frames, their checksums, the write system calls) is mostly per
// page, and concurrent sign-ins touch the same pages (the last pages of
// the sessions, events and used_challenges tables and their indexes), so
// one commit for many sign-ins costs little more than one for one.
//
// Each caller still gets its own answer only after the commit that holds
// its writes, so nothing acknowledged can be lost, and a caller whose work
// fails is rolled back to its savepoint without touching the others'.
//
// A caller whose request is cancelled before its turn is skipped. Once its
// turn has come, its statements run to the end (see Store.stmtContext):
// interrupting one would make SQLite roll the whole transaction back, and
// fail every write of the batch. If the transaction breaks all the same,
// none of its writes is acknowledged, none is half-written (see
// abortGroup).
//
// The first caller to find no transaction running leads: it runs every
// queued write in one transaction. Writes that arrive meanwhile queue for
// the next, which a new leader goroutine runs, so no caller waits for more
// than the batch in progress and its own.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*writeJob
	leading bool
	// beforeBatch, when set, is called by a leader before it takes the
	// queue: tests hold it there to make a batch of their choosing.
	beforeBatch func()
}

type writeJob struct {
	ctx  context.Context
	op   string
	fn   func(*sql.Tx) error
	err  error
	done chan struct{}
}

// writeGrouped is write on a store with group commit.
func (s *Store) writeGrouped(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	g := s.group
	j := &writeJob{ctx: ctx, op: op, fn: fn, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, j)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead {
		s.leadGroup()
	}
	<-j.done
	return j.err
}

// leadGroup commits the queued writes, and hands the next batch, if any,
// to a new leader.
func (s *Store) leadGroup() {
	g := s.group
	if g.beforeBatch != nil {
		g.beforeBatch()
	}
	g.mu.Lock()
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()
	s.commitGroup(batch)
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.leading = false
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	go s.leadGroup()
}

func (s *Store) commitGroup(batch []*writeJob) {
	defer func() {
		for _, j := range batch {
			close(j.done)
		}
	}()
	// The transaction outlives any one caller's request: each caller's
	// context bounds its own statements, and is checked before its turn.
	ctx := context.Background()
	s.writeStmts.prepare(ctx, s.db)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		for _, j := range batch {
			j.err = s.fail(j.op, err)
		}
		return
	}
	defer tx.Rollback()
	if len(batch) == 1 {
		j := batch[0]
		if j.err = j.ctx.Err(); j.err == nil {
			j.err = j.fn(tx)
		}
		if j.err == nil {
			if j.err = tx.Commit(); j.err == nil {
				s.committed()
			}
		}
		if j.err != nil {
			j.err = s.fail(j.op, j.err)
		}
		return
	}
	var ok []*writeJob
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.err = s.fail(j.op, err)
			continue
		}
		if _, err := s.txExec(ctx, tx, `SAVEPOINT w`); err != nil {
			abortGroup(s, batch[i:], ok, err)
			return
		}
		if err := j.fn(tx); err != nil {
			j.err = s.fail(j.op, err)
			// A failed ROLLBACK TO means SQLite ended the transaction
			// itself (a full disk, an I/O error): the writes after it would
			// each commit on their own, so none may run.
			if _, rerr := s.txExec(ctx, tx, `ROLLBACK TO w`); rerr != nil {
				abortGroup(s, batch[i+1:], ok, rerr)
				return
			}
		} else {
			ok = append(ok, j)
		}
		if _, err := s.txExec(ctx, tx, `RELEASE w`); err != nil {
			abortGroup(s, batch[i+1:], ok, err)
			return
		}
	}
	if len(ok) == 0 {
		return
	}
	if err := tx.Commit(); err != nil {
		for _, j := range ok {
			j.err = s.fail(j.op, err)
		}
		return
	}
	s.committed()
}

// abortGroup fails the writes of a batch whose transaction broke: those
// not run yet, and those done but not committed.
func abortGroup(s *Store, notRun, done []*writeJob, err error) {
	for _, j := range append(notRun, done...) {
		j.err = s.fail(j.op, err)
	}
}
