package server_test

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"switchboard/switch/phonetest"
)

// A phone behind NAT registers a private Contact from a public source; the
// switch must keep sending keep-alives to the source, and to nobody else.
func TestKeepAliveReachesPhonesBehindNAT(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{KeepAlive: 20 * time.Millisecond})
	sw.AddUser(t, "200", "secret-200")
	sw.AddUser(t, "201", "secret-201")

	natted := rawRegister(t, sw.Addr(), "200", "secret-200", "sip:200@192.168.1.50:5060")
	direct := rawRegister(t, sw.Addr(), "201", "secret-201", "") // Contact = its real address

	natted.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, _, err := natted.ReadFrom(buf)
	if err != nil || !bytes.Equal(buf[:n], []byte("\r\n\r\n")) {
		t.Fatalf("phone behind NAT got %q, %v; want a CRLF keep-alive", buf[:n], err)
	}
	direct.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _, err := direct.ReadFrom(buf); err == nil {
		t.Fatalf("phone not behind NAT got %q", buf[:n])
	}
}

// rawRegister registers device id from a bare UDP socket, so the test sees
// every datagram the switch sends there. An empty contact means the socket's own address.
func rawRegister(t *testing.T, server, id, password, contact string) net.PacketConn {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	local := conn.LocalAddr().String()
	if contact == "" {
		contact = "sip:" + id + "@" + local
	}
	dst, _ := net.ResolveUDPAddr("udp", server)
	send := func(cseq int, authz string) *sip.Response {
		msg := fmt.Sprintf("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d%s;rport\r\n"+
			"From: <sip:%s@%s>;tag=raw%d\r\nTo: <sip:%s@%s>\r\nCall-ID: raw-%s@test\r\nCSeq: %d REGISTER\r\n"+
			"Contact: <%s>\r\nExpires: 600\r\n%sContent-Length: 0\r\n\r\n",
			server, local, cseq, id, id, server, cseq, id, server, id, cseq, contact, authz)
		if _, err := conn.WriteTo([]byte(msg), dst); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		for {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				t.Fatalf("no answer to REGISTER: %v", err)
			}
			m, err := sip.ParseMessage(buf[:n])
			if res, ok := m.(*sip.Response); err == nil && ok {
				return res
			}
		}
	}
	res := send(1, "")
	if res.StatusCode != 401 {
		t.Fatalf("want 401, got %d", res.StatusCode)
	}
	chal, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + server, Username: id, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	if res := send(2, "Authorization: "+cred.String()+"\r\n"); res.StatusCode != 200 {
		t.Fatalf("want 200, got %d %s", res.StatusCode, res.Reason)
	}
	return conn
}
