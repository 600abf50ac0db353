package server

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// WebSocket serves SIP over secure WebSocket (RFC 7118) from the HTTPS
// server, for the browser webphone: the handler checks the request (a
// WebSocket upgrade asking for the "sip" protocol, from a page of this
// server, with a live web session), takes the connection over from
// net/http and hands it, the upgrade request replayed, to sipgo's WSS
// transport through a listener of its own. sipgo's own WS listener would
// upgrade inside its accept loop with no deadline, where one idle
// connection stops every later one; net/http reads the request under
// ReadHeaderTimeout instead (DEPS-NOTES 1.7).
//
// addr names the HTTPS listener (sipgo labels the transport with its port).
// session returns the request's web session: an id, the same for every
// socket of one login, and whether the session is still live (nil without
// a session). A socket
// lives no longer than its session: each is checked every
// Config.WebSessionCheck and closed once its user logged out, was
// disabled or the session expired. One session opens at most
// maxSocketsPerSession sockets (tabs), so a logged-in user cannot pin
// down the switch with connections.
// When a browser's connection closes, its registrations go at once: it
// cannot be reached any more, and it registers again when it reconnects.
func (s *Server) WebSocket(addr net.Addr, session func(*http.Request) (id string, live func() bool)) http.Handler {
	ln := &connListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{}), open: map[*replayConn]struct{}{}}
	s.mu.Lock()
	s.ws = ln
	s.mu.Unlock()
	s.wg.Go(func() { s.srv.ServeWSS(ln) })
	every := s.cfg.WebSessionCheck
	if every <= 0 {
		every = 15 * time.Second
	}
	s.wg.Go(func() { ln.watch(every) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isSIPUpgrade(r) {
			http.Error(w, "this address takes SIP over WebSocket (RFC 7118) only", http.StatusBadRequest)
			return
		}
		if !sameOrigin(r) {
			// Browsers send cookies with cross-site WebSocket requests: without
			// this check any web page could use a logged-in user's webphone.
			http.Error(w, "forbidden origin", http.StatusForbidden)
			return
		}
		id, live := session(r)
		if live == nil {
			http.Error(w, "log in to use the webphone", http.StatusUnauthorized)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, "cannot take over the connection", http.StatusInternalServerError)
			return
		}
		conn.SetDeadline(time.Time{}) // net/http's deadlines end with its request
		var head bytes.Buffer
		if err := r.Write(&head); err != nil {
			conn.Close()
			return
		}
		remote := conn.RemoteAddr().String()
		ws := &replayConn{Conn: conn, head: &head, buffered: rw.Reader, session: webSession{id, live}}
		ws.onClose = func() {
			ln.forget(ws)
			s.reg.DropConnection("WSS", remote)
		}
		if !ln.track(ws) {
			// Counted after the hijack, so that concurrent upgrades cannot
			// all slip under the limit; net/http cannot answer any more.
			conn.Write([]byte("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			conn.Close()
			return
		}
		if !ln.push(ws) {
			ws.Close()
		}
	})
}

// webSession is the web session a webphone's socket belongs to.
type webSession struct {
	id   string
	live func() bool
}

// maxSocketsPerSession bounds one login's webphone sockets: a tab each.
const maxSocketsPerSession = 8

func isSIPUpgrade(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, p := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, v := range strings.Split(p, ",") {
			if strings.EqualFold(strings.TrimSpace(v), "sip") {
				return true
			}
		}
	}
	return false
}

// sameOrigin reports whether the page that opens the socket is one of ours.
func sameOrigin(r *http.Request) bool {
	u, err := url.Parse(r.Header.Get("Origin"))
	return err == nil && u.Scheme == "https" && strings.EqualFold(u.Host, r.Host)
}

// replayConn gives sipgo the upgrade request net/http already read, then
// what net/http had buffered, then the connection itself.
type replayConn struct {
	net.Conn
	head     *bytes.Buffer
	buffered *bufio.Reader // nil once drained
	session  webSession
	onClose  func()
	once     sync.Once
}

func (c *replayConn) Read(b []byte) (int, error) {
	if c.head.Len() > 0 {
		return c.head.Read(b)
	}
	if c.buffered != nil {
		if c.buffered.Buffered() > 0 {
			return c.buffered.Read(b)
		}
		c.buffered = nil
	}
	return c.Conn.Read(b)
}

func (c *replayConn) Close() error {
	c.once.Do(c.onClose)
	return c.Conn.Close()
}

// connListener is a net.Listener fed with connections by the handler. It
// knows the open ones, to close those whose web session has ended.
type connListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once

	mu   sync.Mutex
	open map[*replayConn]struct{}
}

// track counts c among the open sockets, unless its session has its fill.
func (l *connListener) track(c *replayConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for o := range l.open {
		if o.session.id == c.session.id {
			n++
		}
	}
	if n >= maxSocketsPerSession {
		return false
	}
	l.open[c] = struct{}{}
	return true
}

func (l *connListener) forget(c *replayConn) {
	l.mu.Lock()
	delete(l.open, c)
	l.mu.Unlock()
}

// watch closes, every period until the listener closes, the sockets whose
// web session has ended. Each session is asked once a round.
func (l *connListener) watch(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		}
		l.mu.Lock()
		bySession := map[string][]*replayConn{}
		live := map[string]func() bool{}
		for c := range l.open {
			bySession[c.session.id] = append(bySession[c.session.id], c)
			live[c.session.id] = c.session.live
		}
		l.mu.Unlock()
		for id, conns := range bySession {
			if live[id]() {
				continue
			}
			for _, c := range conns {
				c.Close() // sipgo's read fails and drops the connection
			}
		}
	}
}

func (l *connListener) push(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }
