package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"
)

// newGuard starts a guard on loopback with one goroutine accepting;
// accepted delivers what it lets through.
func newGuard(t *testing.T, maxTotal, maxPerIP int, idle time.Duration) (g *tcpGuard, accepted chan net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g = guardTCP(l, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	g.maxTotal, g.maxPerIP, g.idle = maxTotal, maxPerIP, idle
	t.Cleanup(func() { g.Close() })
	accepted = make(chan net.Conn, 16)
	go func() {
		for {
			s, err := g.Accept()
			if err != nil {
				return
			}
			accepted <- s
		}
	}()
	return g, accepted
}

// dial connects from a loopback address; the server's side is nil when
// the guard refused the connection (closed it at once).
func dial(t *testing.T, g *tcpGuard, accepted chan net.Conn, from string) (client, server net.Conn) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", g.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	select {
	case s := <-accepted:
		return c, s
	case <-time.After(300 * time.Millisecond):
		return c, nil
	}
}

func closedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Second))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !errors.Is(err, syscall.EAGAIN) && !isTimeout(err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// One address gets at most maxPerIP connections, everyone together
// maxTotal; a closed connection gives its place back.
func TestTCPGuardLimits(t *testing.T) {
	g, accepted := newGuard(t, 3, 2, time.Minute)
	_, a1 := dial(t, g, accepted, "127.0.0.1")
	_, a2 := dial(t, g, accepted, "127.0.0.1")
	if a1 == nil || a2 == nil {
		t.Fatal("the first two connections from one address were refused")
	}
	if c, s := dial(t, g, accepted, "127.0.0.1"); s != nil || !closedByServer(t, c) {
		t.Fatal("a third connection from the same address was kept")
	}
	if _, b1 := dial(t, g, accepted, "127.0.0.2"); b1 == nil {
		t.Fatal("another address was refused")
	}
	if c, s := dial(t, g, accepted, "127.0.0.3"); s != nil || !closedByServer(t, c) {
		t.Fatal("a fourth connection in all was kept")
	}
	a1.Close()
	a1.Close() // twice gives back one place
	if _, s := dial(t, g, accepted, "127.0.0.1"); s == nil {
		t.Fatal("no place again after a close")
	}
	if _, s := dial(t, g, accepted, "127.0.0.4"); s != nil {
		t.Fatal("a second Close gave back a second place")
	}
}

// A connection that says nothing is closed after the first-bytes time; one
// that spoke waits the idle time.
func TestTCPGuardIdle(t *testing.T) {
	g, accepted := newGuard(t, 10, 10, 150*time.Millisecond)
	c, s := dial(t, g, accepted, "127.0.0.1")
	if s == nil {
		t.Fatal("refused")
	}
	c.Write([]byte("\r\n\r\n"))
	buf := make([]byte, 16)
	if n, err := s.Read(buf); err != nil || n == 0 {
		t.Fatalf("read %d %v", n, err)
	}
	start := time.Now()
	_, err := s.Read(buf)
	if err != io.EOF || time.Since(start) > time.Second {
		t.Fatalf("silent peer: %v after %v", err, time.Since(start))
	}
	_, mute := dial(t, g, accepted, "127.0.0.1")
	start = time.Now()
	if _, err := mute.Read(buf); err != io.EOF || time.Since(start) > time.Second {
		t.Fatalf("a peer that never spoke: %v after %v", err, time.Since(start))
	}
}

// A failed Accept (out of file descriptors) does not end the listener.
func TestTCPGuardRetriesAccept(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := guardTCP(&failingListener{Listener: l, fails: 3}, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Minute)
	defer g.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if s, err := g.Accept(); err == nil {
			accepted <- s
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case s := <-accepted:
		s.Close()
	case <-time.After(2 * time.Second):
		t.Fatal("no connection after failed Accepts")
	}
}

type failingListener struct {
	net.Listener
	fails int
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, syscall.EMFILE
	}
	return l.Listener.Accept()
}
