package media_test

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/media"
)

// freeRange finds pairs consecutive free RTP/RTCP pairs on 127.0.0.1 (a
// port range has to be fixed; this keeps it clear of other tests). It looks
// above Linux's ephemeral ports (32768–60999) and clear of the 10000–30000
// that serve and the benchmarks use, so a load test beside it cannot fill it.
func freeRange(t *testing.T, pairs int) (low, high int) {
	t.Helper()
	for range 50 {
		low = 61000 + 2*rand.IntN(2000)
		var conns []*net.UDPConn
		for p := low; p < low+2*pairs; p++ {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: loopback, Port: p})
			if err != nil {
				break
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
		if len(conns) == 2*pairs {
			return low, low + 2*pairs - 1
		}
	}
	t.Fatal("no free port range")
	return 0, 0
}

// A closed endpoint's ports stay out of the pool for the drain period, not
// a moment less, then come back.
func TestPortsReturnAfterDrain(t *testing.T) {
	clock := newFakeClock()
	low, high := freeRange(t, 1)
	e := newEngine(t, media.Config{PortLow: low, PortHigh: high, Drain: 2 * time.Second})
	media.SetClock(e, clock.now)

	ep := newEndpoint(t, e)
	if ep.LocalPort() != low || e.InUse() != 1 || e.Open() != 1 {
		t.Fatalf("port %d, InUse %d, Open %d; want %d, 1, 1", ep.LocalPort(), e.InUse(), e.Open(), low)
	}
	if _, err := e.NewEndpoint(); !errors.Is(err, media.ErrNoPorts) {
		t.Fatalf("second endpoint on a one-pair range: %v, want ErrNoPorts", err)
	}
	if err := ep.Close(); err != nil {
		t.Fatal(err)
	}
	if e.InUse() != 1 || e.Open() != 0 {
		t.Fatalf("after Close: InUse %d, Open %d; want 1 (draining), 0", e.InUse(), e.Open())
	}
	clock.advance(2*time.Second - time.Millisecond)
	if _, err := e.NewEndpoint(); !errors.Is(err, media.ErrNoPorts) {
		t.Fatalf("1 ms before the drain ends: %v, want ErrNoPorts", err)
	}
	clock.advance(time.Millisecond)
	if e.InUse() != 0 {
		t.Fatalf("after the drain: InUse %d, want 0", e.InUse())
	}
	again := newEndpoint(t, e)
	if again.LocalPort() != low {
		t.Fatalf("reused port %d, want %d", again.LocalPort(), low)
	}
}

// Pairs are handed out round-robin, so a freed pair is reused last, and a
// pair some other program holds is skipped.
func TestPoolRoundRobinSkipsTakenPorts(t *testing.T) {
	low, high := freeRange(t, 3)
	e := newEngine(t, media.Config{PortLow: low, PortHigh: high, Drain: -1})
	squatter, err := net.ListenUDP("udp4", &net.UDPAddr{IP: loopback, Port: low + 3}) // RTCP of the 2nd pair
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()

	a, b := newEndpoint(t, e), newEndpoint(t, e)
	if a.LocalPort() != low || b.LocalPort() != low+4 {
		t.Fatalf("ports %d, %d; want %d, %d (second pair taken by someone else)", a.LocalPort(), b.LocalPort(), low, low+4)
	}
	a.Close()
	squatter.Close()
	if c := newEndpoint(t, e); c.LocalPort() != low {
		t.Fatalf("next port %d, want %d (round robin wraps to the freed pair first)", c.LocalPort(), low)
	}
	if d := newEndpoint(t, e); d.LocalPort() != low+2 {
		t.Fatalf("next port %d, want %d", d.LocalPort(), low+2)
	}
}

// Concurrent NewEndpoint/Close never hands one pair to two open endpoints.
func TestPoolConcurrent(t *testing.T) {
	low, high := freeRange(t, 8)
	e := newEngine(t, media.Config{PortLow: low, PortHigh: high, Drain: -1})
	var (
		mu   sync.Mutex
		open = map[int]bool{}
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for range 30 {
				ep, err := e.NewEndpoint()
				if errors.Is(err, media.ErrNoPorts) {
					continue
				} else if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if open[ep.LocalPort()] {
					t.Errorf("port %d handed out twice", ep.LocalPort())
				}
				open[ep.LocalPort()] = true
				mu.Unlock()
				if ep.LocalPort()%2 != 0 || ep.LocalPort() < low || ep.LocalPort()+1 > high {
					t.Errorf("port %d outside %d-%d or odd", ep.LocalPort(), low, high)
				}
				mu.Lock()
				delete(open, ep.LocalPort())
				mu.Unlock()
				ep.Close()
			}
		})
	}
	wg.Wait()
	if e.InUse() != 0 || e.Open() != 0 {
		t.Errorf("InUse %d Open %d after all closed", e.InUse(), e.Open())
	}
}

// Close ends every goroutine of the endpoint before it returns, bridged or
// not, with traffic or not; a second Close is harmless.
func TestCloseEndsGoroutines(t *testing.T) {
	e := newEngine(t, media.Config{})
	var eps []*media.Endpoint
	for range 5 {
		c := newCall(t, e, media.PCMU, media.PCMA, 101, 101)
		c.a.sendAudio(epAddr(c.epA), media.PCMU, [][]byte{make([]byte, 160)})
		c.b.recv()
		eps = append(eps, c.epA, c.epB)
	}
	for _, ep := range eps {
		if err := ep.Close(); err != nil {
			t.Fatal(err)
		}
		if err := ep.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
	if e.Open() != 0 {
		t.Errorf("Open = %d after closing everything", e.Open())
	}
	checkNoEndpointGoroutines(t)
}

func TestNewEngineConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     media.Config
		wantErr string
	}{
		{"OS ports", media.Config{BindIP: loopback}, ""},
		{"range", media.Config{BindIP: loopback, PortLow: 10000, PortHigh: 20000}, ""},
		{"odd low", media.Config{BindIP: loopback, PortLow: 10001, PortHigh: 10003}, ""},
		{"one port", media.Config{BindIP: loopback, PortLow: 10000, PortHigh: 10000}, "holds no"},
		{"odd pair", media.Config{BindIP: loopback, PortLow: 10001, PortHigh: 10002}, "holds no"},
		{"reversed", media.Config{BindIP: loopback, PortLow: 20000, PortHigh: 10000}, "holds no"},
		{"too high", media.Config{BindIP: loopback, PortLow: 65534, PortHigh: 65536}, "holds no"},
		{"unspecified bind, no advertise", media.Config{}, "AdvertiseIP"},
		{"unspecified bind, advertise", media.Config{AdvertiseIP: net.IPv4(192, 168, 1, 2)}, ""},
		{"bad bind", media.Config{BindIP: net.IP{1, 2, 3}}, "BindIP"},
	}
	for _, tt := range tests {
		_, err := media.NewEngine(tt.cfg)
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	e, _ := media.NewEngine(media.Config{AdvertiseIP: net.IPv4(192, 168, 1, 2)})
	if e.AdvertiseAddr().String() != "192.168.1.2" {
		t.Errorf("AdvertiseAddr = %v", e.AdvertiseAddr())
	}
}

// With a port range a closed endpoint's pair stays bound: what arrives while
// it drains is dropped (counted as ignored), and once drained the pair
// serves the next endpoint as new: nothing latched, nothing counted.
func TestPooledPairIsReusedClean(t *testing.T) {
	clock := newFakeClock()
	low, high := freeRange(t, 1)
	e := newEngine(t, media.Config{PortLow: low, PortHigh: high, Drain: 2 * time.Second})
	media.SetClock(e, clock.now)
	a, b := newPhone(t), newPhone(t)

	old := newEndpoint(t, e)
	old.SetRemote(a.addr(), media.PCMU, 0)
	a.sendAudio(epAddr(old), media.PCMU, [][]byte{make([]byte, 160)})
	waitFor(t, "the first packet", func() bool { return old.Stats().PacketsIn == 1 })
	old.Close()

	a.sendAudio(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(low)), media.PCMU, [][]byte{make([]byte, 160)})
	waitFor(t, "the late packet to be dropped", func() bool { return e.Totals().Ignored == 1 })
	if _, err := net.ListenUDP("udp4", &net.UDPAddr{IP: loopback, Port: low}); err == nil {
		t.Fatal("a draining pair must stay bound")
	}

	clock.advance(2 * time.Second)
	next := newEndpoint(t, e)
	if next.LocalPort() != low {
		t.Fatalf("port %d, want the drained pair %d", next.LocalPort(), low)
	}
	if s := next.Stats(); s.PacketsIn != 0 || s.Latched.IsValid() {
		t.Fatalf("the reused pair carries the old call's state: %+v", s)
	}
	next.SetRemote(b.addr(), media.PCMU, 0)
	b.sendAudio(epAddr(next), media.PCMU, [][]byte{make([]byte, 160)})
	waitFor(t, "the new call's packet", func() bool { return next.Stats().Latched == b.addr() })
	if got := e.Totals(); got.PacketsIn != 2 || got.Ignored != 1 {
		t.Fatalf("totals %+v, want 2 in (one per call), 1 ignored", got)
	}
}

// A pair left in the pool IdleClose after its drain is closed, and bound
// again when needed.
func TestIdlePairsAreClosed(t *testing.T) {
	clock := newFakeClock()
	low, high := freeRange(t, 2)
	e := newEngine(t, media.Config{PortLow: low, PortHigh: high, Drain: 2 * time.Second})
	media.SetClock(e, clock.now)
	first := newEndpoint(t, e)
	first.Close()
	clock.advance(2*time.Second + media.IdleClose + time.Millisecond)
	second := newEndpoint(t, e) // the first pair is closed on the way
	if second.LocalPort() != low+2 {
		t.Fatalf("port %d, want %d (round robin after the first pair)", second.LocalPort(), low+2)
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: loopback, Port: low})
	if err != nil {
		t.Fatalf("the idle pair was not closed: %v", err)
	}
	c.Close()
	if e.InUse() != 1 {
		t.Fatalf("InUse %d, want 1", e.InUse())
	}
	if third := newEndpoint(t, e); third.LocalPort() != low {
		t.Fatalf("port %d, want %d bound again", third.LocalPort(), low)
	}
}

// A pooled pair that keeps receiving after its call (a phone that missed
// the BYE streams on) is drained again from its last packet: the next call
// gets it only after the drain period of quiet, never while the old stream
// could still latch it.
func TestStreamingPairIsNotReused(t *testing.T) {
	clock := newFakeClock()
	low, high := freeRange(t, 1)
	e := newEngine(t, media.Config{PortLow: low, PortHigh: high, Drain: 2 * time.Second})
	media.SetClock(e, clock.now)
	a := newPhone(t)
	to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(low))

	old := newEndpoint(t, e)
	old.SetRemote(a.addr(), media.PCMU, 0)
	old.Close()
	clock.advance(1500 * time.Millisecond)
	a.sendAudio(to, media.PCMU, [][]byte{make([]byte, 160)})
	waitFor(t, "the late packet to be dropped", func() bool { return e.Totals().Ignored == 1 })

	clock.advance(500 * time.Millisecond) // the drain from Close is over, not from the last packet
	if ep, err := e.NewEndpoint(); !errors.Is(err, media.ErrNoPorts) {
		if ep != nil {
			ep.Close()
		}
		t.Fatalf("2 s after Close, 0.5 s after a late packet: %v, want ErrNoPorts", err)
	}
	if e.InUse() != 1 {
		t.Fatalf("InUse %d, want 1 (draining again)", e.InUse())
	}
	clock.advance(1500 * time.Millisecond)
	next := newEndpoint(t, e)
	if next.LocalPort() != low {
		t.Fatalf("port %d, want the drained pair %d", next.LocalPort(), low)
	}
	if s := next.Stats(); s.PacketsIn != 0 || s.Ignored != 0 || s.Latched.IsValid() {
		t.Fatalf("the reused pair carries the old call's state: %+v", s)
	}
}

// Engine.Close closes the pairs in the pool, and an endpoint closed after it
// closes its own ports instead of pooling them.
func TestEngineCloseClosesPooledPairs(t *testing.T) {
	low, high := freeRange(t, 2)
	e := newEngine(t, media.Config{PortLow: low, PortHigh: high, Drain: 2 * time.Second})
	open, pooled := newEndpoint(t, e), newEndpoint(t, e)
	pooled.Close()
	if _, err := net.ListenUDP("udp4", &net.UDPAddr{IP: loopback, Port: pooled.LocalPort()}); err == nil {
		t.Fatal("a pooled pair must stay bound")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	open.Close()
	for _, port := range []int{low, low + 1, low + 2, low + 3} {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: loopback, Port: port})
		if err != nil {
			t.Fatalf("port %d still bound after Engine.Close: %v", port, err)
		}
		c.Close()
	}
	if ep, err := e.NewEndpoint(); !errors.Is(err, media.ErrNoPorts) {
		if ep != nil {
			ep.Close()
		}
		t.Fatalf("after Close, both pairs draining: %v, want ErrNoPorts", err)
	}
}
