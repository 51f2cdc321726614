package web

import "github.com/passkeyd/passkeyd"

// errHashersBusy: every Argon2id slot is taken. Each run costs 19 MiB and a
// core for tens of milliseconds, so beyond one per core more runs only
// slow all of them down and pile up memory.
var errHashersBusy = passkeyd.Errorf(passkeyd.EUNAVAILABLE,
	"Too many recovery codes are being checked right now. Please try again in a few seconds.")

// hashSlots bounds concurrent Argon2id runs (recovery code checks and
// regeneration) to the number of cores.
type hashSlots struct {
	slots chan struct{}
	// running, when set, is called inside the slot before the work: tests
	// count and hold runs with it.
	running func()
	metrics *Metrics
}

// run runs work, which hashes, in a free slot; when there is none
// it answers at once with EUNAVAILABLE (503, Retry-After) rather than
// queue: a queue of 19 MiB hashes is the flood it must prevent.
func (h hashSlots) run(work func()) error {
	select {
	case h.slots <- struct{}{}:
	default:
		h.metrics.limited("argon2id")
		return errHashersBusy
	}
	defer func() { <-h.slots }()
	if h.running != nil {
		h.running()
	}
	work()
	return nil
}
