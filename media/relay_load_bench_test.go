package media_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"switchboard/media"
	"switchboard/media/tonetest"
)

// phonesEnv makes the test binary run as the phones of BenchmarkRelayManySockets
// (see TestMain): in a process of their own, so their CPU is not counted as
// the relay's.
const phonesEnv = "SWITCHBOARD_MEDIA_PHONES"

// BenchmarkRelayManySockets relays calls×2 legs of 50 packets/s each through
// real loopback sockets, like the switch with that many calls up: the phones
// (one UDP socket a leg) run in a child process that sends each leg a 20 ms
// PCMU frame every 20 ms, spread over the 20 ms, and reads what comes back.
// One op is 20 ms of wall time; cpu-ns/packet is this process's CPU time
// (getrusage: user + system, every thread) over the packets relayed, which
// is what a relayed packet costs the switch: the read, the relay, the sendto
// (on loopback it also delivers into the phone's socket) and the scheduling
// around them; sys-ns/packet is the kernel's part of it. loss-% is what the
// phones sent and did not get back; p50-µs and p99-µs the one-way latency
// phone → relay → phone (each packet carries its send time, so both legs
// are PCMU: a transcoded payload would not keep it), phones' own delays
// included.
func BenchmarkRelayManySockets(b *testing.B) {
	for _, calls := range []int{250, 500} {
		b.Run(fmt.Sprintf("calls=%d", calls), func(b *testing.B) {
			e := newEngine(b, media.Config{})
			eps := make([]*media.Endpoint, 2*calls)
			for i := range eps {
				eps[i] = newEndpoint(b, e)
			}
			ph := startPhones(b, eps)
			for i := 0; i < len(eps); i += 2 {
				eps[i].SetRemote(ph.addrs[i], media.PCMU, 101)
				eps[i+1].SetRemote(ph.addrs[i+1], media.PCMU, 101)
				b.Cleanup(media.Bridge(eps[i], eps[i+1]))
			}
			ph.start()
			waitFor(b, "every leg latched", func() bool {
				for _, ep := range eps {
					if !ep.Stats().Latched.IsValid() {
						return false
					}
				}
				return true
			})
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			<-t.C
			out0, start := packetsOut(eps), time.Now()
			user0, sys0 := cpuTimes(b)
			for b.Loop() {
				<-t.C
			}
			user, sys := cpuTimes(b)
			user, sys = user-user0, sys-sys0
			wall, cpu, out := time.Since(start), user+sys, packetsOut(eps)-out0
			sent, got, p50, p99 := ph.stop()
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(max(out, 1)), "cpu-ns/packet")
			b.ReportMetric(float64(sys.Nanoseconds())/float64(max(out, 1)), "sys-ns/packet")
			b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
			b.ReportMetric(float64(out)/wall.Seconds(), "packets/s")
			b.ReportMetric(100*float64(sent-min(got, sent))/float64(max(sent, 1)), "loss-%")
			b.ReportMetric(p50, "p50-µs")
			b.ReportMetric(p99, "p99-µs")
			if out == 0 {
				b.Fatal("nothing relayed")
			}
		})
	}
}

// phones is the child process of BenchmarkRelayManySockets.
type phones struct {
	b     testing.TB
	cmd   *exec.Cmd
	in    *bufio.Writer
	out   *bufio.Scanner
	addrs []netip.AddrPort // leg i's phone, in the order of the endpoints
}

// startPhones starts the child with one phone a leg, each sending to its
// endpoint once start is called.
func startPhones(b testing.TB, eps []*media.Endpoint) *phones {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), phonesEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	ph := &phones{b: b, cmd: cmd, in: bufio.NewWriter(stdin), out: bufio.NewScanner(stdout)}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill() // its own child, by PID; a no-op once it has exited
		cmd.Wait()
	})
	for _, ep := range eps {
		fmt.Fprintln(ph.in, ep.LocalPort())
	}
	fmt.Fprintln(ph.in)
	ph.in.Flush()
	for range eps {
		port, err := strconv.Atoi(ph.line())
		if err != nil {
			b.Fatalf("phones: %v", err)
		}
		ph.addrs = append(ph.addrs, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)))
	}
	return ph
}

func (ph *phones) line() string {
	if !ph.out.Scan() {
		ph.b.Fatalf("phones exited: %v", ph.out.Err())
	}
	return ph.out.Text()
}

func (ph *phones) start() {
	fmt.Fprintln(ph.in, "go")
	ph.in.Flush()
}

// stop ends the sending and returns what the phones sent and received, and
// the latency's median and 99th percentile in µs.
func (ph *phones) stop() (sent, got uint64, p50, p99 float64) {
	fmt.Fprintln(ph.in, "stop")
	ph.in.Flush()
	_, err := fmt.Sscan(ph.line(), &sent, &got, &p50, &p99)
	if err != nil {
		ph.b.Fatalf("phones: %v", err)
	}
	return sent, got, p50, p99
}

// runPhones is the child: it reads the endpoints' ports from stdin, binds a
// phone for each and prints its port, waits for "go", sends until "stop",
// then prints how many packets it sent and received and the latency's p50
// and p99 in µs. The received count includes what arrives within 100 ms of
// the last send.
func runPhones() int {
	in := bufio.NewScanner(os.Stdin)
	var to []netip.AddrPort
	for in.Scan() && in.Text() != "" {
		port, err := strconv.Atoi(in.Text())
		if err != nil {
			fmt.Fprintln(os.Stderr, "phones:", err)
			return 1
		}
		to = append(to, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)))
	}
	conns := make([]*net.UDPConn, len(to))
	for i := range conns {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: loopback})
		if err != nil {
			fmt.Fprintln(os.Stderr, "phones:", err)
			return 1
		}
		conns[i] = c
		fmt.Println(c.LocalAddr().(*net.UDPAddr).Port)
	}
	var got atomic.Uint64
	var lat latencies
	var readers sync.WaitGroup
	for _, c := range conns {
		readers.Go(func() {
			buf := make([]byte, 1500)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				got.Add(1)
				if n >= 20 {
					lat.add(time.Duration(time.Now().UnixNano() - int64(binary.BigEndian.Uint64(buf[12:]))))
				}
			}
		})
	}
	if !in.Scan() || in.Text() != "go" {
		return 1
	}
	stop := make(chan struct{})
	go func() {
		in.Scan()
		close(stop)
	}()
	sent := sendPhones(conns, to, stop)
	time.Sleep(100 * time.Millisecond)
	for _, c := range conns {
		c.Close()
	}
	readers.Wait()
	fmt.Println(sent, got.Load(), lat.quantile(0.5), lat.quantile(0.99))
	return 0
}

// latencies is a histogram of 10 µs buckets up to 1 s.
type latencies struct {
	n       atomic.Uint64
	buckets [100_000]atomic.Uint32
}

func (l *latencies) add(d time.Duration) {
	l.n.Add(1)
	l.buckets[min(max(d/(10*time.Microsecond), 0), time.Duration(len(l.buckets)-1))].Add(1)
}

// quantile is the upper bound of the bucket holding quantile q, in µs.
func (l *latencies) quantile(q float64) float64 {
	want, seen := uint64(q*float64(l.n.Load())), uint64(0)
	for i := range l.buckets {
		if seen += uint64(l.buckets[i].Load()); seen > want {
			return float64(10 * (i + 1))
		}
	}
	return float64(10 * len(l.buckets))
}

// sendPhones sends every leg a frame every 20 ms, a twentieth of the legs a
// millisecond, so the relay sees the steady trickle of independent phones
// rather than bursts.
func sendPhones(conns []*net.UDPConn, to []netip.AddrPort, stop <-chan struct{}) (sent uint64) {
	frame := tonetest.Generate(1000, 20, media.PCMU)[0]
	pkts := make([][]byte, len(conns))
	for i := range pkts {
		pkts[i], _ = (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: uint32(i + 1)}, Payload: frame}).Marshal()
	}
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for ms := 0; ; ms++ {
		select {
		case <-stop:
			return sent
		case <-t.C:
		}
		for i := ms % 20; i < len(conns); i += 20 {
			seq := uint16(ms / 20)
			binary.BigEndian.PutUint16(pkts[i][2:], seq)
			binary.BigEndian.PutUint32(pkts[i][4:], uint32(seq)*160)
			binary.BigEndian.PutUint64(pkts[i][12:], uint64(time.Now().UnixNano())) // the payload's first 8 bytes
			if _, err := conns[i].WriteToUDPAddrPort(pkts[i], to[i]); err == nil {
				sent++
			}
		}
	}
}
