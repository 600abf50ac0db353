package media_test

import (
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/media"
)

// freeRange finds pairs consecutive free RTP/RTCP pairs on 127.0.0.1 (a
// port range has to be fixed; this keeps it clear of other tests).
func freeRange(t *testing.T, pairs int) (low, high int) {
	t.Helper()
	for range 50 {
		low = 20000 + 2*rand.IntN(5000)
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
