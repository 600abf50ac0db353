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
// trimIdleMemory collects and returns the free heap at once.
const (
	trimEvery = 2 * time.Second
	trimQuiet = 512 << 10 // allocated in trimEvery below which the switch counts as quiet
	trimBurst = 16 << 20  // allocated since the last trim that makes a trim worth it
)

// trimIdleMemory runs until ctx ends. It never trims under load (a trim is a
// full collection) and trims once per burst.
func trimIdleMemory(ctx context.Context) {
	allocated := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	t := time.NewTicker(trimEvery)
	defer t.Stop()
	var last, atTrim uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(allocated)
		now := allocated[0].Value.Uint64()
		if now-last < trimQuiet && now-atTrim > trimBurst {
			debug.FreeOSMemory()
			atTrim = now
		}
		last = now
	}
}
