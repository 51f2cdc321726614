package sqlite

import (
	"context"
	"database/sql"
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
// the little the last PASSIVE one left, waits for the readers still in the
// WAL, and the next write starts it over. One pause of the writer every
// restartFrames pages, where SQLite's default paused it for a whole
// checkpoint every 1,000.
type checkpointer struct {
	db     *sql.DB       // the checkpointer's own connection
	writer *sql.DB       // the store's one write connection
	wrote  chan struct{} // a write was committed since the last checkpoint
	stop   chan struct{}
	done   chan struct{}

	closing  sync.Once
	closeErr error
}

func newCheckpointer(db, writer *sql.DB) *checkpointer {
	c := &checkpointer{
		db:     db,
		writer: writer,
		wrote:  make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
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
	if frames < restartFrames {
		return nil
	}
	return c.writer.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &copied)
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
