package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// The trimmer trims once a burst is followed by trimAfter quiet ticks, never
// under load, once per burst, and again after the small writes that follow
// a burst only when they add up to trimBurst.
func TestTrimmer(t *testing.T) {
	const mb = 1 << 20
	steps := []struct {
		allocated uint64 // total so far, read at this tick
		trim      bool
	}{
		{30 * mb, false}, // start-up
		{30 * mb, false}, // quiet 1
		{30 * mb, true},  // quiet 2: start-up garbage goes
		{30 * mb, false}, // still quiet, nothing new
		{40 * mb, false}, // a burst of registrations
		{50 * mb, false},
		{60 * mb, false},
		{60*mb + 100<<10, false}, // quiet 1 (a little)
		{60*mb + 200<<10, true},  // quiet 2
		{62*mb + 500<<10, false}, // the registrar's flush: 2.3 MB
		{62*mb + 500<<10, false}, // quiet 1
		{62*mb + 500<<10, true},  // quiet 2: the flush's garbage goes too
		{63 * mb, false},         // 512 kB: not quiet
		{63 * mb, false},
		{63 * mb, false}, // quiet, but less than trimBurst since the last trim
		{64 * mb, false},
		{64 * mb, false},
		{64 * mb, false}, // 1.5 MB since the last trim: still not worth it
		{65 * mb, false},
		{65 * mb, false},
		{65 * mb, true}, // 2.5 MB
	}
	var tr trimmer
	for i, s := range steps {
		if got := tr.tick(s.allocated); got != s.trim {
			t.Fatalf("tick %d (%d bytes): trim %v, want %v", i, s.allocated, got, s.trim)
		}
	}
	// Under steady load (1 MB a tick) it never trims.
	tr = trimmer{}
	for i := range uint64(100) {
		if tr.tick(i * mb) {
			t.Fatalf("trimmed under load at tick %d", i)
		}
	}
}

// The switch collects at gcPercent unless the operator set GOGC.
func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	t.Setenv("GOGC", "50") // restored after the test, set or not
	tuneGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set: collector at %d, want it left alone", got)
	}
	os.Unsetenv("GOGC")
	tuneGC()
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("without GOGC: collector at %d, want %d", got, gcPercent)
	}
}
