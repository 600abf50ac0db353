package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// sipgo serves a TCP listener as it is: every connection is kept, idle or
// not, for as long as the peer likes, and the first failed Accept (out of
// file descriptors, say) ends the listener for good. tcpGuard puts the
// limits around it that a switch on a network needs.
type tcpGuard struct {
	net.Listener
	log      *slog.Logger
	maxTotal int           // connections at once
	maxPerIP int           // connections at once from one address
	idle     time.Duration // a connection that sends nothing for this long is closed

	mu    sync.Mutex
	total int
	perIP map[netip.Addr]int
}

// TCP limits. A phone keeps one connection; a few dozen share an office's
// NAT address at most. A phone registered over TCP sends something (a
// re-REGISTER, a CRLF keep-alive) well within the longest registration.
const (
	tcpMaxConns   = 1024
	tcpMaxPerIP   = 64
	tcpIdleExtra  = 5 * time.Minute  // beyond the longest registration
	tcpFirstBytes = 30 * time.Second // a new connection must say something by then
	acceptBackoff = time.Second      // the longest wait between failed Accepts
)

func guardTCP(l net.Listener, log *slog.Logger, maxExpires time.Duration) *tcpGuard {
	return &tcpGuard{Listener: l, log: log, maxTotal: tcpMaxConns, maxPerIP: tcpMaxPerIP,
		idle: maxExpires + tcpIdleExtra, perIP: map[netip.Addr]int{}}
}

// Accept returns the next connection within the limits. A failed Accept is
// retried after a growing pause, as net/http does, until the listener is
// closed.
func (g *tcpGuard) Accept() (net.Conn, error) {
	var wait time.Duration
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			if wait == 0 {
				g.log.Warn("sip tcp: accepting connections failed; retrying", "err", err)
			}
			wait = min(max(2*wait, 5*time.Millisecond), acceptBackoff)
			time.Sleep(wait)
			continue
		}
		wait = 0
		ip := remoteIP(c)
		if !g.admit(ip) {
			c.Close()
			continue
		}
		return &guardedConn{Conn: c, g: g, ip: ip}, nil
	}
}

func (g *tcpGuard) admit(ip netip.Addr) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.total >= g.maxTotal || g.perIP[ip] >= g.maxPerIP {
		return false
	}
	g.total++
	g.perIP[ip]++
	return true
}

func (g *tcpGuard) release(ip netip.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if g.perIP[ip]--; g.perIP[ip] <= 0 {
		delete(g.perIP, ip)
	}
}

func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}

// guardedConn closes itself when its peer stays silent (at first for
// tcpFirstBytes, then for the guard's idle time), and gives its place back
// once closed.
type guardedConn struct {
	net.Conn
	g     *tcpGuard
	ip    netip.Addr
	spoke bool // only sipgo's one reader goroutine reads it
	once  sync.Once
}

func (c *guardedConn) Read(b []byte) (int, error) {
	wait := c.g.idle
	if !c.spoke {
		wait = min(wait, tcpFirstBytes)
	}
	c.Conn.SetReadDeadline(time.Now().Add(wait))
	n, err := c.Conn.Read(b)
	c.spoke = c.spoke || n > 0
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		err = io.EOF // a routine end: sipgo logs other read errors as errors
	}
	return n, err
}

func (c *guardedConn) Close() error {
	c.once.Do(func() { c.g.release(c.ip) })
	return c.Conn.Close()
}
