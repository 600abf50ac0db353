package media

import (
	"net/netip"
	"sync"
	"time"
)

// SetClock makes e and the endpoints it creates from now on read time from
// now (set it before NewEndpoint).
func SetClock(e *Engine, now func() time.Time) { e.now = now }

// HandleRTP feeds one datagram to ep's RTP handler as if its socket had read
// it. Only for endpoints whose socket receives nothing: the read loop would
// handle their packets at the same time.
func HandleRTP(ep *Endpoint, b []byte, src netip.AddrPort) {
	testScratch.Lock()
	defer testScratch.Unlock()
	ep.handleRTP(b, src, ep.now(), &testScratch.sc)
}

// testScratch stands in for the read loop's buffers.
var testScratch struct {
	sync.Mutex
	sc scratch
}

// Playing is how many playbacks e's pacer holds.
func Playing(e *Engine) int { return e.pacer.playing() }

// MusicConversions is how many A-law frames m has made.
func MusicConversions(m *Music) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.coder.conversions
}

// CurrentTick is the shared tick clock.
func CurrentTick() int64 { return currentTick() }

// ManualPacing makes e's pacer run only when PaceTick is called (set it
// before anything plays).
func ManualPacing(e *Engine) {
	e.pacer.manual = true
	e.pacer.run = &pacerRun{}
}

// PaceTick sends the frame of tick to every endpoint playing on e, as the
// pacer goroutine does every 20 ms.
func PaceTick(e *Engine, tick int64) { e.pacer.tick(e.pacer.run, tick) }
