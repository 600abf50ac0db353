package media_test

import (
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"switchboard/media"
)

// musicListeners makes n endpoints, half μ-law half A-law, all sending to
// one sink nobody reads (the kernel drops what overflows), and plays one
// Music to all of them.
func musicListeners(b *testing.B, e *media.Engine, n int) []*media.Endpoint {
	b.Helper()
	sink := newPhone(b)
	music := media.NewMusic(toneULaw(1000, 1000))
	eps := make([]*media.Endpoint, n)
	for i := range eps {
		eps[i] = newEndpoint(b, e)
		eps[i].SetRemote(sink.addr(), []media.Codec{media.PCMU, media.PCMA}[i%2], 101)
		b.Cleanup(eps[i].Play(music))
	}
	return eps
}

func packetsOut(eps []*media.Endpoint) (n uint64) {
	for _, ep := range eps {
		n += ep.Stats().PacketsOut
	}
	return n
}

// BenchmarkMusicTick is one pacer tick for 200 listeners of one Music: the
// shared frame (and its one A-law conversion), each leg's RTP header and the
// sendto, timed without the ticker. ns/listener-frame is the cost of one
// listener for 20 ms; allocs/op is per tick for all 200 (so 0 means 0 a
// listener-frame). "no-send" is the same with the phones on hold (no
// address): all of it but the sendto.
func BenchmarkMusicTick(b *testing.B) {
	const n = 200
	for _, send := range []bool{true, false} {
		b.Run(map[bool]string{true: "sendto", false: "no-send"}[send], func(b *testing.B) {
			e := newEngine(b, media.Config{})
			media.ManualPacing(e)
			eps := musicListeners(b, e, n)
			if !send {
				for _, ep := range eps {
					ep.SetRemote(netip.AddrPort{}, media.PCMA, 101)
				}
			}
			b.ReportAllocs()
			tick := media.CurrentTick()
			for b.Loop() {
				tick++
				media.PaceTick(e, tick)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/listener-frame")
			if sent := packetsOut(eps); send && sent < uint64(b.N*n) {
				b.Fatalf("%d packets sent for %d listener-frames", sent, b.N*n)
			}
			if media.Playing(e) != n {
				b.Fatalf("%d playing, want %d", media.Playing(e), n)
			}
		})
	}
}

// BenchmarkMusicRealtime runs the real pacer for n listeners; one op is one
// 20 ms tick of wall time. cpu-% is the process's CPU time (user+system, all
// threads) over wall time: 100 is one core.
func BenchmarkMusicRealtime(b *testing.B) {
	for _, n := range []int{500, 2000} {
		b.Run(fmt.Sprintf("listeners=%d", n), func(b *testing.B) {
			e := newEngine(b, media.Config{})
			eps := musicListeners(b, e, n)
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			<-t.C
			sent0, cpu0, start := packetsOut(eps), cpuTime(b), time.Now()
			for b.Loop() {
				<-t.C
			}
			wall, cpu, sent := time.Since(start), cpuTime(b)-cpu0, packetsOut(eps)-sent0
			b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(max(sent, 1)), "cpu-ns/listener-frame")
			b.ReportMetric(float64(sent)/wall.Seconds(), "packets/s")
		})
	}
}

func cpuTime(b *testing.B) time.Duration {
	user, sys := cpuTimes(b)
	return user + sys
}

// cpuTimes is the process's CPU time so far in user space and in the kernel.
func cpuTimes(b *testing.B) (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
