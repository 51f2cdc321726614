package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"
)

// checkpointEvery is the shortest time between two checkpoints: while
// writes go on, the WAL is copied into the database file at most this
// often, and it holds at most this long's writes.
const checkpointEvery = 250 * time.Millisecond

// restartFrames is the size of the WAL, in pages, past which the writer
// restarts it: about 16 MiB with SQLite's 4 KiB pages.
const restartFrames = 4096

// restartWait is how long a restart waits for the readers still in the
// WAL, holding the writer up meanwhile; a longer read (a backup, say) makes
// it give up, and the next try waits restartBackoff, doubling up to
// maxRestartBackoff, while the WAL goes on growing as SQLite's own
// checkpoints would let it.
const (
	restartWait       = 20 * time.Millisecond
	restartBackoff    = time.Second
	maxRestartBackoff = 30 * time.Second
)

// A checkpointer copies the WAL into the database file in the background,
// on a connection of its own.
//
// SQLite's default is that the connection whose commit takes the WAL past
// 1,000 pages copies it there and then, inside that commit. A checkpoint
// syncs the WAL and then the database file (two fsyncs under
// synchronous=NORMAL), so every few hundred sign-ins one commit waited for
// the disk twice while holding the only write connection, and every write
// queued behind it waited too, with the processors idle (BENCHMARKS.md,
// "Third pass": a sign-in's throughput rose by a quarter without it, on a
// database of the size the benchmark leaves). Here the writer never
// checkpoints (wal_autocheckpoint=0) and this goroutine does, after
// writes, in PASSIVE mode: it copies what no reader still needs without
// taking any lock the writer or the readers wait for. What survives a
// crash is unchanged: a commit is in the WAL before it is acknowledged, as
// before, and the WAL is read back at the next start.
//
// SQLite starts the WAL over from its beginning only when a write
// transaction begins with every page of it copied, which under a steady
// stream of writes never happens by itself: the WAL would grow without end.
// So once it holds restartFrames pages, the checkpointer takes the writer's
// connection between two transactions for a RESTART checkpoint: it copies
// the little the last PASSIVE one left, waits (restartWait at most) for the
// readers still in the WAL, and the next write starts it over. One short
// pause of the writer every restartFrames pages, where SQLite's default
// paused it for a whole checkpoint every 1,000.
type checkpointer struct {
	db     *sql.DB       // the checkpointer's own connection
	writer *sql.DB       // the store's one write connection
	wrote  chan struct{} // a write was committed since the last checkpoint
	stop   chan struct{}
	done   chan struct{}

	closing  sync.Once
	closeErr error

	// restartAfter is when a restart may be tried again; backoff, how long
	// after the next refusal.
	restartAfter time.Time
	backoff      time.Duration
}

func newCheckpointer(db, writer *sql.DB) *checkpointer {
	c := &checkpointer{
		db:     db,
		writer: writer,
		wrote:  make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),

		backoff: restartBackoff,
	}
	go c.run()
	return c
}

// committed tells the checkpointer that the WAL grew. It never blocks: the
// group commit's leader calls it.
func (c *checkpointer) committed() {
	select {
	case c.wrote <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	wait := time.NewTimer(0)
	<-wait.C
	for {
		select {
		case <-c.stop:
			return
		case <-c.wrote:
		}
		// A failed checkpoint (an I/O error) is tried again after the next
		// write; the WAL keeps every commit meanwhile, and the writes
		// themselves report the error.
		c.checkpoint()
		wait.Reset(checkpointEvery)
		select {
		case <-c.stop:
			wait.Stop()
			return
		case <-wait.C:
		}
	}
}

func (c *checkpointer) checkpoint() error {
	ctx := context.Background()
	var busy, frames, copied int64
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		return err
	}
	if frames < restartFrames || time.Now().Before(c.restartAfter) {
		return nil
	}
	restarted, err := c.restart(ctx)
	if err != nil || !restarted {
		c.restartAfter = time.Now().Add(c.backoff)
		c.backoff = min(2*c.backoff, maxRestartBackoff)
		return err
	}
	c.backoff = restartBackoff
	return nil
}

// restart runs a RESTART checkpoint on the writer's connection, between
// two of its transactions, waiting restartWait at most for readers, and
// reports whether the WAL will start over.
func (c *checkpointer) restart(ctx context.Context) (bool, error) {
	conn, err := c.writer.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, restartWait.Milliseconds())); err != nil {
		return false, err
	}
	var busy, frames, copied int64
	err = conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &copied)
	if _, rerr := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, busyTimeout.Milliseconds())); rerr != nil {
		// Never hand a writer with the short wait back to the pool: it
		// would fail at once where another process holds the lock.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return false, rerr
	}
	return err == nil && busy == 0, err
}

// close stops the checkpointer, after the checkpoint under way if any.
// The connection that closes the database last checkpoints what is left.
// Closing the store twice is allowed, as database/sql allows it.
func (c *checkpointer) close() error {
	c.closing.Do(func() {
		close(c.stop)
		<-c.done
		c.closeErr = c.db.Close()
	})
	return c.closeErr
}
