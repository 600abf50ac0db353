// Command webrtcload loads a running switch with bridged WebRTC↔RTP calls
// (issue #7): N browsers (webrtctest pion peers, ICE and DTLS-SRTP to the
// switch's WebRTC gateway; their SIP over TCP) each call a desk phone
// (phonetest, plain RTP over UDP). Once every call is up, each sends one
// 20 ms G.711 frame every 20 ms each way for the given time, stamped with a
// number and its send time; the tool reports per direction the loss and
// the one-way latency (both ends are in this process and share a clock),
// and the switch's CPU (/proc/PID/stat) and RSS per call. It is what
// bench/webrtc.sh runs.
//
//	webrtcload -switch 127.0.0.1:5060 -pid 1234 -calls 100 -seconds 60 -first 30000 -password pw-web-
//
// Extensions first … first+2N-1 must exist with SIP password
// <password><ext>. Output: one JSON object on stdout; exit status 1 when a
// call failed or a direction lost more than -max-loss percent.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// clockTick is Linux's USER_HZ, the unit of /proc/PID/stat's CPU times.
const clockTick = 100

// Result is what the tool prints.
type Result struct {
	Calls         int     `json:"calls"`
	Up            int     `json:"up"`
	FailedCalls   int     `json:"failed_calls"`
	SetupSeconds  float64 `json:"setup_seconds"`
	Seconds       float64 `json:"seconds"`
	BrowserToDesk Way     `json:"browser_to_desk"`
	DeskToBrowser Way     `json:"desk_to_browser"`
	// The switch while every call streamed.
	SwitchCPUPct     float64 `json:"switch_cpu_pct_of_one_core"`
	SwitchCPUPerCall float64 `json:"switch_cpu_pct_per_call"`
	RSSIdleKB        int64   `json:"rss_idle_kb"`
	RSSLoadedKB      int64   `json:"rss_loaded_kb"`
	RSSPerCallKB     float64 `json:"rss_per_call_kb"`
	// Packets the kernel dropped at full receive buffers while the calls
	// streamed: on the switch's sockets, and on this tool's.
	SwitchUDPDrops int64 `json:"switch_udp_drops"`
	ToolUDPDrops   int64 `json:"load_tool_udp_drops"`
	// How late the tool's goroutines woke meanwhile (latency fields only).
	ToolLateness Way `json:"load_tool_lateness"`
	// Time the switch's threads spent runnable but waiting for a CPU, per
	// second of the window (0.1: a tenth of the time; threads add up).
	SwitchRunDelay float64 `json:"switch_run_delay_per_s"`
	// The machine meanwhile: how busy, and how much of that was this tool.
	MachineBusyPct float64  `json:"machine_busy_pct"`
	LoadToolPct    float64  `json:"load_tool_pct_of_one_core"`
	LoadAvgBefore  string   `json:"loadavg_before"`
	LoadAvgAfter   string   `json:"loadavg_after"`
	Pass           bool     `json:"pass"`
	Errors         []string `json:"errors,omitempty"`
}

func main() {
	sw := flag.String("switch", "127.0.0.1:5060", "the switch's SIP address (TCP and UDP)")
	pid := flag.Int("pid", 0, "the switch's process id, for its CPU and RSS")
	calls := flag.Int("calls", 100, "concurrent calls")
	seconds := flag.Int("seconds", 60, "how long every call streams once all are up")
	first := flag.Int("first", 30000, "first extension (each call uses two)")
	password := flag.String("password", "pw-web-", "SIP password prefix: the password of ext is this + ext")
	parallel := flag.Int("parallel", 8, "calls set up at once")
	maxLoss := flag.Float64("max-loss", 0.5, "loss (%) either way above which the run fails")
	flag.Parse()
	if *pid == 0 {
		fmt.Fprintln(os.Stderr, "webrtcload: -pid is required")
		os.Exit(2)
	}
	res := run(*sw, strconv.Itoa(*pid), *calls, *seconds, *first, *password, *parallel)
	res.Pass = res.FailedCalls == 0 && res.Up == *calls &&
		res.BrowserToDesk.LossPct <= *maxLoss && res.DeskToBrowser.LossPct <= *maxLoss
	json.NewEncoder(os.Stdout).Encode(res)
	if !res.Pass {
		os.Exit(1)
	}
}

func run(sw, pid string, calls, seconds, first int, password string, parallel int) Result {
	res := Result{Calls: calls, LoadAvgBefore: loadavg(), RSSIdleKB: rssKB(pid)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds)*time.Second+time.Duration(calls)*time.Second+2*time.Minute)
	defer cancel()

	start := time.Now()
	pairs, errs := setup(ctx, sw, calls, first, password, parallel)
	defer hangupAll(pairs, parallel)
	res.SetupSeconds = time.Since(start).Seconds()
	res.Up, res.FailedCalls = len(pairs), len(errs)
	for i, err := range errs {
		if i == 5 {
			res.Errors = append(res.Errors, fmt.Sprintf("… %d more", len(errs)-5))
			break
		}
		res.Errors = append(res.Errors, err.Error())
	}
	if len(pairs) == 0 {
		return res
	}

	packets := seconds * 50
	up, down := newDirection(), newDirection()
	cpu0, _ := cpuTicks(pid)
	own0, _ := cpuTicks("self")
	busy0, total0 := machineTicks()
	swDrops0, toolDrops0 := udpDrops(pid), udpDrops("self")
	wait0 := runDelay(pid)
	t0 := time.Now()
	until := t0.Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	for _, p := range pairs {
		wg.Go(func() { p.stream(until, up, down, packets) })
	}
	wg.Go(func() { res.ToolLateness = lateness(until) })
	time.Sleep(time.Until(t0.Add(until.Sub(t0) / 2)))
	res.RSSLoadedKB = rssKB(pid)
	wg.Wait()
	elapsed := time.Since(t0)
	cpu1, _ := cpuTicks(pid)
	own1, _ := cpuTicks("self")
	busy1, total1 := machineTicks()
	res.SwitchRunDelay = (runDelay(pid) - wait0).Seconds() / elapsed.Seconds()
	time.Sleep(500 * time.Millisecond) // the last packets in flight
	res.SwitchUDPDrops, res.ToolUDPDrops = udpDrops(pid)-swDrops0, udpDrops("self")-toolDrops0

	res.Seconds = elapsed.Seconds()
	res.BrowserToDesk, res.DeskToBrowser = up.result(), down.result()
	res.SwitchCPUPct = 100 * float64(cpu1-cpu0) / clockTick / elapsed.Seconds()
	res.SwitchCPUPerCall = res.SwitchCPUPct / float64(len(pairs))
	res.LoadToolPct = 100 * float64(own1-own0) / clockTick / elapsed.Seconds()
	if total1 > total0 {
		res.MachineBusyPct = 100 * float64(busy1-busy0) / float64(total1-total0)
	}
	res.RSSPerCallKB = float64(res.RSSLoadedKB-res.RSSIdleKB) / float64(len(pairs))
	res.LoadAvgAfter = loadavg()
	return res
}

// setup places the calls, parallel at a time, and returns those that are up.
func setup(ctx context.Context, sw string, calls, first int, password string, parallel int) ([]*pair, []error) {
	var (
		mu    sync.Mutex
		pairs []*pair
		errs  []error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, parallel)
	for i := range calls {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			p, err := dial(ctx, sw, first, i, password)
			if err != nil {
				p.hangup(ctx)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			pairs = append(pairs, p)
		})
	}
	wg.Wait()
	return pairs, errs
}

func hangupAll(pairs []*pair, parallel int) {
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, p := range pairs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			p.hangup(context.Background())
		})
	}
	wg.Wait()
}
