package server

import (
	"bytes"
	"context"
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
	"switchboard/switch/event"
)

// BenchmarkRegisterUDP is a whole digest registration (REGISTER, 401,
// REGISTER with credentials, 200) through the real switch over UDP on
// loopback: sipgo's parsing and transactions included. The client answers
// every challenge with precomputed credentials, so
// nearly all the time measured is the switch's. With -cpu 1 it is the
// one-core cost of a registration (ns/op), the client's syscalls included.
func BenchmarkRegisterUDP(b *testing.B) {
	const users = 1000
	sw := startUsers(b, users)
	addr, _ := net.ResolveUDPAddr("udp", sw.Addr())

	// Every phone answers the same nonce (the switch's nonces are not tied
	// to a user), with credentials computed before the clock starts.
	creds := make([]string, users)
	{
		c, err := net.DialUDP("udp", nil, addr)
		if err != nil {
			b.Fatal(err)
		}
		chal := roundTrip(b, c, register(c.LocalAddr().String(), "1000", 0, 1, ""), "401")
		c.Close()
		line := chal[strings.Index(chal, "WWW-Authenticate: ")+len("WWW-Authenticate: "):]
		ch, err := digest.ParseChallenge(line[:strings.Index(line, "\r\n")])
		if err != nil {
			b.Fatal(err)
		}
		for i := range creds {
			id := fmt.Sprint(1000 + i)
			d, err := digest.Digest(ch, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1",
				Username: id, Password: "secret" + id, Cnonce: "0a4f113b", Count: 1})
			if err != nil {
				b.Fatal(err)
			}
			creds[i] = "Authorization: " + d.String() + "\r\n"
		}
	}

	var next atomic.Int64
	b.SetParallelism(16) // many phones at once: throughput, not one phone's round trip
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.DialUDP("udp", nil, addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		me := c.LocalAddr().String()
		for pb.Next() {
			n := next.Add(1)
			i := int(n % users)
			id := fmt.Sprint(1000 + i)
			roundTrip(b, c, register(me, id, n, 1, ""), "401")
			roundTrip(b, c, register(me, id, n, 2, creds[i]), "200")
		}
	})
}

// startUsers serves a switch on loopback whose store has users 1000… with
// SIP passwords secret1000…, until the test ends.
func startUsers(tb testing.TB, users int) *Server {
	st, err := store.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	realm, _ := st.SIPRealm()
	us := make([]store.User, users)
	ds := make([]store.Device, users)
	for i := range us {
		id := fmt.Sprint(1000 + i)
		us[i] = store.User{Ext: id, FirstName: "User", Role: store.RoleUser}
		ds[i] = store.Device{ID: id, Ext: id}
		ds[i].SetSIPPassword(realm, "secret"+id)
	}
	if err := st.CreateUsers(us, ds); err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sw, err := New(Config{Addr: "127.0.0.1:0"}, st, event.New(), log)
	if err != nil {
		tb.Fatal(err)
	}
	if err := sw.Listen(); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sw.Serve(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	return sw
}

// roundTrip sends msg and waits for its answer, resending a few times;
// late answers to earlier requests (resent under load) are skipped.
func roundTrip(b testing.TB, c *net.UDPConn, msg []byte, want string) string {
	branch := string(msg[bytes.Index(msg, []byte("branch=")):])
	branch = branch[:strings.IndexByte(branch, ';')]
	buf := make([]byte, 4096)
	for try := 0; try < 6; try++ {
		c.Write(msg)
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		for {
			n, err := c.Read(buf)
			if err != nil {
				break
			}
			res := string(buf[:n])
			if !strings.Contains(res, branch+";") {
				continue
			}
			if !strings.HasPrefix(res, "SIP/2.0 "+want) {
				b.Fatalf("want %s, got %s", want, res)
			}
			return res
		}
	}
	b.Fatalf("no answer to %s", branch)
	return ""
}

func register(me, id string, n int64, cseq int, authz string) []byte {
	return fmt.Appendf(nil, "REGISTER sip:127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;branch=z9hG4bK-%d-%d;rport\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:%s@127.0.0.1>;tag=%d\r\n"+
		"To: <sip:%s@127.0.0.1>\r\n"+
		"Call-ID: %d-bench\r\n"+
		"CSeq: %d REGISTER\r\n"+
		"Contact: <sip:%s@%s;transport=UDP>\r\n"+
		"%s"+
		"Expires: 3600\r\n"+
		"User-Agent: switchboard-bench\r\n"+
		"Content-Length: 0\r\n\r\n", me, n, cseq, id, n, id, n, cseq, id, me, authz)
}
