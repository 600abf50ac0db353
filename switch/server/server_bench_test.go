package server

import (
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
// loopback: sipgo's parsing and transactions included. The client reuses one
// nonce per phone and answers the challenge with precomputed credentials, so
// nearly all the time measured is the switch's. With -cpu 1 it is the
// one-core cost of a registration (ns/op), client included.
func BenchmarkRegisterUDP(b *testing.B) {
	const users = 1000
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
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
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sw, err := New(Config{Addr: "127.0.0.1:0"}, st, event.New(), log)
	if err != nil {
		b.Fatal(err)
	}
	if err := sw.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sw.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	addr, _ := net.ResolveUDPAddr("udp", sw.Addr())

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
		buf := make([]byte, 4096)
		roundTrip := func(msg []byte, want string) string {
			for try := 0; ; try++ {
				c.Write(msg)
				c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
				n, err := c.Read(buf)
				if err == nil {
					res := string(buf[:n])
					if !strings.HasPrefix(res, "SIP/2.0 "+want) {
						b.Fatalf("want %s, got %s", want, res)
					}
					return res
				}
				if try == 5 {
					b.Fatalf("no answer: %v", err)
				}
			}
		}
		creds := map[string]string{}
		for pb.Next() {
			n := next.Add(1)
			id := fmt.Sprint(1000 + n%users)
			chal := roundTrip(register(me, id, n, 1, ""), "401")
			cred, ok := creds[id]
			if !ok {
				line := chal[strings.Index(chal, "WWW-Authenticate: ")+len("WWW-Authenticate: "):]
				ch, err := digest.ParseChallenge(line[:strings.Index(line, "\r\n")])
				if err != nil {
					b.Fatal(err)
				}
				d, err := digest.Digest(ch, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1",
					Username: id, Password: "secret" + id, Cnonce: "0a4f113b", Count: 1})
				if err != nil {
					b.Fatal(err)
				}
				cred = "Authorization: " + d.String() + "\r\n"
				creds[id] = cred
			}
			roundTrip(register(me, id, n, 2, cred), "200")
		}
	})
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
