package call_test

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"switchboard/media"
	"switchboard/switch/call"
)

// Over UDP the switch repeats its 200 to a re-INVITE until the ACK comes,
// and stops when it does.
func TestReinvite200RepeatedUntilACK(t *testing.T) {
	o := newOffice(t, call.Config{})
	a, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	answered(t, o.bob)
	res := a.Response()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	me := conn.LocalAddr().String()
	switchAddr := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(o.sw.Addr()))
	target := res.Contact().Address.String()
	send := func(method, body string) {
		msg := fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%s-reinvite;rport\r\nMax-Forwards: 70\r\n"+
			"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 90000 %s\r\nContact: <sip:200@%s>\r\n",
			method, target, me, method, res.From().Value(), res.To().Value(), res.CallID().Value(), method, me)
		if body != "" {
			msg += "Content-Type: application/sdp\r\n"
		}
		msg += fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
		if _, err := conn.WriteToUDP([]byte(msg), switchAddr); err != nil {
			t.Fatal(err)
		}
	}
	// count reads the 200s to CSeq 90000 INVITE arriving within d.
	count := func(d time.Duration) int {
		n := 0
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(d))
		for {
			m, err := conn.Read(buf)
			if err != nil {
				return n
			}
			if bytes.HasPrefix(buf[:m], []byte("SIP/2.0 200")) && bytes.Contains(buf[:m], []byte("CSeq: 90000 INVITE")) {
				n++
			}
		}
	}
	sdp := media.BuildSDP(media.SessionDesc{Addr: netip.MustParseAddr("127.0.0.1"), Port: 40000, Codecs: []media.Codec{media.PCMU}}, 7, 2)
	send("INVITE", string(sdp))
	if n := count(2200 * time.Millisecond); n < 3 {
		t.Fatalf("%d copies of the 200 in 2.2 s without an ACK, want it repeated (at 0, 0.5 and 1.5 s)", n)
	}
	send("ACK", "")
	count(300 * time.Millisecond) // one may be on its way
	if n := count(2500 * time.Millisecond); n != 0 {
		t.Fatalf("%d copies of the 200 after the ACK", n)
	}
	a.Hangup(ctx(t))
	o.lastCall(t)
	o.noLeaks(t)
}
