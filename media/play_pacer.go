package media

import (
	"sync"
	"time"
)

// tickEpoch anchors the tick clock that every pacer of the process shares,
// so that one Source played by endpoints of different engines sees the same
// tick numbers.
var tickEpoch = time.Now()

// currentTick is the number of 20 ms periods since tickEpoch (monotonic).
func currentTick() int64 { return int64(time.Since(tickEpoch) / frameDur) }

// maxCatchUp is how many late frames the pacer sends at once after it was
// held up (a GC pause, a starved CPU); beyond that it skips, and the skipped
// time shows as a timestamp gap, as a lost packet would.
const maxCatchUp = 10

// rtpHeaderSize is the size of the RTP header the pacer writes (no CSRC, no
// extension).
const rtpHeaderSize = 12

// pacer sends one frame every 20 ms to every playing endpoint of an engine,
// from one goroutine and one ticker for all of them. The goroutine runs only
// while something plays: it starts with the first playback and ends with the
// last, so an engine still needs no closing.
type pacer struct {
	now func() time.Time // the engine's clock, for stream gaps

	mu      sync.Mutex
	players []*playback // each knows its index
	run     *pacerRun   // nil when no goroutine runs
	manual  bool        // benchmarks tick by hand: never start a goroutine
}

// pacerRun is one life of the pacer goroutine. A run that ends on its own
// may still be finishing when the next starts, so each has its buffers.
type pacerRun struct {
	quit, done chan struct{}
	batch      []*playback
	buf        [rtpHeaderSize + FrameSize]byte
}

// add starts pacing p.
func (pc *pacer) add(p *playback) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	p.idx = len(pc.players)
	pc.players = append(pc.players, p)
	if pc.run == nil && !pc.manual {
		r := &pacerRun{quit: make(chan struct{}), done: make(chan struct{})}
		pc.run = r
		go pc.loop(r)
	}
}

// remove stops pacing p. When p was the last playback it stops the goroutine
// and waits for it, so no frame of p is sent after remove returns (the
// endpoint also checks that p is still its playback). Do not call it from the
// pacer goroutine.
func (pc *pacer) remove(p *playback) {
	pc.mu.Lock()
	pc.removeLocked(p)
	var wait chan struct{}
	if len(pc.players) == 0 && pc.run != nil && !pc.manual {
		wait = pc.run.done
		close(pc.run.quit)
		pc.run = nil
	}
	pc.mu.Unlock()
	if wait != nil {
		<-wait
	}
}

func (pc *pacer) removeLocked(p *playback) {
	i := p.idx
	if i < 0 || i >= len(pc.players) || pc.players[i] != p {
		return
	}
	last := len(pc.players) - 1
	pc.players[i] = pc.players[last]
	pc.players[i].idx = i
	pc.players[last] = nil
	pc.players = pc.players[:last]
	p.idx = -1
}

// playing returns how many playbacks the pacer holds (tests).
func (pc *pacer) playing() int {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return len(pc.players)
}

func (pc *pacer) loop(r *pacerRun) {
	defer close(r.done)
	t := time.NewTicker(frameDur)
	defer t.Stop()
	// The pacer's own ticks, rounded to the nearest, so scheduling jitter
	// under 10 ms never makes it send two frames at once; numbered on the
	// shared tick clock.
	start, base := time.Now(), currentTick()
	last := base
	for {
		select {
		case <-r.quit:
			return
		case <-t.C:
		}
		now := base + int64((time.Since(start)+frameDur/2)/frameDur)
		last = max(last, now-maxCatchUp)
		for last < now {
			last++
			if !pc.tick(r, last) {
				return
			}
		}
	}
}

// tick sends the frame of tick to every playing endpoint and drops the
// playbacks that ended. It reports false when the run is over: stopped, or
// nothing plays any more.
func (pc *pacer) tick(r *pacerRun, tick int64) bool {
	pc.mu.Lock()
	if pc.run != r {
		pc.mu.Unlock()
		return false
	}
	r.batch = append(r.batch[:0], pc.players...)
	pc.mu.Unlock()

	now := pc.now()
	ended := 0
	for i, p := range r.batch {
		if !p.ep.playFrame(p, tick, now, r.buf[:]) {
			r.batch[ended] = r.batch[i] // compacted in place: i ≥ ended
			ended++
		}
	}
	more := true
	if ended > 0 {
		pc.mu.Lock()
		for _, p := range r.batch[:ended] {
			pc.removeLocked(p)
		}
		if len(pc.players) == 0 && pc.run == r && !pc.manual {
			pc.run, more = nil, false // all ended: the goroutine ends now
		}
		pc.mu.Unlock()
	}
	clear(r.batch) // keep no endpoint alive until the next tick
	return more
}
