package call_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchboard/store"
	"switchboard/switch/call"
	"switchboard/switch/phonetest"
)

// sippCalls is how many calls SIPp makes, 10 a second, each holding 1 s.
const sippCalls = 20

// TestInteropSIPpCallsWithRTP: SIPp calls SIPp through the switch. The
// callee (uas_answer.xml, registered by register_auth.xml) echoes the RTP it
// gets; the callers (uac_call.xml, five devices, each INVITE challenged with
// 407) play a 1 kHz PCMU stream. Every call must succeed and leave an
// answered record, the callee's SIPp must have echoed the callers' RTP, and
// the echo must have come back through the switch to the callers' media port.
//
// Run it alone with: go test ./switch/call -run Interop -v
// (needs apt-get install sip-tester; SIPp sends its pcap through a raw
// socket, so run as root or give sipp CAP_NET_RAW).
func TestInteropSIPpCallsWithRTP(t *testing.T) {
	sipp := phonetest.RequireTool(t, "sipp", "apt-get install sip-tester")
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	sw.AddUser(t, "201", "secret-201")
	callers := []string{"200", "202", "203", "204", "205"}
	for _, ext := range callers {
		sw.AddUser(t, ext, "secret-"+ext)
	}
	dir := sippDir(t, map[string]string{
		"callee.csv":  sippUsers("201"),
		"callers.csv": sippUsers(callers...),
	})
	calleePort, calleeMedia, callerPort, callerMedia := freeUDPPort(t, 0), freeUDPPort(t, 2), freeUDPPort(t, 0), freeUDPPort(t, 2)

	// The callee: register its address, then answer there.
	runSIPp(t, sipp, dir, sw.Addr(), "-sf", "register_auth.xml", "-inf", "callee.csv", "-key", "expires", "600",
		"-p", strconv.Itoa(calleePort), "-m", "1")
	if b := sw.Registrar().Lookup("201"); len(b) != 1 || !strings.Contains(b[0].Contact, ":"+strconv.Itoa(calleePort)) {
		t.Fatalf("callee bindings %+v, want one to port %d", b, calleePort)
	}
	uas := startSIPp(t, sipp, dir, "-sf", "uas_answer.xml", "-p", strconv.Itoa(calleePort),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(calleeMedia), "-rtp_echo")
	waitUDPBound(t, calleePort)

	// The callers, while we watch what reaches their media port: SIPp never
	// reads it without -rtp_echo, so the echo queues up there and the
	// kernel's counters in /proc/net/udp show it arrived.
	watched := watchUDP(t, callerMedia)
	runSIPp(t, sipp, dir, sw.Addr(), "-sf", "uac_call.xml", "-inf", "callers.csv", "-s", "201",
		"-m", strconv.Itoa(sippCalls), "-r", "10", "-d", "1000", "-p", strconv.Itoa(callerPort),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(callerMedia))
	caller := watched()

	o := &office{sw: sw}
	recs := waitRecords(t, sw, sippCalls) // every call has ended: the callee's SIPp has its counts
	screen := uas.stop(t)
	failed := regexp.MustCompile(`Failed call +\| +\d+ +\| +(\d+)`).FindStringSubmatch(screen)
	echo := regexp.MustCompile(`(\d+) Total echo RTP pckts 1st stream`).FindStringSubmatch(screen)
	if failed == nil || echo == nil {
		t.Fatalf("no call or RTP echo counts on the callee's last SIPp screen:\n%s", sippLogs(dir, "uas_answer.xml", screen))
	}
	if failed[1] != "0" {
		t.Errorf("the callee's SIPp counts %s failed calls\n%s", failed[1], sippLogs(dir, "uas_answer.xml", screen))
	}
	echoed, _ := strconv.Atoi(echo[1])
	// Each call streams about 50 packets before its BYE; allow for a busy machine.
	if echoed < sippCalls*25 {
		t.Errorf("the callee echoed %d RTP packets, want ≥ %d (%d calls × 1 s of 20 ms packets, at least half)",
			echoed, sippCalls*25, sippCalls)
	}
	if caller.queued == 0 && caller.drops == 0 {
		t.Errorf("nothing reached the callers' media port %d: the echo was not relayed back", callerMedia)
	}
	t.Logf("callee echoed %d RTP packets; callers' media port got the echo (%d bytes queued, %d packets dropped unread)",
		echoed, caller.queued, caller.drops)

	for _, r := range recs {
		if r.Disposition != store.Answered || r.Callee != "201" || r.AnsweredBy != "201" ||
			r.Cause != "caller hung up" || !strings.HasPrefix(r.Caller, "20") {
			t.Errorf("call record %+v, want answered by 201 and hung up by the caller", r)
		}
	}
	o.noLeaks(t)
}

// sippUsers is a SIPp injection file for register_auth.xml and
// uac_call.xml: user; credentials; domain, a line per device.
func sippUsers(exts ...string) string {
	var b strings.Builder
	b.WriteString("SEQUENTIAL\n")
	for _, ext := range exts {
		fmt.Fprintf(&b, "%s;[authentication username=%s password=secret-%s];127.0.0.1\n", ext, ext, ext)
	}
	return b.String()
}

// sippDir is a temporary directory holding testdata/sipp (uac_call.xml
// plays its pcap by a relative path, and SIPp writes its logs next to it)
// and the given files.
func sippDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "testdata", "sipp")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sippArgs are what every SIPp run here gets: loopback only, no terminal,
// bounded, errors logged.
func sippArgs(name string, args []string) []string {
	return append(args, "-i", "127.0.0.1", "-bind_local", "-nostdin", "-recv_timeout", "10000",
		"-timeout", "30s", "-timeout_error", "-trace_err", "-error_file", name+"-errors.log")
}

// runSIPp runs SIPp in dir against server and fails the test, with SIPp's
// error log and output, unless it exits 0 (every call succeeded).
func runSIPp(t *testing.T, sipp, dir, server string, args ...string) {
	t.Helper()
	name := args[1] // the scenario
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, append([]string{server}, sippArgs(name, args)...)...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil { // on timeout, CommandContext kills SIPp by its PID
		t.Fatalf("sipp %s: %v\n%s", name, err, sippLogs(dir, name, out.String()))
	}
}

// sippServer is a SIPp process running in the background (a UAS).
type sippServer struct {
	cmd    *exec.Cmd
	dir    string
	name   string
	out    *bytes.Buffer
	exited chan struct{}
	err    error
}

// startSIPp starts SIPp in dir; it is killed by its PID at cleanup if it
// is still running.
func startSIPp(t *testing.T, sipp, dir string, args ...string) *sippServer {
	t.Helper()
	s := &sippServer{dir: dir, name: args[1], out: new(bytes.Buffer), exited: make(chan struct{})}
	s.cmd = exec.Command(sipp, sippArgs(s.name, args)...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start sipp %s: %v", s.name, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
	return s
}

// stop ends the SIPp server (SIGTERM, by its PID) and returns its last
// screen, printed as it quits: its counters of calls and of RTP echoed.
func (s *sippServer) stop(t *testing.T) string {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		t.Fatalf("sipp %s did not quit on SIGTERM\n%s", s.name, sippLogs(s.dir, s.name, s.out.String()))
	}
	return s.out.String()
}

// sippLogs is SIPp's error log and the end of its output, for a failure message.
func sippLogs(dir, name, out string) string {
	errs, _ := os.ReadFile(filepath.Join(dir, name+"-errors.log"))
	if len(out) > 4000 {
		out = out[len(out)-4000:]
	}
	return fmt.Sprintf("--- error log:\n%s\n--- output (end):\n%s", errs, out)
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago,
// with port+also free too (SIPp's -mp takes the port and the one 2 above).
func freeUDPPort(t *testing.T, also int) int {
	t.Helper()
	for range 100 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		if also == 0 {
			c.Close()
			return port
		}
		c2, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+also)))
		c.Close()
		if err == nil {
			c2.Close()
			return port
		}
	}
	t.Fatal("no free UDP ports")
	return 0
}

// udpCounters are the kernel's counters of a UDP socket on 127.0.0.1.
type udpCounters struct {
	found         bool
	queued, drops uint64 // bytes waiting to be read; datagrams dropped on a full queue
}

func (c udpCounters) max(o udpCounters) udpCounters {
	return udpCounters{found: c.found || o.found, queued: max(c.queued, o.queued), drops: max(c.drops, o.drops)}
}

// readUDPCounters finds the socket bound to 127.0.0.1:port in /proc/net/udp.
func readUDPCounters(port int) udpCounters {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return udpCounters{}
	}
	defer f.Close()
	return parseProcNetUDP(f, fmt.Sprintf("0100007F:%04X", port))
}

// parseProcNetUDP reads lines like
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
//	12: 0100007F:8F5C 00000000:0000 07 00000000:00034000 00:00000000 00000000     0        0 123 2 0000000000000000 769
func parseProcNetUDP(r io.Reader, local string) udpCounters {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 13 || f[1] != local {
			continue
		}
		_, rx, _ := strings.Cut(f[4], ":")
		queued, _ := strconv.ParseUint(rx, 16, 64)
		drops, _ := strconv.ParseUint(f[len(f)-1], 10, 64)
		return udpCounters{found: true, queued: queued, drops: drops}
	}
	return udpCounters{}
}

// waitUDPBound waits until a process has bound 127.0.0.1:port.
func waitUDPBound(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !readUDPCounters(port).found {
		if time.Now().After(deadline) {
			t.Fatalf("nothing bound UDP port %d", port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// watchUDP samples the counters of the socket on 127.0.0.1:port every
// 50 ms until the returned function is called (or the test ends), which
// returns the highest values seen.
func watchUDP(t *testing.T, port int) func() udpCounters {
	var seen udpCounters
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			seen = seen.max(readUDPCounters(port))
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	end := func() udpCounters {
		once.Do(func() { close(stop); <-done })
		return seen
	}
	t.Cleanup(func() { end() })
	return end
}

// waitRecords waits until the switch has written n call records.
func waitRecords(t *testing.T, sw *phonetest.Switch, n int) []store.CallRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs, err := sw.Store.Calls(time.Time{}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) >= n {
			if len(recs) > n {
				t.Errorf("%d call records, want %d", len(recs), n)
			}
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d call records after the calls, want %d", len(recs), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestInteropSIPpGateway: an answering rule forwards a call to an outside
// number; SIPp stands for the SIP gateway (uas_answer.xml, echoing RTP).
// The caller's 1 kHz tone must come back to it through the gateway leg.
func TestInteropSIPpGateway(t *testing.T) {
	sipp := phonetest.RequireTool(t, "sipp", "apt-get install sip-tester")
	gwPort, gwMedia := freeUDPPort(t, 0), freeUDPPort(t, 2)
	o := newOffice(t, call.Config{Gateway: "127.0.0.1:" + strconv.Itoa(gwPort)})
	o.setRules(t, "201", store.AnsweringRule{Name: "to my mobile",
		First: store.RuleStep{Action: store.ActForwardNumber, Target: "0761234567"}})
	dir := sippDir(t, nil)
	gw := startSIPp(t, sipp, dir, "-sf", "uas_answer.xml", "-p", strconv.Itoa(gwPort),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(gwMedia), "-rtp_echo", "-m", "1")
	waitUDPBound(t, gwPort)

	c, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendTone(ctx(t), 1000, 600*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := c.HearsTone(1000); err != nil {
		t.Errorf("the caller does not hear its tone echoed by the gateway: %v", err)
	}
	c.Hangup(ctx(t))
	if rec := o.lastCall(t); rec.Disposition != store.Answered || rec.AnsweredBy != "0761234567" {
		t.Errorf("record = %+v", rec)
	}
	select { // -m 1: SIPp quits once the call's closing pause is over
	case <-gw.exited:
	case <-time.After(10 * time.Second):
	}
	screen := gw.stop(t)
	if m := regexp.MustCompile(`Successful call +\| +\d+ +\| +(\d+)`).FindStringSubmatch(screen); m == nil || m[1] != "1" {
		t.Errorf("the gateway's SIPp did not complete the call:\n%s", sippLogs(dir, "uas_answer.xml", screen))
	}
	o.noLeaks(t)
}
