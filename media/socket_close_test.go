package media_test

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"switchboard/media"
	"switchboard/media/tonetest"
)

// Closing a bridged endpoint while both phones stream, with new sockets
// taking the freed descriptor numbers at once, never sends or reads through
// the closed sockets: every packet a phone gets comes from its own endpoint's
// port, and a new socket's datagrams stay its own.
func TestCloseUnderTraffic(t *testing.T) {
	e := newEngine(t, media.Config{}) // no pool: Close closes the descriptors
	pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7}, Payload: tonetest.Generate(1000, 20, media.PCMU)[0]}).Marshal()
	for range 20 {
		a, b := newPhone(t), newPhone(t)
		epA, epB := newEndpoint(t, e), newEndpoint(t, e)
		epA.SetRemote(a.addr(), media.PCMU, 0)
		epB.SetRemote(b.addr(), media.PCMU, 0)
		media.Bridge(epA, epB)
		toA, toB := epAddr(epA), epAddr(epB)

		stop := make(chan struct{})
		var senders sync.WaitGroup
		for _, s := range []struct {
			from *phone
			to   netip.AddrPort
		}{{a, toA}, {b, toB}} {
			senders.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					s.from.conn.WriteToUDPAddrPort(pkt, s.to)
					time.Sleep(50 * time.Microsecond)
				}
			})
		}
		b.recv() // relaying both ways now

		epB.Close() // while A's loop relays to B: a send may be under way
		canaries := make([]*net.UDPConn, 4)
		for i := range canaries {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: loopback})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			canaries[i] = c
			if _, err := a.conn.WriteToUDPAddrPort([]byte("canary"), c.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Millisecond)
		epA.Close()
		close(stop)
		senders.Wait()

		for _, c := range canaries {
			buf := make([]byte, 100)
			c.SetReadDeadline(time.Now().Add(time.Second))
			if n, err := c.Read(buf); err != nil || string(buf[:n]) != "canary" {
				t.Fatalf("a new socket lost its datagram: %q, %v", buf[:n], err)
			}
		}
		checkSources(t, a, toA)
		checkSources(t, b, toB)
	}
}

// checkSources reads what p still has queued and fails on a packet that did
// not come from want.
func checkSources(t *testing.T, p *phone, want netip.AddrPort) {
	t.Helper()
	buf := make([]byte, 1500)
	for {
		p.conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if from != want {
			t.Fatalf("phone %v got a packet from %v, want only %v", p.addr(), from, want)
		}
	}
}
