package media

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

// A closed socket neither reads nor sends: its descriptor number may already
// be another socket's.
func TestUDPSockClosed(t *testing.T) {
	u, err := bindUDP(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	if u.port == 0 {
		t.Fatal("no port")
	}
	if err := u.close(); err != nil {
		t.Fatal(err)
	}
	if err := u.close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := u.sendTo([]byte{1}, netip.MustParseAddrPort("127.0.0.1:9")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("sendTo after close: %v, want net.ErrClosed", err)
	}
	var from rawFrom
	if _, _, err := u.recvFrom(make([]byte, 10), &from); !errors.Is(err, net.ErrClosed) {
		t.Errorf("recvFrom after close: %v, want net.ErrClosed", err)
	}
}

// recvFrom reports the sender's address as the kernel gave it, IPv4 and
// IPv6, and sendTo reaches the address given.
func TestUDPSockAddresses(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "::1"} {
		t.Run(ip, func(t *testing.T) {
			bind := netip.AddrPortFrom(netip.MustParseAddr(ip), 0)
			u, err := bindUDP(bind)
			if err != nil {
				t.Fatal(err)
			}
			defer u.close()
			peer, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(bind))
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			us := netip.AddrPortFrom(bind.Addr(), uint16(u.port))
			if _, err := peer.WriteToUDPAddrPort([]byte("ping"), us); err != nil {
				t.Fatal(err)
			}
			buf, from := make([]byte, 100), rawFrom{}
			var n int
			var src netip.AddrPort
			waitForNoError(t, func() error { n, src, err = u.recvFrom(buf, &from); return err })
			if string(buf[:n]) != "ping" || src != peer.LocalAddr().(*net.UDPAddr).AddrPort() {
				t.Fatalf("got %q from %v, want ping from %v", buf[:n], src, peer.LocalAddr())
			}
			if _, err := u.sendTo([]byte("pong"), src); err != nil {
				t.Fatal(err)
			}
			n, got, err := peer.ReadFromUDPAddrPort(buf)
			if err != nil || string(buf[:n]) != "pong" || got != us {
				t.Fatalf("peer got %q from %v (%v), want pong from %v", buf[:n], got, err, us)
			}
		})
	}
}

// waitForNoError retries a non-blocking read until it succeeds (the
// datagram is on its way through loopback).
func waitForNoError(t *testing.T, read func() error) {
	t.Helper()
	for range 1000 {
		if read() == nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("nothing to read after 1 s")
}
