package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Idle memory: Go keeps the heap a burst of work grew (10,000 phones
// registering, a busy hour of calls) and hands it back to the system only
// slowly, and it collects garbage only when it allocates. An office box is
// idle most of the day, so once the switch goes quiet after a burst,
// trimIdleMemory collects and returns the free heap at once. (Memory
// profiling is also off unless serve --pprof asks for it: its records cost
// about a megabyte that nobody reads.)
const (
	trimEvery = 500 * time.Millisecond
	trimQuiet = 256 << 10 // allocated in one tick below which the switch counts as quiet
	trimAfter = 2         // quiet ticks in a row before a trim
	trimBurst = 2 << 20   // allocated since the last trim that makes a trim worth it
)

// trimIdleMemory runs until ctx ends.
func trimIdleMemory(ctx context.Context) {
	allocated := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	t := time.NewTicker(trimEvery)
	defer t.Stop()
	var tr trimmer
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(allocated)
		if tr.tick(allocated[0].Value.Uint64()) {
			debug.FreeOSMemory()
		}
	}
}

// trimmer decides when to trim from the bytes allocated so far, read once
// a tick: after trimAfter quiet ticks, if a burst came since the last trim.
// It never trims under load (a trim is a full collection), and once the
// last writes of a burst (the registrar's batched flush 2 s later) are done
// it trims once more, so their garbage does not stay either.
type trimmer struct {
	last, atTrim uint64
	quiet        int
}

func (tr *trimmer) tick(allocated uint64) bool {
	if allocated-tr.last < trimQuiet {
		tr.quiet++
	} else {
		tr.quiet = 0
	}
	tr.last = allocated
	if tr.quiet < trimAfter || allocated-tr.atTrim < trimBurst {
		return false
	}
	tr.atTrim = allocated
	return true
}
