package server

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// A REGISTER over UDP is answered from the read filter, without sipgo: the
// challenge, then the 200 that registers the phone where it really is.
// Every other datagram, and a REGISTER the registrar hands back (wrong
// password, bodies, other transports), goes on to sipgo untouched.
func TestRegisterAnsweredFromReadLoop(t *testing.T) {
	sw := startUsers(t, 2)
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	me := c.LocalAddr().(*net.UDPAddr)
	udp := sip.TransportReadProps{Transport: "UDP", LocalAddr: sw.udp.LocalAddr(), RemoteAddr: me}
	answered := func(data []byte) string {
		t.Helper()
		if out, _ := sw.readFilter(udp, data); out != nil {
			t.Fatalf("handed to sipgo: %s", data)
		}
		buf := make([]byte, 4096)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		return string(buf[:n])
	}
	handedOn := func(what string, props sip.TransportReadProps, data []byte) {
		t.Helper()
		if out, _ := sw.readFilter(props, data); !bytes.Equal(out, data) {
			t.Errorf("%s: not handed to sipgo as it came (%q)", what, out)
		}
	}

	chal := answered(register(me.String(), "1000", 1, 1, ""))
	if !strings.HasPrefix(chal, "SIP/2.0 401 ") || !strings.Contains(chal, ";rport="+strconv.Itoa(me.Port)) || !strings.Contains(chal, "received=127.0.0.1") {
		t.Fatalf("challenge:\n%s", chal)
	}
	line := chal[strings.Index(chal, "WWW-Authenticate: ")+len("WWW-Authenticate: "):]
	ch, err := digest.ParseChallenge(line[:strings.Index(line, "\r\n")])
	if err != nil {
		t.Fatal(err)
	}
	authz := func(id, pw string, nc int) string {
		d, err := digest.Digest(ch, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1", Username: id, Password: pw, Cnonce: "0a4f113b", Count: nc})
		if err != nil {
			t.Fatal(err)
		}
		return "Authorization: " + d.String() + "\r\n"
	}
	if ok := answered(register(me.String(), "1000", 1, 2, authz("1000", "secret1000", 1))); !strings.HasPrefix(ok, "SIP/2.0 200 ") || !strings.Contains(ok, "Contact: ") {
		t.Fatalf("registration:\n%s", ok)
	}
	if b := sw.reg.All()["1000"]; len(b) != 1 || b[0].Source != me.String() || b[0].Transport != "UDP" {
		t.Fatalf("bindings of 1000: %+v", b)
	}

	// A 200 that lists ten bindings is larger than the 1,300 bytes sipgo would
	// send over UDP (RFC 3261's limit is for requests): it is sent whole.
	more := ""
	for i := range 9 {
		more += fmt.Sprintf("Contact: <sip:1000-line%d@%s;transport=UDP;x-line-key=%s>\r\n", i, me, strings.Repeat("k", 60))
	}
	big := answered(register(me.String(), "1000", 1, 3, more+authz("1000", "secret1000", 2)))
	if !strings.HasPrefix(big, "SIP/2.0 200 ") || strings.Count(big, "Contact: ") != 10 || len(big) <= 1300 {
		t.Fatalf("registration of ten bindings (%d bytes):\n%s", len(big), big)
	}

	handedOn("wrong password", udp, register(me.String(), "1001", 2, 2, authz("1001", "not-the-password", 1)))
	handedOn("another's credentials", udp, register(me.String(), "1001", 3, 2, authz("1000", "secret1000", 3)))
	handedOn("OPTIONS", udp, []byte("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP "+me.String()+";branch=z9hG4bK-o\r\n\r\n"))
	handedOn("garbage", udp, []byte("REGISTER nonsense"))
	tcp := udp
	tcp.Transport = "TCP"
	handedOn("over TCP", tcp, register(me.String(), "1000", 4, 1, ""))
	withBody := bytes.Replace(register(me.String(), "1000", 5, 1, ""), []byte("Content-Length: 0\r\n\r\n"), []byte("Content-Length: 2\r\n\r\nhi"), 1)
	handedOn("with a body", udp, withBody)
	if b := sw.reg.All()["1001"]; len(b) != 0 {
		t.Fatalf("1001 registered with bad credentials: %+v", b)
	}
}

// Without rport a phone is answered at its Via's port, not at the port it
// sent from (RFC 3261 §18.2.2), as OPTIONS through sipgo is — unless the
// Via names another address than the source (a NAT between); a REGISTER
// without a Via, or one read on a socket other than the switch's SIP socket,
// is left to sipgo.
func TestStatelessAnswerRouting(t *testing.T) {
	sw := startUsers(t, 1)
	send, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	listen, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer listen.Close()
	via := listen.LocalAddr().String()
	dst, err := net.ResolveUDPAddr("udp", sw.Addr())
	if err != nil {
		t.Fatal(err)
	}
	request := func(method, viaLine string) []byte {
		return fmt.Appendf(nil, "%s sip:127.0.0.1 SIP/2.0\r\n%sMax-Forwards: 70\r\n"+
			"From: <sip:1000@127.0.0.1>;tag=1\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: via-%s\r\nCSeq: 1 %s\r\n"+
			"Contact: <sip:1000@%s>\r\nContent-Length: 0\r\n\r\n", method, viaLine, method, method, via)
	}
	for _, method := range []string{"OPTIONS", "REGISTER"} {
		if _, err := send.WriteTo(request(method, "Via: SIP/2.0/UDP "+via+";branch=z9hG4bK-"+method+"\r\n"), dst); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		listen.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := listen.ReadFrom(buf)
		if err != nil {
			t.Fatalf("%s: no answer at the Via's port: %v", method, err)
		}
		if want := "CSeq: 1 " + method; !strings.Contains(string(buf[:n]), want) {
			t.Fatalf("%s: answer at the Via's port is not for it:\n%s", method, buf[:n])
		}
	}

	// A Via naming another address (a NAT between, no rport): the source port.
	if _, err := send.WriteTo(request("REGISTER", "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-nat\r\n"), dst); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	send.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, _, err := send.ReadFrom(buf); err != nil || !strings.Contains(string(buf[:n]), "branch=z9hG4bK-nat") {
		t.Fatalf("behind a NAT without rport: no answer at the source port: %v %q", err, buf[:n])
	}

	noVia := request("REGISTER", "")
	props := sip.TransportReadProps{Transport: "UDP", LocalAddr: sw.udp.LocalAddr(), RemoteAddr: send.LocalAddr()}
	if out, _ := sw.readFilter(props, noVia); !bytes.Equal(out, noVia) {
		t.Errorf("a REGISTER without Via was not handed to sipgo (%q)", out)
	}
	withVia := request("REGISTER", "Via: SIP/2.0/UDP "+via+";branch=z9hG4bK-other\r\n")
	props.LocalAddr = listen.LocalAddr() // another socket
	if out, _ := sw.readFilter(props, withVia); !bytes.Equal(out, withVia) {
		t.Errorf("a REGISTER read on another socket was not handed to sipgo (%q)", out)
	}
}

func TestSameIP(t *testing.T) {
	for _, tc := range []struct {
		host string
		ip   net.IP
		want bool
	}{
		{"127.0.0.1", net.IPv4(127, 0, 0, 1), true},
		{"127.0.0.1", net.IPv4(127, 0, 0, 2), false},
		{"[::1]", net.IPv6loopback, true},
		{"::1", net.IPv6loopback, true},
		{"phone.example.com", net.IPv4(127, 0, 0, 1), false},
		{"", net.IPv4(127, 0, 0, 1), false},
	} {
		if got := sameIP(tc.host, tc.ip); got != tc.want {
			t.Errorf("sameIP(%q, %v) = %v", tc.host, tc.ip, got)
		}
	}
}
