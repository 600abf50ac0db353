// Command rtpprobe measures the switch's RTP relay from the outside while
// it carries a load: it places a few calls of its own through the switch
// (two phonetest phones a call, caller and callee on loopback), sends 20 ms
// PCMU packets both ways in real time, each stamped with its send time and
// a sequence number in its payload, and reports per direction how many
// arrived and the one-way latency (send → switch → receive; both phones are
// in this process, so they share one clock). It is what bench/calls.sh runs
// alongside SIPp, which cannot measure the RTP it receives.
//
//	rtpprobe -switch 127.0.0.1:5060 -first 20000 -pairs 4 -password pw-probe- -duration 60s
//
// Extensions first, first+1, … (2 × pairs of them) must exist with SIP
// password <password><ext>. Output: one JSON object on stdout.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"switchboard/switch/phonetest"
)

type direction struct {
	mu       sync.Mutex
	sent     int
	received int
	dups     int
	seen     map[uint32]bool
	lat      []time.Duration
}

func (d *direction) onAudio(payload []byte, at time.Time) {
	if len(payload) < 12 {
		return
	}
	sent := time.Unix(0, int64(binary.BigEndian.Uint64(payload)))
	n := binary.BigEndian.Uint32(payload[8:])
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen[n] {
		d.dups++
		return
	}
	d.seen[n] = true
	d.received++
	d.lat = append(d.lat, at.Sub(sent))
}

// Result is what the probe prints.
type Result struct {
	Pairs        int     `json:"pairs"`
	Seconds      float64 `json:"seconds"`
	Sent         int     `json:"sent"`
	Received     int     `json:"received"`
	Duplicates   int     `json:"duplicates"`
	LossPct      float64 `json:"loss_pct"`
	LatencyP50ms float64 `json:"latency_p50_ms"`
	LatencyP99ms float64 `json:"latency_p99_ms"`
	LatencyP999  float64 `json:"latency_p999_ms"`
	LatencyMaxms float64 `json:"latency_max_ms"`
	FailedCalls  int     `json:"failed_calls"`
	Error        string  `json:"error,omitempty"`
}

func main() {
	sw := flag.String("switch", "127.0.0.1:5060", "the switch's SIP address")
	first := flag.Int("first", 20000, "first probe extension")
	pairs := flag.Int("pairs", 4, "probe calls (each uses two extensions)")
	password := flag.String("password", "pw-probe-", "SIP password prefix: the password of ext is this + ext")
	duration := flag.Duration("duration", 60*time.Second, "how long each probe call streams")
	flag.Parse()

	res := run(*sw, *first, *pairs, *password, *duration)
	json.NewEncoder(os.Stdout).Encode(res)
	if res.Error != "" {
		os.Exit(1)
	}
}

func run(sw string, first, pairs int, password string, duration time.Duration) Result {
	res := Result{Pairs: pairs}
	ctx, cancel := context.WithTimeout(context.Background(), duration+60*time.Second)
	defer cancel()
	all := &direction{seen: map[uint32]bool{}}
	var calls []*phonetest.Call
	var phones []*phonetest.Phone
	defer func() {
		for _, p := range phones {
			p.Close()
		}
	}()
	for i := range pairs {
		a, b := strconv.Itoa(first+2*i), strconv.Itoa(first+2*i+1)
		caller, err := phonetest.Start(phonetest.Options{User: a, Password: password + a, Server: sw})
		if err != nil {
			res.Error = err.Error()
			return res
		}
		phones = append(phones, caller)
		callee, err := phonetest.Start(phonetest.Options{User: b, Password: password + b, Server: sw})
		if err != nil {
			res.Error = err.Error()
			return res
		}
		phones = append(phones, callee)
		if r, err := callee.Register(ctx, 600); err != nil || r.StatusCode != 200 {
			res.Error = fmt.Sprintf("register %s: %v %v", b, r, err)
			return res
		}
		out, err := caller.Dial(ctx, b)
		if err != nil {
			res.FailedCalls++
			fmt.Fprintf(os.Stderr, "rtpprobe: call %s → %s: %v\n", a, b, err)
			continue
		}
		var in *phonetest.Call
		select {
		case in = <-callee.Incoming():
		case <-time.After(10 * time.Second):
			res.FailedCalls++
			continue
		}
		out.OnAudio(all.onAudio)
		in.OnAudio(all.onAudio)
		calls = append(calls, out, in)
	}
	if len(calls) == 0 {
		res.Error = "no probe call was set up"
		return res
	}
	// Every call leg sends on its own 20 ms clock; packet numbers are unique
	// across the probe so a stray duplicate is seen as one.
	var wg sync.WaitGroup
	var next sync.Mutex
	seq := uint32(0)
	start := time.Now()
	for _, c := range calls {
		wg.Go(func() {
			payload := make([]byte, 160)
			for i := range payload {
				payload[i] = 0xFF // μ-law silence
			}
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for time.Since(start) < duration {
				next.Lock()
				seq++
				n := seq
				next.Unlock()
				binary.BigEndian.PutUint32(payload[8:], n)
				binary.BigEndian.PutUint64(payload, uint64(time.Now().UnixNano()))
				if c.SendAudio(payload) == nil {
					all.mu.Lock()
					all.sent++
					all.mu.Unlock()
				}
				<-t.C
			}
		})
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	time.Sleep(500 * time.Millisecond) // packets in flight
	for i := 0; i < len(calls); i += 2 {
		hctx, hcancel := context.WithTimeout(ctx, 5*time.Second)
		calls[i].Hangup(hctx)
		hcancel()
	}
	all.mu.Lock()
	defer all.mu.Unlock()
	res.Sent, res.Received, res.Duplicates = all.sent, all.received, all.dups
	if res.Sent > 0 {
		res.LossPct = 100 * float64(res.Sent-res.Received) / float64(res.Sent)
	}
	slices.Sort(all.lat)
	q := func(p float64) float64 {
		if len(all.lat) == 0 {
			return 0
		}
		return float64(all.lat[min(len(all.lat)-1, int(p*float64(len(all.lat))))]) / 1e6
	}
	res.LatencyP50ms, res.LatencyP99ms, res.LatencyP999, res.LatencyMaxms = q(.5), q(.99), q(.999), q(1)
	return res
}
