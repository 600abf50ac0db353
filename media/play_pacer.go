package media

import (
	"runtime"
	"slices"
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
// from one goroutine and one ticker for all of them (with helper goroutines
// sharing the sends when there are hundreds). The goroutine runs only
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
	batch      []*playback // this tick's playbacks
	ended      []bool      // by batch index: the playback is over
	main       shard       // what the pacer goroutine sends itself
	helpers    []*shard    // more goroutines for many endpoints, ended with the run
	jobs       sync.WaitGroup
	helping    sync.WaitGroup
}

// shardSize is how many endpoints one goroutine sends to in a tick before
// the pacer spreads the tick over more (up to GOMAXPROCS). The cost is the
// sendto, 1 to 8 µs, so 256 take a few milliseconds of the 20.
const shardSize = 256

// shard is one goroutine's share of a tick.
type shard struct {
	jobs chan shardJob
	buf  [rtpHeaderSize + FrameSize]byte
}

// shardJob is a range of the batch to send the frame of tick to.
type shardJob struct {
	from, to int
	tick     int64
	now      time.Time
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

// remove stops pacing p (the endpoint has already let go of it, and checks
// that under its lock before each frame). When p was the last playback it
// stops the goroutine and waits for it, so an idle engine has no goroutine.
// Do not call it from the pacer goroutine.
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
	defer r.stopHelpers()
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

	n := len(r.batch)
	r.ended = slices.Grow(r.ended[:0], n)[:n]
	shards := 1
	if !pc.manual {
		shards = max(1, min(runtime.GOMAXPROCS(0), (n+shardSize-1)/shardSize))
	}
	per := (n + shards - 1) / shards
	now := pc.now()
	for k := 1; k < shards; k++ {
		r.jobs.Add(1)
		r.helper(k - 1).jobs <- shardJob{from: k * per, to: min((k+1)*per, n), tick: tick, now: now}
	}
	r.send(&r.main, shardJob{from: 0, to: min(per, n), tick: tick, now: now})
	r.jobs.Wait()

	more := true
	if slices.Contains(r.ended, true) {
		pc.mu.Lock()
		for i, ended := range r.ended {
			if ended {
				pc.removeLocked(r.batch[i])
			}
		}
		if len(pc.players) == 0 && pc.run == r && !pc.manual {
			pc.run, more = nil, false // all ended: the goroutine ends now
		}
		pc.mu.Unlock()
	}
	clear(r.batch) // keep no endpoint alive until the next tick
	return more
}

// send sends one shard's frames.
func (r *pacerRun) send(s *shard, j shardJob) {
	for i := j.from; i < j.to; i++ {
		p := r.batch[i]
		r.ended[i] = !p.ep.playFrame(p, j.tick, j.now, s.buf[:])
	}
}

// helper returns the i-th helper goroutine's shard, starting it if need be.
func (r *pacerRun) helper(i int) *shard {
	for len(r.helpers) <= i {
		s := &shard{jobs: make(chan shardJob, 1)}
		r.helpers = append(r.helpers, s)
		r.helping.Add(1)
		go r.help(s)
	}
	return r.helpers[i]
}

func (r *pacerRun) help(s *shard) {
	defer r.helping.Done()
	for j := range s.jobs {
		r.send(s, j)
		r.jobs.Done()
	}
}

func (r *pacerRun) stopHelpers() {
	for _, s := range r.helpers {
		close(s.jobs)
	}
	r.helping.Wait()
}
