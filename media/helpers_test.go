package media_test

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"switchboard/media"
)

var loopback = net.IPv4(127, 0, 0, 1)

// TestMain runs the tests, or the phones of BenchmarkRelayManySockets when
// the benchmark starts this binary as its child.
func TestMain(m *testing.M) {
	if os.Getenv(phonesEnv) != "" {
		os.Exit(runPhones())
	}
	os.Exit(m.Run())
}

// newEngine returns an engine on 127.0.0.1 with OS-chosen ports, and makes the
// test fail if an endpoint goroutine outlives it.
func newEngine(t testing.TB, cfg media.Config) *media.Engine {
	t.Helper()
	if cfg.BindIP == nil {
		cfg.BindIP = loopback
	}
	e, err := media.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Close()
		checkNoEndpointGoroutines(t)
	})
	return e
}

func newEndpoint(t testing.TB, e *media.Engine) *media.Endpoint {
	t.Helper()
	ep, err := e.NewEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return ep
}

func epAddr(ep *media.Endpoint) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(ep.LocalPort()))
}

// checkNoEndpointGoroutines fails if any endpoint read loop or pacer still
// runs, like goleak but only for ours (other tests' goroutines may run in
// parallel). Close and stop wait for them, so only their last instructions
// may be in flight.
func checkNoEndpointGoroutines(t testing.TB) {
	t.Helper()
	checkNoGoroutine(t, "media.(*pollLoop).run", "media.(*pacer).loop", "media.(*pacerRun).help")
}

// checkNoGoroutine fails if a goroutine runs a function named fns.
func checkNoGoroutine(t testing.TB, fns ...string) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !slices.ContainsFunc(fns, func(fn string) bool { return strings.Contains(stacks, fn) }) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("endpoint goroutines left after Close:\n%s", stacks)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitFor polls cond (for counters that have no event to wait on).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// phone is a plain UDP socket sending and receiving RTP like a desk phone.
type phone struct {
	t    testing.TB
	conn *net.UDPConn
	ssrc uint32
	seq  uint16
	ts   uint32
}

func newPhone(t testing.TB) *phone { return newPhoneOn(t, loopback) }

// newPhoneOn is a phone on ip (IPv4 or IPv6).
func newPhoneOn(t testing.TB, ip net.IP) *phone {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &phone{t: t, conn: conn, ssrc: 0x1000 + uint32(conn.LocalAddr().(*net.UDPAddr).Port), seq: 1000, ts: 50000}
}

func (p *phone) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// send writes one RTP packet with the phone's SSRC and current seq/ts and
// moves seq on by one; the caller moves ts.
func (p *phone) send(to netip.AddrPort, pt uint8, marker bool, payload []byte) {
	p.t.Helper()
	b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker,
		SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}, Payload: payload}).Marshal()
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatal(err)
	}
	p.seq++
}

// sendAudio sends 20 ms frames, moving ts by 160 per frame.
func (p *phone) sendAudio(to netip.AddrPort, codec media.Codec, frames [][]byte) {
	for _, f := range frames {
		p.send(to, uint8(codec), false, f)
		p.ts += uint32(len(f))
	}
}

// sendEvent sends one RFC 4733 key press: start, update, three end packets,
// all with the same timestamp; ts then moves past the event.
func (p *phone) sendEvent(to netip.AddrPort, pt uint8, code uint8) {
	for i, d := range []uint16{160, 320, 480, 480, 480} {
		e := media.Event{Code: code, Volume: 10, Duration: d, End: i >= 2}
		p.send(to, pt, i == 0, e.AppendTo(nil))
	}
	p.ts += 480
}

// recv returns the next packet, failing the test after 3 s.
func (p *phone) recv() rtp.Packet {
	p.t.Helper()
	buf := make([]byte, 1500)
	p.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, err := p.conn.Read(buf)
	if err != nil {
		p.t.Fatalf("phone %v: no packet: %v", p.addr(), err)
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(buf[:n]); err != nil {
		p.t.Fatalf("phone %v: got a bad RTP packet: %v", p.addr(), err)
	}
	return pkt
}

func (p *phone) recvN(n int) []rtp.Packet {
	p.t.Helper()
	pkts := make([]rtp.Packet, n)
	for i := range pkts {
		pkts[i] = p.recv()
	}
	return pkts
}

func payloads(pkts []rtp.Packet) [][]byte {
	out := make([][]byte, len(pkts))
	for i, p := range pkts {
		out[i] = p.Payload
	}
	return out
}

// corpus returns the files of testdata/fuzz/<target> and of the extra
// directories, for f.Add.
func corpus(f *testing.F, target string, extra ...string) [][]byte {
	f.Helper()
	var out [][]byte
	for _, dir := range append([]string{filepath.Join("../testdata/fuzz", target)}, extra...) {
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		f.Fatalf("no corpus for %s", target)
	}
	return out
}
