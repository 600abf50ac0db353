package call_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icholy/digest"

	"switchboard/store"
	"switchboard/switch/phonetest"
)

// BenchmarkCallSetup is one whole call through the real switch over UDP on
// loopback, as SIPp's uac_call_nomedia.xml makes it: INVITE, 407, ACK,
// INVITE with credentials, 100/180/200, ACK, BYE, 200 — and on the callee's
// side INVITE, 180, 200, ACK, BYE, 200. No RTP flows, but the switch
// allocates, bridges and frees both legs' RTP/RTCP ports from a port range
// as it does in production, logs at Info to a discarded text handler, and
// writes the call record. The caller and callee are raw SIP over UDP sockets
// in this process (a few string operations and one MD5 digest a call), so
// nearly all the time measured is the switch's; with -cpu 1 ns/op is the
// one-core cost of a call, syscalls of both ends included.
//
// The store holds as many users as the SIPp benchmark (10,000), so any
// per-call work that grows with the directory shows here.
func BenchmarkCallSetup(b *testing.B) {
	for _, users := range []int{10, 10000} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) { benchCallSetup(b, users) })
	}
}

func benchCallSetup(b *testing.B, users int) {
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sw := phonetest.StartSwitch(b, phonetest.SwitchOptions{Log: log, RTPPorts: [2]int{40000, 59999}})
	realm, err := sw.Store.SIPRealm()
	if err != nil {
		b.Fatal(err)
	}
	const callee = "1999"
	us, ds := make([]store.User, 0, users), make([]store.Device, 0, users)
	for i := range users {
		ext := callerExt(i)
		if i == users-1 {
			ext = callee
		}
		us = append(us, store.User{Ext: ext, FirstName: "User", LastName: ext, Role: store.RoleUser, Created: time.Now()})
		d := store.Device{ID: ext, Ext: ext, Created: time.Now()}
		d.SetSIPPassword(realm, "password"+ext)
		ds = append(ds, d)
	}
	if err := sw.Store.CreateUsers(us, ds); err != nil {
		b.Fatal(err)
	}
	swAddr, _ := net.ResolveUDPAddr("udp", sw.Addr())
	uas := startRawUAS(b, swAddr, callee, "password"+callee)
	defer uas.Close()

	var next atomic.Int64
	b.SetParallelism(16) // many callers at once: throughput, not one call's round trips
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.DialUDP("udp", nil, swAddr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		u := &rawUA{conn: c, me: c.LocalAddr().String(), sw: swAddr.String()}
		for pb.Next() {
			n := next.Add(1)
			ext := callerExt(int(n) % (users - 1))
			if err := u.call(n, ext, "password"+ext, callee); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
	b.StopTimer()
	deadline := time.Now().Add(10 * time.Second)
	for len(sw.Server.Calls().Active()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// callerExt is the i-th caller: 1000, 1001, … skipping the callee 1999.
func callerExt(i int) string {
	if 1000+i >= 1999 {
		i++
	}
	return fmt.Sprint(1000 + i)
}

// rawUA speaks just enough SIP over one UDP socket for one call at a time.
type rawUA struct {
	conn *net.UDPConn
	me   string // our address, for Via and Contact
	sw   string // the switch's address
	buf  [4096]byte
}

// call makes one call from ext to callee and hangs it up.
func (u *rawUA) call(n int64, ext, password, callee string) error {
	callID := fmt.Sprintf("bench-%d-%s", n, u.me)
	uri := "sip:" + callee + "@" + u.sw
	from := fmt.Sprintf("<sip:%s@%s>;tag=f%d", ext, u.sw, n)
	sdp := fmt.Sprintf("v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=bench\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio 9 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"+
		"a=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n", n)
	invite := func(cseq int, branch, authz string) []byte {
		return fmt.Appendf(nil, "INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"+
			"From: %s\r\nTo: <%s>\r\nCall-ID: %s\r\nCSeq: %d INVITE\r\nContact: <sip:%s@%s>\r\n%s"+
			"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
			uri, u.me, branch, from, uri, callID, cseq, ext, u.me, authz, len(sdp), sdp)
	}
	res, err := u.request(invite(1, fmt.Sprintf("a%d", n), ""), "INVITE", 407)
	if err != nil {
		return err
	}
	toTag := header(res, "To")
	u.conn.Write(fmt.Appendf(nil, "ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKa%d;rport\r\nMax-Forwards: 70\r\n"+
		"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n", uri, u.me, n, from, toTag, callID))
	chal, err := digest.ParseChallenge(header(res, "Proxy-Authenticate"))
	if err != nil {
		return err
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: uri, Username: ext, Password: password})
	if err != nil {
		return err
	}
	res, err = u.request(invite(2, fmt.Sprintf("b%d", n), "Proxy-Authorization: "+cred.String()+"\r\n"), "INVITE", 200)
	if err != nil {
		return err
	}
	to, target := header(res, "To"), strings.Trim(header(res, "Contact"), "<>")
	inDialog := func(method string, cseq int, branch string) []byte {
		return fmt.Appendf(nil, "%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s%d;rport\r\nMax-Forwards: 70\r\n"+
			"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n",
			method, target, u.me, branch, n, from, to, callID, cseq, method)
	}
	u.conn.Write(inDialog("ACK", 2, "c"))
	_, err = u.request(inDialog("BYE", 3, "d"), "BYE", 200)
	return err
}

// request sends msg and returns the final response to it (of method, with
// status want), skipping provisional responses and retransmissions of
// earlier ones; it resends msg on silence as a SIP transaction does.
func (u *rawUA) request(msg []byte, method string, want int) ([]byte, error) {
	u.conn.Write(msg)
	deadline := time.Now().Add(10 * time.Second)
	for {
		u.conn.SetReadDeadline(time.Now().Add(time.Second))
		n, err := u.conn.Read(u.buf[:])
		if errors.Is(err, net.ErrClosed) {
			return nil, err
		}
		if err != nil {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("no answer to %s", bytes.SplitN(msg, []byte("\r\n"), 2)[0])
			}
			u.conn.Write(msg)
			continue
		}
		res := u.buf[:n]
		var code int
		if _, err := fmt.Sscanf(string(res[:min(len(res), 12)]), "SIP/2.0 %d", &code); err != nil {
			continue // a request: the switch does not send us any in these calls
		}
		if code < 200 || !strings.HasSuffix(header(res, "CSeq"), method) {
			continue
		}
		if code != want {
			return nil, fmt.Errorf("%s: got %q, want %d", method, bytes.SplitN(res, []byte("\r\n"), 2)[0], want)
		}
		return append([]byte(nil), res...), nil
	}
}

// header is the value of the first header called name in msg, or "".
func header(msg []byte, name string) string {
	for _, line := range strings.Split(string(msg), "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// rawUAS is a registered callee that answers every INVITE at once (180,
// 200 with SDP) and every BYE with 200, from one UDP socket.
type rawUAS struct {
	conn *net.UDPConn
	done chan struct{}
}

func startRawUAS(b *testing.B, sw *net.UDPAddr, id, password string) *rawUAS {
	b.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	me := c.LocalAddr().String()
	// Register the callee (REGISTER, 401, REGISTER with credentials, 200).
	register := func(cseq int, authz string) []byte {
		return fmt.Appendf(nil, "REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKreg%d;rport\r\n"+
			"Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=reg\r\nTo: <sip:%s@%s>\r\nCall-ID: reg-%s\r\n"+
			"CSeq: %d REGISTER\r\nContact: <sip:%s@%s>\r\n%sExpires: 3600\r\nContent-Length: 0\r\n\r\n",
			sw, me, cseq, id, sw, id, sw, me, cseq, id, me, authz)
	}
	// The REGISTER goes to the switch from the socket the UAS answers on.
	send := func(msg []byte) { c.WriteToUDP(msg, sw) }
	send(register(1, ""))
	res := readFrom(b, c)
	chal, err := digest.ParseChallenge(header(res, "WWW-Authenticate"))
	if err != nil {
		b.Fatalf("register: %v in %s", err, res)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + sw.String(), Username: id, Password: password})
	if err != nil {
		b.Fatal(err)
	}
	send(register(2, "Authorization: "+cred.String()+"\r\n"))
	if res := readFrom(b, c); !bytes.HasPrefix(res, []byte("SIP/2.0 200")) {
		b.Fatalf("register: %s", res)
	}
	c.SetReadDeadline(time.Time{})
	uas := &rawUAS{conn: c, done: make(chan struct{})}
	go uas.serve(me)
	return uas
}

func readFrom(b *testing.B, c *net.UDPConn) []byte {
	b.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		b.Fatal(err)
	}
	return buf[:n]
}

func (s *rawUAS) Close() {
	s.conn.Close()
	<-s.done
}

func (s *rawUAS) serve(me string) {
	defer close(s.done)
	buf := make([]byte, 4096)
	var out []byte
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=bench\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 9 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		msg := buf[:n]
		method, _, _ := bytes.Cut(msg, []byte(" "))
		// Echo the transaction's headers back; To gets our tag.
		reply := func(status string, withTag bool, body string) {
			out = append(out[:0], "SIP/2.0 "+status+"\r\n"...)
			for _, line := range strings.Split(string(msg[:bytes.Index(msg, []byte("\r\n\r\n"))]), "\r\n")[1:] {
				k, _, _ := strings.Cut(line, ":")
				switch strings.ToLower(strings.TrimSpace(k)) {
				case "via", "from", "call-id", "cseq":
					out = append(out, line+"\r\n"...)
				case "to":
					out = append(out, line...)
					if withTag && !strings.Contains(line, "tag=") {
						out = append(out, ";tag=uas"...)
					}
					out = append(out, "\r\n"...)
				}
			}
			out = fmt.Appendf(out, "Contact: <sip:callee@%s>\r\n", me)
			if body != "" {
				out = append(out, "Content-Type: application/sdp\r\n"...)
			}
			out = fmt.Appendf(out, "Content-Length: %d\r\n\r\n%s", len(body), body)
			s.conn.WriteToUDPAddrPort(out, from)
		}
		switch string(method) {
		case "INVITE":
			reply("180 Ringing", true, "")
			reply("200 OK", true, sdp)
		case "BYE":
			reply("200 OK", false, "")
		}
	}
}
