package main

import (
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// stamp writes a packet's number and send time into a G.711 payload (the
// receiver is in this process and shares the clock).
func stamp(payload []byte, n uint32, at time.Time) {
	binary.BigEndian.PutUint32(payload, n)
	binary.BigEndian.PutUint64(payload[4:], uint64(at.UnixNano()))
}

// bucket is the latency histogram's resolution; the last bucket holds
// everything from maxLatency on.
const (
	bucket     = 50 * time.Microsecond
	maxLatency = time.Second
)

// direction counts one way of every call: packets sent, distinct packets
// received and their one-way latency.
type direction struct {
	mu       sync.Mutex
	sent     int
	received int
	dups     int
	hist     []uint32
}

func newDirection() *direction {
	return &direction{hist: make([]uint32, maxLatency/bucket+1)}
}

func (d *direction) addSent() {
	d.mu.Lock()
	d.sent++
	d.mu.Unlock()
}

// receiver returns the function that takes one call's packets in this
// direction; seen remembers which arrived, so a duplicate counts once.
func (d *direction) receiver(packets int) func(payload []byte, at time.Time) {
	seen := make([]bool, packets)
	return func(payload []byte, at time.Time) {
		if len(payload) < 12 {
			return
		}
		n := binary.BigEndian.Uint32(payload)
		lat := at.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(payload[4:]))))
		d.mu.Lock()
		defer d.mu.Unlock()
		if int(n) >= len(seen) {
			return
		}
		if seen[n] {
			d.dups++
			return
		}
		seen[n] = true
		d.received++
		d.hist[min(max(lat, 0)/bucket, maxLatency/bucket)]++
	}
}

// lateness measures how late this tool's own goroutines wake (a 20 ms
// sleep, every 20 ms) until the deadline: on a shared machine a stalled
// load tool looks like loss and latency in the switch.
func lateness(until time.Time) Way {
	d := newDirection()
	for time.Now().Before(until) {
		before := time.Now()
		time.Sleep(20 * time.Millisecond)
		d.sent++
		d.received++
		d.hist[min(max(time.Since(before)-20*time.Millisecond, 0)/bucket, maxLatency/bucket)]++
	}
	return d.result()
}

// Way is one direction's result.
type Way struct {
	Sent       int     `json:"sent"`
	Received   int     `json:"received"`
	Duplicates int     `json:"duplicates"`
	LossPct    float64 `json:"loss_pct"`
	P50ms      float64 `json:"latency_p50_ms"`
	P99ms      float64 `json:"latency_p99_ms"`
	P999ms     float64 `json:"latency_p999_ms"`
	Maxms      float64 `json:"latency_max_ms"`
}

func (d *direction) result() Way {
	d.mu.Lock()
	defer d.mu.Unlock()
	w := Way{Sent: d.sent, Received: d.received, Duplicates: d.dups}
	if d.sent > 0 {
		w.LossPct = 100 * float64(d.sent-d.received) / float64(d.sent)
	}
	q := func(p float64) float64 {
		want, seen := uint64(p*float64(d.received)), uint64(0)
		for i, n := range d.hist {
			seen += uint64(n)
			if n > 0 && seen > want {
				return float64(time.Duration(i+1)*bucket) / 1e6 // upper edge of the bucket
			}
		}
		return 0
	}
	w.P50ms, w.P99ms, w.P999ms = q(.5), q(.99), q(.999)
	for i := len(d.hist) - 1; i >= 0; i-- {
		if d.hist[i] > 0 {
			w.Maxms = float64(time.Duration(i+1)*bucket) / 1e6
			break
		}
	}
	return w
}

// cpuTicks is a process's user+system CPU time in clock ticks (/proc/PID/stat).
func cpuTicks(pid string) (int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s, nil
}

// machineTicks is the machine's busy and total CPU time (/proc/stat).
func machineTicks() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	for i, f := range strings.Fields(line)[1:] {
		n, _ := strconv.ParseInt(f, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// rssKB is a process's resident set (VmRSS) in kB.
func rssKB(pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// udpDrops sums the kernel's drop counters (/proc/net/udp) over the UDP
// sockets a process has open: packets that met a full receive buffer,
// which tells loss in the switch from loss in this tool.
func udpDrops(pid string) int64 {
	inodes := map[string]bool{}
	fds, _ := os.ReadDir("/proc/" + pid + "/fd")
	for _, fd := range fds {
		link, err := os.Readlink("/proc/" + pid + "/fd/" + fd.Name())
		if s, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(s, "]")] = true
		}
	}
	b, _ := os.ReadFile("/proc/net/udp")
	var n int64
	for _, line := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 12 && inodes[f[9]] {
			d, _ := strconv.ParseInt(f[12], 10, 64)
			n += d
		}
	}
	return n
}

// runDelay is how long a process's threads have waited, in total, for a
// CPU while runnable (/proc/PID/task/*/schedstat, second field): a switch
// that waited long was starved by the machine, not slow by itself.
func runDelay(pid string) time.Duration {
	tasks, _ := os.ReadDir("/proc/" + pid + "/task")
	var d time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/" + pid + "/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			d += time.Duration(n)
		}
	}
	return d
}
