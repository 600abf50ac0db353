package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// DefaultDrain is how long a closed endpoint's ports stay out of the pool
// when Config.Drain is zero.
const DefaultDrain = 2 * time.Second

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
// concurrent use and needs no closing: its only goroutine, the pacer of what
// endpoints play, runs only while one plays.
type Engine struct {
	bind      netip.Addr
	advertise netip.Addr
	drain     time.Duration
	log       *slog.Logger
	pool      *portPool // nil when the OS chooses ports
	now       func() time.Time
	pacer     pacer // sends what endpoints play

	mu     sync.Mutex
	live   map[*Endpoint]struct{} // endpoints not yet closed
	closed Totals                 // counters of the closed ones
}

// Totals are the packet counters of all endpoints an engine has made, open
// and closed (for /metrics).
type Totals struct {
	PacketsIn  uint64 // RTP packets accepted from phones
	PacketsOut uint64 // RTP packets sent to phones
	Ignored    uint64 // datagrams dropped: not RTP, or not from the latched source
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
	var err error
	if e.bind, e.advertise, err = addrs(cfg.BindIP, cfg.AdvertiseIP); err != nil {
		return nil, err
	}
	if cfg.PortLow != 0 || cfg.PortHigh != 0 {
		if e.pool, err = newPortPool(cfg.PortLow, cfg.PortHigh); err != nil {
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

// network keeps sockets to one address family, so source addresses compare
// as they are (no IPv4-mapped IPv6).
func (e *Engine) network() string {
	if e.bind.Is4() {
		return "udp4"
	}
	return "udp6"
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

// NewEndpoint binds the next free RTP/RTCP port pair and starts reading it.
func (e *Engine) NewEndpoint() (*Endpoint, error) {
	rtpConn, rtcpConn, slot, err := e.bindPair()
	if err != nil {
		return nil, err
	}
	ep := startEndpoint(e, rtpConn, rtcpConn, slot)
	e.mu.Lock()
	e.live[ep] = struct{}{}
	e.mu.Unlock()
	return ep, nil
}

// bindPair takes pairs from the pool until one binds; slot is the pool index
// to give back, or -1 without a pool.
func (e *Engine) bindPair() (rtpConn, rtcpConn *net.UDPConn, slot int, err error) {
	if e.pool == nil {
		rtpConn, rtcpConn, err = e.bindAny()
		return rtpConn, rtcpConn, -1, err
	}
	lastErr := ErrNoPorts
	for range e.pool.size() {
		slot, port, ok := e.pool.take(e.now())
		if !ok {
			break
		}
		if rtpConn, rtcpConn, err = e.bindPort(port); err == nil {
			return rtpConn, rtcpConn, slot, nil
		}
		e.pool.give(slot, time.Time{}) // taken by someone outside the switch; try the next
		lastErr = fmt.Errorf("%w (last: %w)", ErrNoPorts, err)
	}
	return nil, nil, 0, lastErr
}

func (e *Engine) bindPort(port int) (rtpConn, rtcpConn *net.UDPConn, err error) {
	rtpConn, err = net.ListenUDP(e.network(), net.UDPAddrFromAddrPort(netip.AddrPortFrom(e.bind, uint16(port))))
	if err != nil {
		return nil, nil, err
	}
	rtcpConn, err = net.ListenUDP(e.network(), net.UDPAddrFromAddrPort(netip.AddrPortFrom(e.bind, uint16(port+1))))
	if err != nil {
		rtpConn.Close()
		return nil, nil, err
	}
	return rtpConn, rtcpConn, nil
}

// bindAny lets the OS choose the RTP port and tries to get the one above it
// for RTCP.
func (e *Engine) bindAny() (rtpConn, rtcpConn *net.UDPConn, err error) {
	for range 20 {
		rtpConn, err = net.ListenUDP(e.network(), net.UDPAddrFromAddrPort(netip.AddrPortFrom(e.bind, 0)))
		if err != nil {
			return nil, nil, err
		}
		port := rtpConn.LocalAddr().(*net.UDPAddr).Port
		if port < 65535 {
			rtcpConn, err = net.ListenUDP(e.network(), net.UDPAddrFromAddrPort(netip.AddrPortFrom(e.bind, uint16(port+1))))
			if err == nil {
				return rtpConn, rtcpConn, nil
			}
		}
		rtpConn.Close()
	}
	return nil, nil, fmt.Errorf("%w: no free port above an OS-chosen one: %w", ErrNoPorts, err)
}

// release gives a closed endpoint's pair back to the pool after the drain
// and keeps its counters in the engine's totals.
func (e *Engine) release(ep *Endpoint) {
	e.mu.Lock()
	delete(e.live, ep)
	e.closed.add(&ep.stats)
	e.mu.Unlock()
	if slot := ep.slot; e.pool != nil && slot >= 0 {
		until := time.Time{}
		if e.drain > 0 {
			until = e.now().Add(e.drain)
		}
		e.pool.give(slot, until)
	}
}

// portPool hands out the port pairs of a range round-robin, so a freed pair
// is reused as late as possible, and never before its quarantine ends.
type portPool struct {
	first int // first RTP port (even)
	mu    sync.Mutex
	next  int         // slot to try first
	used  []bool      // held by an open endpoint
	until []time.Time // quarantined until (zero: free at once)
}

func newPortPool(low, high int) (*portPool, error) {
	first := low + low%2
	if low < 1 || high > 65535 || first+1 > high {
		return nil, fmt.Errorf("media: port range %d-%d holds no RTP/RTCP pair", low, high)
	}
	n := (high - first + 1) / 2
	return &portPool{first: first, used: make([]bool, n), until: make([]time.Time, n)}, nil
}

func (p *portPool) size() int { return len(p.used) }

func (p *portPool) take(now time.Time) (slot, port int, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range len(p.used) {
		s := (p.next + i) % len(p.used)
		if !p.used[s] && !now.Before(p.until[s]) {
			p.used[s], p.until[s] = true, time.Time{}
			p.next = (s + 1) % len(p.used)
			return s, p.first + 2*s, true
		}
	}
	return 0, 0, false
}

func (p *portPool) give(slot int, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.used[slot], p.until[slot] = false, until
}

func (p *portPool) inUse(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for s, used := range p.used {
		if used || now.Before(p.until[s]) {
			n++
		}
	}
	return n
}
