package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultDrain is how long a closed endpoint's ports stay out of the pool
// when Config.Drain is zero.
const DefaultDrain = 2 * time.Second

// IdleClose is how long a drained port pair stays bound in the pool, ready
// for the next call, before it is closed (it is bound again when needed).
const IdleClose = time.Minute

// Config configures an [Engine].
type Config struct {
	BindIP      net.IP // address the RTP sockets bind to; nil means all IPv4 addresses
	AdvertiseIP net.IP // address written in our SDP; nil means BindIP, which must then be specific
	// PortLow and PortHigh bound the RTP/RTCP ports, both included. RTP ports
	// are even and RTCP is RTP+1. Both 0 lets the OS choose any free pair
	// (for tests; there is no quarantine then).
	PortLow, PortHigh int
	// Drain is how long a closed endpoint's ports are kept out of the pool:
	// 0 means DefaultDrain, a negative value none.
	Drain  time.Duration
	Logger *slog.Logger // nil means no logging
}

// ErrNoPorts means every port pair of the range is in use or draining.
var ErrNoPorts = errors.New("media: no free RTP port pair")

// Engine owns the RTP port range and creates endpoints on it. It is safe for
// concurrent use. With a port range it keeps the sockets of closed endpoints
// bound for reuse (see the package doc): Close it at shutdown. Its
// goroutines run only while there is work: the read loops while sockets are
// bound, the pacer of what endpoints play while one plays.
type Engine struct {
	bind      netip.Addr
	advertise netip.Addr
	drain     time.Duration
	log       *slog.Logger
	pool      *portPool // nil when the OS chooses ports
	now       func() time.Time
	pacer     pacer     // sends what endpoints play
	loops     pollLoops // read the sockets

	mu     sync.Mutex
	live   map[*Endpoint]struct{} // endpoints not yet closed
	closed Totals                 // counters of the closed ones
	strays atomic.Uint64          // RTP packets on pooled ports between calls, dropped
}

// Totals are the packet counters of all endpoints an engine has made, open
// and closed (for /metrics).
type Totals struct {
	PacketsIn  uint64 // RTP packets accepted from phones
	PacketsOut uint64 // RTP packets sent to phones
	Ignored    uint64 // datagrams dropped: not RTP, not from the latched source, or late for a call that ended
}

func (t *Totals) add(s *counters) {
	t.PacketsIn += s.packetsIn.Load()
	t.PacketsOut += s.packetsOut.Load()
	t.Ignored += s.ignored.Load()
}

// Totals sums the counters of every endpoint so far. It reads each open
// endpoint's counters, so it costs a little per open endpoint and nothing
// per packet.
func (e *Engine) Totals() Totals {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.closed
	t.Ignored += e.strays.Load()
	for ep := range e.live {
		t.add(&ep.stats)
	}
	return t
}

// NewEngine checks cfg and returns an engine for it.
func NewEngine(cfg Config) (*Engine, error) {
	e := &Engine{drain: cfg.Drain, log: cfg.Logger, now: time.Now, live: map[*Endpoint]struct{}{}}
	e.pacer.now = func() time.Time { return e.now() }
	if e.drain == 0 {
		e.drain = DefaultDrain
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.loops = newPollLoops(e.log)
	var err error
	if e.bind, e.advertise, err = addrs(cfg.BindIP, cfg.AdvertiseIP); err != nil {
		return nil, err
	}
	if cfg.PortLow != 0 || cfg.PortHigh != 0 {
		if e.pool, err = newPortPool(cfg.PortLow, cfg.PortHigh, e.drain); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func addrs(bindIP, advertiseIP net.IP) (bind, advertise netip.Addr, err error) {
	bind = netip.IPv4Unspecified()
	if bindIP != nil {
		var ok bool
		if bind, ok = netip.AddrFromSlice(bindIP); !ok {
			return bind, advertise, fmt.Errorf("media: bad BindIP %v", bindIP)
		}
		bind = bind.Unmap()
	}
	advertise = bind
	if advertiseIP != nil {
		var ok bool
		if advertise, ok = netip.AddrFromSlice(advertiseIP); !ok {
			return bind, advertise, fmt.Errorf("media: bad AdvertiseIP %v", advertiseIP)
		}
		advertise = advertise.Unmap()
	}
	if advertise.IsUnspecified() {
		return bind, advertise, errors.New("media: BindIP is unspecified, so AdvertiseIP is required")
	}
	return bind, advertise, nil
}

// AdvertiseAddr is the address to write in c= of our SDP.
func (e *Engine) AdvertiseAddr() netip.Addr { return e.advertise }

// InUse returns how many port pairs are out of the pool: held by open
// endpoints or still draining after Close.
func (e *Engine) InUse() int {
	if e.pool == nil {
		return e.Open()
	}
	return e.pool.inUse(e.now())
}

// Open returns how many endpoints are open (created and not yet closed).
func (e *Engine) Open() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.live)
}

// NewEndpoint gives a new call leg an RTP/RTCP port pair: a drained pair
// from the pool, still bound, or else the next free one, bound now.
func (e *Engine) NewEndpoint() (*Endpoint, error) {
	sock, err := e.takeSockets()
	if err != nil {
		return nil, err
	}
	ep := newEndpoint(e, sock)
	e.mu.Lock()
	e.live[ep] = struct{}{}
	e.mu.Unlock()
	return ep, nil
}

// takeSockets reuses a drained pair of the pool or binds a free one,
// trying pairs until one binds.
func (e *Engine) takeSockets() (*sockets, error) {
	if e.pool == nil {
		rtpSock, rtcpSock, err := e.bindAny()
		if err != nil {
			return nil, err
		}
		return newSockets(e, rtpSock, rtcpSock, -1)
	}
	lastErr := ErrNoPorts
	for range e.pool.size() {
		sock, slot, port, stale, ok := e.pool.take(e.now())
		e.closeStale(stale)
		if !ok {
			break
		}
		if sock != nil {
			return sock, nil
		}
		rtpSock, rtcpSock, err := e.bindPort(port)
		if err == nil {
			sock, err = newSockets(e, rtpSock, rtcpSock, slot)
		}
		if err == nil {
			return sock, nil
		}
		e.pool.unbound(slot, time.Time{}) // taken by someone outside the switch; try the next
		lastErr = fmt.Errorf("%w (last: %w)", ErrNoPorts, err)
	}
	return nil, lastErr
}

func (e *Engine) bindPort(port int) (rtpSock, rtcpSock *udpSock, err error) {
	rtpSock, err = bindUDP(netip.AddrPortFrom(e.bind, uint16(port)))
	if err != nil {
		return nil, nil, err
	}
	rtcpSock, err = bindUDP(netip.AddrPortFrom(e.bind, uint16(port+1)))
	if err != nil {
		rtpSock.close()
		return nil, nil, err
	}
	return rtpSock, rtcpSock, nil
}

// bindAny lets the OS choose the RTP port and tries to get the one above it
// for RTCP.
func (e *Engine) bindAny() (rtpSock, rtcpSock *udpSock, err error) {
	for range 20 {
		rtpSock, err = bindUDP(netip.AddrPortFrom(e.bind, 0))
		if err != nil {
			return nil, nil, err
		}
		if port := rtpSock.port; port < 65535 {
			rtcpSock, err = bindUDP(netip.AddrPortFrom(e.bind, uint16(port+1)))
			if err == nil {
				return rtpSock, rtcpSock, nil
			}
		}
		rtpSock.close()
	}
	return nil, nil, fmt.Errorf("%w: no free port above an OS-chosen one: %w", ErrNoPorts, err)
}

// release keeps a closed endpoint's counters in the engine's totals and
// gives its sockets back to the pool to drain, or closes them (no pool, or
// the engine is closed).
func (e *Engine) release(ep *Endpoint) error {
	e.mu.Lock()
	delete(e.live, ep)
	e.closed.add(&ep.stats)
	e.mu.Unlock()
	if e.pool == nil {
		return ep.sock.close()
	}
	now := e.now()
	until := now // when the pair may serve the next call
	if e.drain > 0 {
		until = now.Add(e.drain)
	}
	return e.closeStale(e.pool.give(ep.sock, until, now))
}

// closeStale closes pairs taken out of the pool and frees their slots; a
// slot whose drain has not ended yet stays out of use until it has.
func (e *Engine) closeStale(socks []*sockets) error {
	var errs []error
	for _, s := range socks {
		errs = append(errs, s.close())
		e.pool.unbound(s.slot, s.until)
	}
	return errors.Join(errs...)
}

// Close closes the pooled sockets (shutdown). Endpoints still open, or
// made later, close their sockets when they close.
func (e *Engine) Close() error {
	if e.pool == nil {
		return nil
	}
	return e.closeStale(e.pool.close())
}

// portPool hands out the port pairs of a range. A pair given back stays
// bound in a queue, oldest first, until its drain ends; the next endpoint
// takes the oldest drained one, so a freed pair is reused as late as the
// queue allows and never before its drain ends. A pair that still receives
// packets (a phone that missed its BYE and streams on) is drained again
// from the last of them: it serves a new call only after drain of quiet.
// With no drained pair ready the next unbound pair is taken round-robin. A
// pair that has waited IdleClose after its drain is closed.
type portPool struct {
	first  int           // first RTP port (even)
	drain  time.Duration // quiet needed before reuse; <= 0: none
	mu     sync.Mutex
	next   int         // unbound slot to try first
	used   []bool      // held by an endpoint, or bound in the queue
	idle   []*sockets  // bound pairs given back, in drain order
	until  []time.Time // unbound slots kept out until then (bind failures: zero)
	closed bool        // the engine is closed: pairs given back are closed
}

func newPortPool(low, high int, drain time.Duration) (*portPool, error) {
	first := low + low%2
	if low < 1 || high > 65535 || first+1 > high {
		return nil, fmt.Errorf("media: port range %d-%d holds no RTP/RTCP pair", low, high)
	}
	n := (high - first + 1) / 2
	return &portPool{first: first, drain: drain, used: make([]bool, n), until: make([]time.Time, n)}, nil
}

func (p *portPool) size() int { return len(p.used) }

// take returns a drained bound pair (sock), or else an unbound slot and its
// port to bind; stale are pairs idle too long, for the caller to close.
func (p *portPool) take(now time.Time) (sock *sockets, slot, port int, stale []*sockets, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	stale = p.trimLocked(now)
	for n := len(p.idle); n > 0 && !now.Before(p.idle[0].until); n-- {
		sock = p.idle[0]
		p.idle[0] = nil
		p.idle = p.idle[1:]
		if last := sock.lastStray.Load(); p.drain > 0 && last != 0 {
			if quiet := time.Unix(0, last).Add(p.drain); now.Before(quiet) {
				sock.until = quiet // still receiving: drain again, behind the others
				p.idle = append(p.idle, sock)
				continue
			}
		}
		return sock, sock.slot, sock.port, stale, true
	}
	for i := range len(p.used) {
		s := (p.next + i) % len(p.used)
		if !p.used[s] && !now.Before(p.until[s]) {
			p.used[s], p.until[s] = true, time.Time{}
			p.next = (s + 1) % len(p.used)
			return nil, s, p.first + 2*s, stale, true
		}
	}
	return nil, 0, 0, stale, false
}

// give queues a closed endpoint's bound pair until its drain ends; once the
// pool is closed it hands the pair back in stale, for closing.
func (p *portPool) give(s *sockets, until, now time.Time) (stale []*sockets) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s.until = until
	if p.closed {
		return []*sockets{s}
	}
	p.idle = append(p.idle, s)
	return p.trimLocked(now)
}

// unbound frees a slot whose sockets are closed (or never bound), for use
// from until on (zero: at once).
func (p *portPool) unbound(slot int, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.used[slot], p.until[slot] = false, until
}

// trimLocked takes the pairs idle for IdleClose after their drain out of
// the queue; their slots stay used until the caller has closed them.
func (p *portPool) trimLocked(now time.Time) (stale []*sockets) {
	for len(p.idle) > 0 && now.Sub(p.idle[0].until) > IdleClose {
		stale = append(stale, p.idle[0])
		p.idle[0] = nil
		p.idle = p.idle[1:]
	}
	return stale
}

// close empties the queue for closing (engine shutdown); pairs given back
// later are closed as they come.
func (p *portPool) close() []*sockets {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	out := p.idle
	p.idle = nil
	return out
}

// inUse counts pairs held by endpoints or still draining.
func (p *portPool) inUse(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for s, used := range p.used {
		if used || now.Before(p.until[s]) {
			n++
		}
	}
	for _, s := range p.idle {
		if !now.Before(s.until) {
			n-- // bound but drained: ready for the next endpoint
		}
	}
	return n
}
