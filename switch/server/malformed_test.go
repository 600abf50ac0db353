package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"switchboard/switch/auth"
	"switchboard/switch/phonetest"
)

// TestMalformedInputOverTheNetwork throws garbage at a running switch over
// UDP and TCP — random bytes, truncated and oversize messages, the invalid
// corpus, a flood of REGISTERs with wrong passwords from one address — and
// then checks that phones elsewhere still register, OPTIONS is answered and
// the goroutines the abuse started are gone.
func TestMalformedInputOverTheNetwork(t *testing.T) {
	limits := auth.DefaultLimits
	limits.SlowStep, limits.MaxSlow = time.Millisecond, 5*time.Millisecond // keep the test quick
	// Everything logged goes to one buffer, including what a library sends
	// to slog.Default, to check below that garbage cannot flood the log.
	var log syncBuffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	defaultLog := slog.Default()
	slog.SetDefault(logger)
	t.Cleanup(func() { slog.SetDefault(defaultLog) })
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{AuthLimits: limits, Log: logger})
	sw.AddUser(t, "200", "secret-200")
	udpPhone := sw.Phone(t, "200", "secret-200", phonetest.Options{UserAgent: "Yealink SIP-T46U"})
	tcpPhone := sw.Phone(t, "200", "secret-200", phonetest.Options{Transport: "TCP", UserAgent: "Linphone"})
	healthy := func(t *testing.T) {
		t.Helper()
		for _, p := range []*phonetest.Phone{udpPhone, tcpPhone} {
			if res, err := p.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
				t.Fatalf("register: %v %v", res, err)
			}
			opts := p.NewRegister("", -1)
			opts.Method, opts.CSeq().MethodName = sip.OPTIONS, sip.OPTIONS
			if res, err := p.Send(ctx(t), opts); err != nil || res.StatusCode != 200 {
				t.Fatalf("OPTIONS: %v %v", res, err)
			}
		}
	}
	healthy(t) // also starts what the switch keeps running per peer, before counting
	baseline := runtime.NumGoroutine()

	switchAddr, err := net.ResolveUDPAddr("udp", sw.Addr())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3261, 5626))
	garbage := inputs(t, rng, sw.Addr())

	t.Run("UDP", func(t *testing.T) {
		c := udpFrom(t, "127.0.0.5")
		for _, b := range garbage {
			// Loopback takes at most 65507 bytes in one datagram; the rest is
			// the network's business, not ours.
			if _, err := c.WriteTo(b[:min(len(b), 65507)], switchAddr); err != nil {
				t.Fatalf("send %d bytes: %v", len(b), err)
			}
		}
	})
	t.Run("TCP", func(t *testing.T) {
		for i, b := range garbage {
			c, err := net.DialTimeout("tcp", sw.Addr(), 10*time.Second)
			if err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
			c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			c.Write(b) // the switch may hang up halfway: that is allowed
			c.Close()
		}
		// Connections that never say anything, and a never-ending line.
		var idle []net.Conn
		for range 50 {
			c, err := net.DialTimeout("tcp", sw.Addr(), 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			idle = append(idle, c)
		}
		c, err := net.DialTimeout("tcp", sw.Addr(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("REGISTER sip:pbx SIP/2.0\r\nX-Long: " + strings.Repeat("a", 1<<20)))
		c.Close()
		healthy(t) // while the idle connections are open
		for _, c := range idle {
			c.Close()
		}
	})
	t.Run("REGISTER flood", func(t *testing.T) {
		c := udpFrom(t, "127.0.0.7")
		flood(t, c, switchAddr, 2000)
		// The guesses are answered 403 until the address is blocked, then
		// not at all. Concurrent handling lets a few more through.
		answered := 0
		buf := make([]byte, 65535)
		for {
			quiet := 500 * time.Millisecond // then the switch has stopped answering
			if answered == 0 {
				quiet = 10 * time.Second // a busy machine may take long for the first
			}
			c.SetReadDeadline(time.Now().Add(quiet))
			n, err := c.Read(buf)
			if err != nil {
				break
			}
			if !bytes.HasPrefix(buf[:n], []byte("SIP/2.0 403 ")) {
				t.Fatalf("flood answered with %q", bytes.SplitN(buf[:n], []byte("\r\n"), 2)[0])
			}
			answered++
		}
		t.Logf("%d of 2000 wrong passwords answered", answered)
		if answered == 0 || answered > 200 {
			t.Fatalf("%d of 2000 wrong passwords answered, want some and then silence", answered)
		}
	})

	healthy(t)
	waitGoroutines(t, baseline+10, 20*time.Second)
	// Garbage must not flood the log: sipgo logs what it cannot parse, whole.
	t.Logf("%d bytes logged", log.Len())
	if n := log.Len(); n > 64<<10 {
		t.Fatalf("the abuse wrote %d KiB of log; its start:\n%.4000s", n>>10, log.String())
	}
}

// syncBuffer is a bytes.Buffer the switch's goroutines can log to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func udpFrom(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

const goodRegister = "REGISTER sip:%[1]s SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.5:5060;branch=z9hG4bK%[2]d;rport\r\n" +
	"From: <sip:200@%[1]s>;tag=%[2]d\r\nTo: <sip:200@%[1]s>\r\n" +
	"Call-ID: malformed-%[2]d\r\nCSeq: %[2]d REGISTER\r\n" +
	"Contact: <sip:200@127.0.0.5:5060>\r\n%[3]sContent-Length: 0\r\n\r\n"

// inputs are the bad messages: the invalid seed corpus, random bytes,
// every 23rd prefix of a good REGISTER, and oversize datagrams.
func inputs(t *testing.T, rng *rand.Rand, server string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "fuzz", "register", "invalid", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid corpus: %v", err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for range 300 {
		b := make([]byte, rng.IntN(2048))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		out = append(out, b)
	}
	good := fmt.Appendf(nil, goodRegister, server, 1, "")
	for n := 0; n < len(good); n += 23 {
		out = append(out, good[:n])
	}
	out = append(out,
		bytes.Repeat([]byte{0}, 65507),
		bytes.Repeat([]byte("\r\n"), 40000),
		fmt.Appendf(nil, goodRegister, server, 2, "X-Pad: "+strings.Repeat("p", 65507)+"\r\n"),
		fmt.Appendf(nil, goodRegister, server, 3, "")[:200],
		[]byte(strings.Replace(fmt.Sprintf(goodRegister, server, 4, ""), "Content-Length: 0", "Content-Length: 60000", 1)),
	)
	return out
}

// flood sends n REGISTERs for device 200 with a wrong password under a real
// nonce from c, without waiting for answers.
func flood(t *testing.T, c *net.UDPConn, to *net.UDPAddr, n int) {
	t.Helper()
	if _, err := c.WriteTo(fmt.Appendf(nil, goodRegister, to, 0, ""), to); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 65535)
	m, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no challenge: %v", err)
	}
	msg, err := sip.ParseMessage(buf[:m])
	res, ok := msg.(*sip.Response)
	if err != nil || !ok || res.StatusCode != 401 {
		t.Fatalf("want a 401, got %v %v", msg, err)
	}
	chal, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + to.String(),
			Username: "200", Password: fmt.Sprintf("guess-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.WriteTo(fmt.Appendf(nil, goodRegister, to, 1000+i, "Authorization: "+cred.String()+"\r\n"), to); err != nil {
			t.Fatal(err)
		}
	}
}

// waitGoroutines waits until at most max goroutines run, or fails after
// timeout with their stacks.
func waitGoroutines(t *testing.T, max int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for runtime.NumGoroutine() > max {
		if time.Now().After(deadline) {
			var stacks strings.Builder
			pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			t.Fatalf("%d goroutines after the abuse, want at most %d:\n%s", runtime.NumGoroutine(), max, stacks.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a count; nothing to wait on
	}
}
