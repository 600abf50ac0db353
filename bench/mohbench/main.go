// Command mohbench measures what music on hold and call recording cost the
// switch's media engine (issue #5: "CPU per music-on-hold listener and per
// recording leg; floor: 500 simultaneous MOH listeners use < 25 % of one
// core; goal: 2,000").
//
// Listeners: N real media.Endpoints of one media.Engine on 127.0.0.1 play
// the built-in music on hold (one shared media.Music, half of the legs in
// μ-law and half in A-law, as on a mixed site) to a sink process that counts
// what arrives per leg. Recorders: N endpoints record (Endpoint.Record) the
// 50 packets a second of μ-law that a sender process sends each of them.
// For each N, after a warm-up, the process's own CPU time (getrusage:
// user+system, all threads) over a window of wall time gives the % of one
// core; the sink and the sender are separate processes, so their CPU is not
// counted. The sink's count proves the music went out (≈ 50 packets a
// second a listener, mostly not silence); the endpoints' counters and the
// recordings' lengths prove the recordings got the audio.
//
//	GOMAXPROCS=1 taskset -c 1 mohbench -listeners 500,1000,2000 -recorders 500,1000,2000 -seconds 10 -child-cpu 0
//
// Output: a Markdown table on stdout (and -json FILE for the raw numbers).
// The -role flag is for the child processes it starts itself.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"switchboard/media"
	"switchboard/media/prompts"
)

func main() {
	role := flag.String("role", "", "child role: sink or send (started by mohbench itself)")
	listeners := flag.String("listeners", "500,1000,2000", "numbers of music-on-hold listeners to measure, comma-separated (empty: none)")
	recorders := flag.String("recorders", "500,1000,2000", "numbers of recording legs to measure, comma-separated (empty: none)")
	seconds := flag.Float64("seconds", 10, "measurement window for each N")
	warmup := flag.Float64("warmup", 2, "seconds of load before each window")
	childCPU := flag.String("child-cpu", "", "taskset CPU list for the sink and sender processes (e.g. 0); empty: no pinning")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file")
	floor := flag.Int("floor", 2000, "also measure N plain UDP sockets sending the same packets with no media code (the kernel's share); 0: not")
	ports := flag.String("ports", "", "sender: comma-separated endpoint ports on 127.0.0.1")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measurements to this file")
	flag.Parse()
	if *cpuProfile != "" && *role == "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "mohbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}

	var err error
	switch *role {
	case "sink":
		err = runSink()
	case "send":
		err = runSender(*ports)
	case "":
		err = runBench(*listeners, *recorders, *floor, time.Duration(*seconds*float64(time.Second)),
			time.Duration(*warmup*float64(time.Second)), *childCPU, *jsonOut)
	default:
		err = fmt.Errorf("unknown role %q", *role)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "mohbench:", err)
		os.Exit(1)
	}
}

// Result is one measurement.
type Result struct {
	Kind          string  `json:"kind"` // "listeners" or "recorders"
	N             int     `json:"n"`
	Seconds       float64 `json:"seconds"`
	CPUPercent    float64 `json:"cpu_percent"`     // of one core, user+system
	CPUPerLegUS   float64 `json:"cpu_per_leg_us"`  // µs of CPU per leg per second
	PacketsPerSec float64 `json:"packets_per_sec"` // sent (listeners) or received (recorders) by the engine
	PerLegPPS     float64 `json:"per_leg_pps"`
	// Listeners: what the sink got. Recorders: what the sender sent.
	PeerPackets  uint64  `json:"peer_packets"` // from the start of the run, not only the window
	LossPercent  float64 `json:"loss_percent"` // over the whole run: listeners: sent by the engine, not seen by the sink; recorders: sent, not received
	MinLegPPS    float64 `json:"min_leg_pps"`  // the slowest leg as the sink (or the engine) saw it
	VoicedShare  float64 `json:"voiced_share"` // listeners: share of sampled packets above media.VoiceLevel
	RecordedMinS float64 `json:"recorded_min_s"`
	KernelDrops  uint64  `json:"kernel_udp_drops"` // /proc/net/snmp Udp RcvbufErrors during the window (whole machine)
	RSSMB        float64 `json:"rss_mb"`
	LoadBefore   string  `json:"load_before"`
	LoadAfter    string  `json:"load_after"`
}

func runBench(listeners, recorders string, floor int, window, warmup time.Duration, childCPU, jsonOut string) error {
	ls, err := parseList(listeners)
	if err != nil {
		return fmt.Errorf("-listeners: %w", err)
	}
	rs, err := parseList(recorders)
	if err != nil {
		return fmt.Errorf("-recorders: %w", err)
	}
	eng, err := media.NewEngine(media.Config{BindIP: net.IPv4(127, 0, 0, 1), AdvertiseIP: net.IPv4(127, 0, 0, 1), Drain: -1})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "mohbench: GOMAXPROCS=%d, %d CPUs, window %v after %v warm-up\n", runtime.GOMAXPROCS(0), runtime.NumCPU(), window, warmup)
	var results []Result
	for _, n := range ls {
		r, err := benchListeners(eng, n, window, warmup, childCPU)
		if err != nil {
			return fmt.Errorf("%d listeners: %w", n, err)
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "mohbench: %d listeners: %.1f %% of a core\n", n, r.CPUPercent)
	}
	if floor > 0 {
		r, err := benchRawSend(floor, window, warmup, childCPU)
		if err != nil {
			return fmt.Errorf("%d plain sockets: %w", floor, err)
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "mohbench: %d plain sockets: %.1f %% of a core\n", floor, r.CPUPercent)
	}
	for _, n := range rs {
		r, err := benchRecorders(eng, n, window, warmup, childCPU)
		if err != nil {
			return fmt.Errorf("%d recorders: %w", n, err)
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "mohbench: %d recorders: %.1f %% of a core\n", n, r.CPUPercent)
	}
	printTable(os.Stdout, results)
	if jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		return os.WriteFile(jsonOut, b, 0o644)
	}
	return nil
}

func parseList(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// window measures the process's CPU over d of wall time.
type window struct {
	start time.Time
	cpu   time.Duration
	drops uint64
	load  string
}

func startWindow() window {
	return window{start: time.Now(), cpu: cpuTime(), drops: udpDrops(), load: loadavg()}
}

func (w window) end(r *Result) time.Duration {
	wall, cpu := time.Since(w.start), cpuTime()-w.cpu
	r.Seconds = wall.Seconds()
	r.CPUPercent = 100 * cpu.Seconds() / wall.Seconds()
	r.CPUPerLegUS = 1e6 * cpu.Seconds() / wall.Seconds() / float64(r.N)
	r.KernelDrops = udpDrops() - w.drops
	r.LoadBefore, r.LoadAfter = w.load, loadavg()
	r.RSSMB = rssMB()
	return wall
}

func benchListeners(eng *media.Engine, n int, d, warmup time.Duration, childCPU string) (Result, error) {
	r := Result{Kind: "listeners", N: n}
	sink, err := startChild(childCPU, "-role", "sink")
	if err != nil {
		return r, err
	}
	defer sink.stop()
	addr, err := netip.ParseAddrPort(strings.TrimPrefix(sink.line(), "addr "))
	if err != nil {
		return r, fmt.Errorf("sink address: %w", err)
	}
	music := media.NewMusic(prompts.MusicOnHold())
	eps := make([]*media.Endpoint, 0, n)
	stops := make([]func(), 0, n)
	defer func() {
		for _, ep := range eps {
			ep.Close()
		}
	}()
	for i := range n {
		ep, err := eng.NewEndpoint()
		if err != nil {
			return r, err
		}
		eps = append(eps, ep)
		ep.SetRemote(addr, []media.Codec{media.PCMU, media.PCMA}[i%2], 101)
		stops = append(stops, ep.Play(music))
	}
	time.Sleep(warmup)
	sent0 := packetsOut(eps)
	sink.send("start")
	w := startWindow()
	time.Sleep(d)
	sink.send("stop")
	wall := w.end(&r)
	sent := packetsOut(eps) - sent0
	var s sinkReport
	if err := json.Unmarshal([]byte(sink.line()), &s); err != nil {
		return r, fmt.Errorf("sink report: %w", err)
	}
	// Loss: everything sent since the start against everything the sink
	// got, once the music has stopped and the last packets have landed.
	for _, stop := range stops {
		stop()
	}
	time.Sleep(300 * time.Millisecond)
	sink.send("total")
	total, err := strconv.ParseUint(sink.line(), 10, 64)
	if err != nil {
		return r, fmt.Errorf("sink total: %w", err)
	}
	r.PacketsPerSec = float64(sent) / wall.Seconds()
	r.PerLegPPS = r.PacketsPerSec / float64(n)
	r.PeerPackets = total
	r.LossPercent = 100 * (1 - float64(total)/float64(max(packetsOut(eps), 1)))
	r.MinLegPPS = float64(s.MinPerSource) / s.Seconds
	if s.Sources < n {
		r.MinLegPPS = 0 // a leg the sink never heard
	}
	r.VoicedShare = float64(s.Voiced) / float64(max(s.Sampled, 1))
	return r, nil
}

// benchRawSend is the floor under the listeners: n plain UDP sockets, each
// sending one packet of the same size to the sink every 20 ms from one
// goroutine, with no media code at all. What it costs is the system calls
// (and, on loopback, the kernel's delivery into the sink's socket).
func benchRawSend(n int, d, warmup time.Duration, childCPU string) (Result, error) {
	r := Result{Kind: "plain sockets", N: n}
	sink, err := startChild(childCPU, "-role", "sink")
	if err != nil {
		return r, err
	}
	defer sink.stop()
	addr, err := netip.ParseAddrPort(strings.TrimPrefix(sink.line(), "addr "))
	if err != nil {
		return r, fmt.Errorf("sink address: %w", err)
	}
	conns := make([]*net.UDPConn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return r, err
		}
		conns = append(conns, c)
	}
	pkt := make([]byte, 12+media.FrameSize)
	pkt[0] = 0x80
	copy(pkt[12:], prompts.MusicOnHold()[8000:8000+media.FrameSize])
	var sent atomic.Uint64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			for _, c := range conns {
				if _, err := c.WriteToUDPAddrPort(pkt, addr); err == nil {
					sent.Add(1)
				}
			}
		}
	}()
	time.Sleep(warmup)
	sent0 := sent.Load()
	sink.send("start")
	w := startWindow()
	time.Sleep(d)
	sink.send("stop")
	wall := w.end(&r)
	out := sent.Load() - sent0
	close(quit)
	<-done
	var s sinkReport
	if err := json.Unmarshal([]byte(sink.line()), &s); err != nil {
		return r, fmt.Errorf("sink report: %w", err)
	}
	time.Sleep(300 * time.Millisecond)
	sink.send("total")
	total, err := strconv.ParseUint(sink.line(), 10, 64)
	if err != nil {
		return r, fmt.Errorf("sink total: %w", err)
	}
	r.PacketsPerSec = float64(out) / wall.Seconds()
	r.PerLegPPS = r.PacketsPerSec / float64(n)
	r.PeerPackets = total
	r.LossPercent = 100 * (1 - float64(total)/float64(max(sent.Load(), 1)))
	r.MinLegPPS = float64(s.MinPerSource) / s.Seconds
	if s.Sources < n {
		r.MinLegPPS = 0
	}
	r.VoicedShare = float64(s.Voiced) / float64(max(s.Sampled, 1))
	return r, nil
}

func packetsOut(eps []*media.Endpoint) (n uint64) {
	for _, ep := range eps {
		n += ep.Stats().PacketsOut
	}
	return n
}

func benchRecorders(eng *media.Engine, n int, d, warmup time.Duration, childCPU string) (Result, error) {
	r := Result{Kind: "recorders", N: n}
	eps := make([]*media.Endpoint, 0, n)
	recs := make([]*media.Recording, 0, n)
	defer func() {
		for _, ep := range eps {
			ep.Close()
		}
	}()
	ports := make([]string, 0, n)
	for range n {
		ep, err := eng.NewEndpoint()
		if err != nil {
			return r, err
		}
		eps = append(eps, ep)
		// A voicemail: the phone's audio is recorded, nothing is sent back.
		ep.SetRemote(netip.AddrPort{}, media.PCMU, 101)
		recs = append(recs, ep.Record(time.Minute))
		ports = append(ports, strconv.Itoa(ep.LocalPort()))
	}
	sender, err := startChild(childCPU, "-role", "send", "-ports", strings.Join(ports, ","))
	if err != nil {
		return r, err
	}
	defer sender.stop()
	if l := sender.line(); l != "sending" {
		return r, fmt.Errorf("sender: %q", l)
	}
	time.Sleep(warmup)
	in0 := packetsIn(eps)
	w := startWindow()
	time.Sleep(d)
	wall := w.end(&r)
	in := packetsIn(eps) - in0
	// Loss: everything the sender sent against everything the endpoints
	// took in, once it has stopped and the last packets have landed.
	sender.send("end")
	sent, err := strconv.ParseUint(sender.line(), 10, 64)
	if err != nil {
		return r, fmt.Errorf("sender report: %w", err)
	}
	time.Sleep(300 * time.Millisecond)
	r.PacketsPerSec = float64(in) / wall.Seconds()
	r.PerLegPPS = r.PacketsPerSec / float64(n)
	r.PeerPackets = sent
	r.LossPercent = 100 * (1 - float64(packetsIn(eps))/float64(max(sent, 1)))
	minRec := time.Duration(math.MaxInt64)
	for _, rec := range recs {
		minRec = min(minRec, rec.Duration())
	}
	r.RecordedMinS = minRec.Seconds()
	minIn := uint64(math.MaxUint64)
	for _, ep := range eps {
		minIn = min(minIn, ep.Stats().PacketsIn)
	}
	r.MinLegPPS = float64(minIn) / (warmup + d).Seconds() // since the start, roughly
	return r, nil
}

func packetsIn(eps []*media.Endpoint) (n uint64) {
	for _, ep := range eps {
		n += ep.Stats().PacketsIn
	}
	return n
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// udpDrops is the machine's count of UDP datagrams dropped for a full
// receive buffer.
func udpDrops() uint64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, name := range names {
			if name == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.ParseUint(f[i], 10, 64)
				return v
			}
		}
	}
	return 0
}

func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

func printTable(w io.Writer, rs []Result) {
	fmt.Fprintln(w, "| legs | N | CPU (% of one core) | per leg (µs CPU/s) | packets/s (per leg) | peer packets | loss | slowest leg (pkt/s) | voiced | shortest recording | kernel UDP drops | RSS | load before → after |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		voiced, rec := "—", "—"
		if r.Kind != "recorders" {
			voiced = fmt.Sprintf("%.0f %%", 100*r.VoicedShare)
		} else {
			rec = fmt.Sprintf("%.1f s", r.RecordedMinS)
		}
		fmt.Fprintf(w, "| %s | %d | **%.1f** | %.0f | %.0f (%.1f) | %d | %.2f %% | %.1f | %s | %s | %d | %.0f MB | %s → %s |\n",
			r.Kind, r.N, r.CPUPercent, r.CPUPerLegUS, r.PacketsPerSec, r.PerLegPPS, r.PeerPackets, r.LossPercent,
			r.MinLegPPS, voiced, rec, r.KernelDrops, r.RSSMB, r.LoadBefore, r.LoadAfter)
	}
}

// child is a sink or sender process, driven by lines on its stdin and
// answering with lines on its stdout.
type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startChild(cpus string, args ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	argv := append([]string{self}, args...)
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &child{cmd: cmd, in: in, out: sc}, nil
}

func (c *child) send(cmd string) { fmt.Fprintln(c.in, cmd) }

func (c *child) line() string {
	if c.out.Scan() {
		return c.out.Text()
	}
	return ""
}

// stop closes the child's stdin, which ends it, and waits.
func (c *child) stop() {
	c.in.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill() // our own child, by its pid
		<-done
	}
}

// commands reads the parent's lines ("start", "stop") until stdin closes.
func commands() <-chan string {
	ch := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	return ch
}

// sinkReport is what the sink counted between "start" and "stop".
type sinkReport struct {
	Packets      uint64  `json:"packets"`
	Sources      int     `json:"sources"`
	MinPerSource uint64  `json:"min_per_source"`
	MaxPerSource uint64  `json:"max_per_source"`
	Sampled      uint64  `json:"sampled"`
	Voiced       uint64  `json:"voiced"`
	Seconds      float64 `json:"seconds"`
}

// runSink counts the RTP packets that arrive on one socket: in all ("total"),
// and between "start" and "stop" per source port, checking every 16th
// payload for sound.
func runSink() error {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	conn.SetReadBuffer(4 << 20)
	fmt.Printf("addr %s\n", conn.LocalAddr())
	var mu sync.Mutex
	counting := false
	var total uint64 // since the sink started
	var rep sinkReport
	perSource := map[uint16]uint64{}
	var started time.Time
	go func() {
		buf := make([]byte, 1500)
		var n uint64
		for {
			k, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if k < 12+media.FrameSize {
				continue
			}
			mu.Lock()
			total++
			if counting {
				rep.Packets++
				perSource[from.Port()]++
				if n++; n%16 == 0 {
					rep.Sampled++
					if voiced(buf[12:k], media.Codec(buf[1]&0x7f)) {
						rep.Voiced++
					}
				}
			}
			mu.Unlock()
		}
	}()
	for cmd := range commands() {
		mu.Lock()
		switch cmd {
		case "start":
			counting, rep, started = true, sinkReport{}, time.Now()
			clear(perSource)
		case "stop":
			counting = false
			rep.Seconds = time.Since(started).Seconds()
			rep.Sources = len(perSource)
			rep.MinPerSource = math.MaxUint64
			for _, c := range perSource {
				rep.MinPerSource, rep.MaxPerSource = min(rep.MinPerSource, c), max(rep.MaxPerSource, c)
			}
			if rep.Sources == 0 {
				rep.MinPerSource = 0
			}
			b, _ := json.Marshal(rep)
			fmt.Println(string(b))
		case "total":
			fmt.Println(total)
		}
		mu.Unlock()
	}
	return conn.Close()
}

// voiced reports whether a 20 ms payload is louder than media.VoiceLevel.
func voiced(payload []byte, codec media.Codec) bool {
	if !codec.Valid() {
		return false
	}
	return media.Voiced(transcodeToULaw(payload, codec)) > 0
}

func transcodeToULaw(p []byte, codec media.Codec) []byte {
	if codec == media.PCMU {
		return p
	}
	out := make([]byte, len(p))
	for i, b := range p {
		out[i] = media.PCMU.Encode(codec.Decode(b))
	}
	return out
}

// runSender sends every port 50 RTP packets a second of a μ-law tone, each
// leg with its own SSRC, sequence and timestamp, until "end" (or stdin
// closes); at "end" it prints how many it sent in all.
func runSender(portList string) error {
	var ports []netip.AddrPort
	for p := range strings.SplitSeq(portList, ",") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("port %q", p)
		}
		ports = append(ports, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(n)))
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	conn.SetWriteBuffer(4 << 20)
	tone := make([]byte, media.FrameSize)
	for i := range tone {
		tone[i] = media.PCMU.Encode(int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/media.SampleRate)))
	}
	pkt := make([]byte, 12+media.FrameSize)
	copy(pkt[12:], tone)
	var mu sync.Mutex
	var sent uint64
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for seq := uint32(0); ; seq++ {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			var k uint64
			for i, to := range ports {
				pkt[0], pkt[1] = 0x80, 0 // V=2, PT 0 (PCMU)
				binary.BigEndian.PutUint16(pkt[2:], uint16(seq))
				binary.BigEndian.PutUint32(pkt[4:], seq*media.FrameSize)
				binary.BigEndian.PutUint32(pkt[8:], uint32(0x5b000000+i))
				if _, err := conn.WriteToUDPAddrPort(pkt, to); err == nil {
					k++
				} else if errors.Is(err, net.ErrClosed) {
					return
				}
			}
			mu.Lock()
			sent += k
			mu.Unlock()
		}
	}()
	fmt.Println("sending")
	stopped := false
	for cmd := range commands() {
		if cmd == "end" && !stopped {
			stopped = true
			close(quit)
			<-done
			mu.Lock()
			fmt.Println(sent)
			mu.Unlock()
		}
	}
	if !stopped {
		close(quit)
		<-done
	}
	return conn.Close()
}
