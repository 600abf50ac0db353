package media

import (
	"net/netip"
	"time"
)

// SetClock makes e and the endpoints it creates from now on read time from
// now (set it before NewEndpoint).
func SetClock(e *Engine, now func() time.Time) { e.now = now }

// HandleRTP feeds one datagram to ep's RTP handler as if its socket had read
// it. Only for endpoints whose socket receives nothing: it shares the read
// loop's buffers.
func HandleRTP(ep *Endpoint, b []byte, src netip.AddrPort) { ep.handleRTP(b, src, ep.now()) }
