package call_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"switchboard/media"
	"switchboard/store"
	"switchboard/switch/call"
	"switchboard/switch/event"
	"switchboard/switch/phonetest"
	"switchboard/switch/route"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return c
}

// office starts a switch with users 200 and 201, each with a registered phone.
type office struct {
	sw    *phonetest.Switch
	alice *phonetest.Phone // 200
	bob   *phonetest.Phone // 201
}

func newOffice(t *testing.T, cfg call.Config) *office {
	t.Helper()
	return newOfficeWith(t, phonetest.SwitchOptions{Calls: cfg})
}

func newOfficeWith(t *testing.T, opts phonetest.SwitchOptions) *office {
	t.Helper()
	if opts.Calls.NotAvailable == nil {
		opts.Calls.NotAvailable = bytes.Repeat([]byte{0xff}, 800) // 100 ms: tests need not wait for the spoken message
	}
	sw := phonetest.StartSwitch(t, opts)
	sw.AddUser(t, "200", "secret-200")
	sw.AddUser(t, "201", "secret-201")
	o := &office{sw: sw,
		alice: sw.Phone(t, "200", "secret-200", phonetest.Options{}),
		bob:   sw.Phone(t, "201", "secret-201", phonetest.Options{LocalIP: "127.0.0.2"}),
	}
	for _, p := range []*phonetest.Phone{o.alice, o.bob} {
		if res, err := p.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
			t.Fatalf("register: %v %v", res, err)
		}
	}
	o.bob.SetBehavior(phonetest.Behavior{Delay: 100 * time.Millisecond}) // rings briefly, then answers
	return o
}

// lastCall waits for the call record the switch writes when a call ends.
func (o *office) lastCall(t *testing.T) store.CallRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		calls, err := o.sw.Store.Calls(time.Time{}, time.Time{}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) == 1 {
			return calls[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no call record written")
	return store.CallRecord{}
}

// noLeaks waits until the switch has no live call, no open media endpoint
// and no goroutine running the B2BUA's or the media engine's code.
func (o *office) noLeaks(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		active, ports, ours := len(o.sw.Server.Calls().Active()), o.sw.Media.Open(), callGoroutines()
		if active == 0 && ports == 0 && len(ours) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the call: %d calls, %d open endpoints, goroutines left:\n%s",
				active, ports, strings.Join(ours, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// callGoroutines returns the stacks of goroutines inside switch/call or media.
func callGoroutines() []string {
	buf := make([]byte, 4<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "switchboard/switch/call.") || strings.Contains(g, "switchboard/media.") {
			if !strings.Contains(g, "switchboard/switch/call_test.") {
				out = append(out, g)
			}
		}
	}
	return out
}

// talk sends a tone each way at once and checks each side hears the other's.
func talk(t *testing.T, a, b *phonetest.Call) {
	t.Helper()
	a.Received()
	b.Received()
	done := make(chan error, 2)
	go func() { done <- a.SendTone(ctx(t), 1000, 600*time.Millisecond) }()
	go func() { done <- b.SendTone(ctx(t), 1500, 600*time.Millisecond) }()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // the last packets' flight time
	if err := b.HearsTone(1000); err != nil {
		t.Fatalf("callee does not hear the caller's 1 kHz tone: %v", err)
	}
	if err := a.HearsTone(1500); err != nil {
		t.Fatalf("caller does not hear the callee's 1.5 kHz tone: %v", err)
	}
}

func answered(t *testing.T, p *phonetest.Phone) *phonetest.Call {
	t.Helper()
	select {
	case c := <-p.Incoming():
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the callee's phone never answered")
		return nil
	}
}

func TestCallTalkAndHangUpEitherSide(t *testing.T) {
	for _, who := range []string{"caller", "callee"} {
		t.Run(who+" hangs up", func(t *testing.T) {
			o := newOffice(t, call.Config{})
			events, stop := o.sw.Bus.Subscribe(64)
			defer stop()
			a, err := o.alice.Dial(ctx(t), "201")
			if err != nil {
				t.Fatal(err)
			}
			b := answered(t, o.bob)
			talk(t, a, b)
			hangs, other := a, b
			if who == "callee" {
				hangs, other = b, a
			}
			if err := hangs.Hangup(ctx(t)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-other.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the other side was not hung up")
			}
			rec := o.lastCall(t)
			if rec.Disposition != store.Answered || rec.Caller != "200" || rec.Callee != "201" || rec.AnsweredBy != "201" ||
				rec.Duration() < 500*time.Millisecond || rec.Cause != who+" hung up" {
				t.Fatalf("record = %+v", rec)
			}
			o.noLeaks(t)
			var kinds []event.Kind
			for _, e := range callKinds(events) {
				kinds = append(kinds, e.Kind)
			}
			want := []event.Kind{event.CallStarted, event.CallRinging, event.CallAnswered, event.CallEnded}
			if len(kinds) != len(want) {
				t.Fatalf("call events %v, want %v", kinds, want)
			}
		})
	}
}

func TestForkingFirstAnswerWinsOthersCancelled(t *testing.T) {
	o := newOffice(t, call.Config{})
	o.sw.AddDevice(t, "201", "201b", "secret-201b")
	desk := o.bob
	desk.SetBehavior(phonetest.Behavior{Silent: true})
	mobile := o.sw.Phone(t, "201b", "secret-201b", phonetest.Options{LocalIP: "127.0.0.3", Transport: "TCP"})
	mobile.SetBehavior(phonetest.Behavior{Delay: 300 * time.Millisecond})
	if res, err := mobile.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register 201b: %v %v", res, err)
	}
	events, stop := o.sw.Bus.Subscribe(64)
	defer stop()
	a, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	b := answered(t, mobile)
	talk(t, a, b)
	a.Hangup(ctx(t))
	if rec := o.lastCall(t); rec.AnsweredBy != "201b" || rec.Disposition != store.Answered {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t) // the desk phone's branch was cancelled and its port freed

	// Presence hears each phone ring, the desk stop and the mobile answer.
	var got []string
	for _, e := range callKinds(events) {
		got = append(got, e.Kind.String()+" "+e.Device)
	}
	for _, want := range []string{"call-ringing 201", "call-ringing 201b", "call-ring-stopped 201", "call-answered 201b"} {
		if !slices.Contains(got, want) {
			t.Errorf("no %q among the call events %q", want, got)
		}
	}
	if slices.Contains(got, "call-ring-stopped 201b") {
		t.Errorf("the answering phone was said to stop ringing: %q", got)
	}
}

// With a port range, as in production, a call's ports go back to the pool
// still bound and serve a later call once drained: here 4 pairs serve 3
// calls, the third on the drained pairs of the first, and every call
// carries audio both ways.
func TestPooledPortsServeCallAfterCall(t *testing.T) {
	low := freeUDPRange(t, 8)
	o := newOfficeWith(t, phonetest.SwitchOptions{RTPPorts: [2]int{low, low + 7}})
	for i := range 3 {
		if i == 2 { // both calls' pairs are taken or draining: wait for the first call's
			deadline := time.Now().Add(10 * time.Second)
			for o.sw.Media.InUse() > 2 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
		}
		a, err := o.alice.Dial(ctx(t), "201")
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		b := answered(t, o.bob)
		talk(t, a, b)
		if err := a.Hangup(ctx(t)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-b.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("call %d: the callee was not hung up", i+1)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for (len(o.sw.Server.Calls().Active()) > 0 || o.sw.Media.Open() > 0) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n, open := len(o.sw.Server.Calls().Active()), o.sw.Media.Open(); n > 0 || open > 0 {
		t.Fatalf("after the calls: %d calls, %d open endpoints", n, open)
	}
}

// freeUDPRange finds n consecutive free UDP ports on 127.0.0.1, the first
// even: above Linux's ephemeral ports (32768–60999) and clear of the ranges
// serve and the benchmarks use, as media's freeRange.
func freeUDPRange(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		low := 61000 + 2*rand.IntN(2000)
		var conns []net.PacketConn
		for p := low; p < low+n; p++ {
			c, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				break
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
		if len(conns) == n {
			return low
		}
	}
	t.Fatal("no free port range")
	return 0
}

func TestCallerCancelsWhileRinging(t *testing.T) {
	o := newOffice(t, call.Config{})
	o.bob.SetBehavior(phonetest.Behavior{Silent: true})
	dial, cancel := context.WithCancel(ctx(t))
	time.AfterFunc(500*time.Millisecond, cancel)
	if _, err := o.alice.Dial(dial, "201"); !errors.Is(err, context.Canceled) {
		t.Fatalf("dial = %v, want cancelled", err)
	}
	if rec := o.lastCall(t); rec.Disposition != store.Cancelled {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name     string
		behavior phonetest.Behavior
		dial     string
		register bool
		want     int
		disp     store.Disposition
	}{
		{"busy", phonetest.Behavior{Reject: 486}, "201", true, 486, store.Busy},
		{"decline", phonetest.Behavior{Reject: 603}, "201", true, 603, store.Failed},
		{"no answer", phonetest.Behavior{Silent: true}, "201", true, 480, store.Missed},
		{"nobody registered", phonetest.Behavior{}, "201", false, 480, store.Missed},
		{"no such extension", phonetest.Behavior{}, "299", true, 404, store.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOffice(t, call.Config{Routing: route.Settings{RingTime: time.Second}})
			o.bob.SetBehavior(tt.behavior)
			if !tt.register {
				o.bob.Unregister(ctx(t))
			}
			_, err := o.alice.Dial(ctx(t), tt.dial)
			var e *sipgo.ErrDialogResponse
			if !errors.As(err, &e) || e.Res.StatusCode != tt.want {
				t.Fatalf("dial = %v, want %d", err, tt.want)
			}
			if rec := o.lastCall(t); rec.Disposition != tt.disp {
				t.Fatalf("record = %+v, want %s", rec, tt.disp)
			}
			o.noLeaks(t)
		})
	}
}

func TestUnauthenticatedInviteNeverRings(t *testing.T) {
	o := newOffice(t, call.Config{})
	intruder := o.sw.Phone(t, "200", "wrong-password", phonetest.Options{LocalIP: "127.0.0.5"})
	_, err := intruder.Dial(ctx(t), "201")
	var e *sipgo.ErrDialogResponse
	if !errors.As(err, &e) || e.Res.StatusCode != 403 {
		t.Fatalf("dial with a wrong password = %v, want 403", err)
	}
	select {
	case <-o.bob.Incoming():
		t.Fatal("an unauthenticated INVITE rang a phone")
	case <-time.After(300 * time.Millisecond):
	}
	calls, _ := o.sw.Store.Calls(time.Time{}, time.Time{}, 0)
	if len(calls) != 0 {
		t.Fatalf("an unauthenticated INVITE left a call record: %+v", calls)
	}
}

func TestTranscodingBetweenMuLawAndALaw(t *testing.T) {
	o := newOffice(t, call.Config{})
	o.bob.SetBehavior(phonetest.Behavior{Codec: media.PCMA})
	a, err := o.alice.Dial(ctx(t), "201", media.PCMU) // the caller offers μ-law only
	if err != nil {
		t.Fatal(err)
	}
	b := answered(t, o.bob)
	if a.Codec() != media.PCMU || b.Codec() != media.PCMA {
		t.Fatalf("codecs %v / %v, want PCMU / PCMA", a.Codec(), b.Codec())
	}
	talk(t, a, b)
	a.Hangup(ctx(t))
	o.noLeaks(t)
}

func TestHoldPlaysMusicAndResumeBridges(t *testing.T) {
	o := newOffice(t, call.Config{})
	a, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	b := answered(t, o.bob)
	talk(t, a, b)
	if res, err := a.Hold(ctx(t)); err != nil || res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Fatalf("hold = %v %v", res, err)
	}
	b.Received()
	a.Received()
	b.SendTone(ctx(t), 1500, 600*time.Millisecond) // the held party keeps talking; the holder must not hear it
	heard := b.Received()
	var ulaw []byte
	for _, f := range heard {
		ulaw = append(ulaw, f...)
	}
	if v := media.Voiced(ulaw); v < 400*time.Millisecond {
		t.Fatalf("held party heard %v of music in 600 ms (%d packets), want ≥ 400 ms", v, len(heard))
	}
	if got := a.Received(); len(got) > 2 {
		t.Fatalf("the phone that holds got %d audio packets from the held party", len(got))
	}
	if res, err := a.Resume(ctx(t)); err != nil || res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=sendrecv") {
		t.Fatalf("resume = %v %v", res, err)
	}
	talk(t, a, b) // the tones again: music gone, bridge back
	a.Hangup(ctx(t))
	o.noLeaks(t)
}

func TestDTMFRelayed(t *testing.T) {
	o := newOffice(t, call.Config{})
	a, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	b := answered(t, o.bob)
	talk(t, a, b) // latch both sides first
	for _, d := range []uint8{1, 5, 11} {
		a.SendDTMF(d)
		time.Sleep(30 * time.Millisecond)
	}
	deadline := time.Now().Add(3 * time.Second)
	for len(b.Events()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := b.Events(); len(got) != 3 || got[0] != 1 || got[1] != 5 || got[2] != 11 {
		t.Fatalf("callee got DTMF %v, want [1 5 11]", got)
	}
	a.Hangup(ctx(t))
}

// A phone that vanished (no RTP, no BYE) must not leave a zombie call.
func TestSilentCallIsEndedAfterMediaTimeout(t *testing.T) {
	o := newOffice(t, call.Config{MediaTimeout: time.Second})
	a, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	b := answered(t, o.bob)
	for _, c := range []*phonetest.Call{a, b} {
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a call without audio was not hung up")
		}
	}
	if rec := o.lastCall(t); rec.Cause != "media timeout" || rec.Disposition != store.Answered {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}

func TestSessionTimerAndUpdate(t *testing.T) {
	o := newOffice(t, call.Config{SessionTimer: 600 * time.Second})
	caller := o.sw.Phone(t, "200", "secret-200", phonetest.Options{SessionExpires: 1800, LocalIP: "127.0.0.4"})
	a, err := caller.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	answered(t, o.bob)
	res := a.Response()
	if h := res.GetHeader("Session-Expires"); h == nil || h.Value() != "600;refresher=uac" {
		t.Fatalf("Session-Expires = %v, want 600;refresher=uac (capped by the switch)", h)
	}
	if h := res.GetHeader("Require"); h == nil || h.Value() != "timer" {
		t.Fatalf("Require = %v, want timer", h)
	}
	// A refresh by UPDATE is answered inside the dialog, without a new challenge.
	if res, err := a.Update(ctx(t)); err != nil || res.StatusCode != 200 {
		t.Fatalf("UPDATE = %v %v", res, err)
	}
	a.Hangup(ctx(t))
	o.noLeaks(t)
}

// A caller's name with quotes in it (escaped on the wire) is shown to the
// callee as the caller's phone sent it and kept as plain text in the record.
func TestCallerNameWithQuotes(t *testing.T) {
	o := newOffice(t, call.Config{})
	o.sw.AddUser(t, "202", "secret-202")
	dan := o.sw.Phone(t, "202", "secret-202", phonetest.Options{LocalIP: "127.0.0.3", DisplayName: `Dan \"The Man\" Brown`})
	if res, err := dan.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register 202: %v %v", res, err)
	}
	a, err := dan.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	if from := offered(t, o.bob, "201").From(); from.DisplayName != `Dan \"The Man\" Brown` || from.Address.User != "202" {
		t.Errorf("201 is shown the call from %q %q", from.DisplayName, from.Address.User)
	}
	b := answered(t, o.bob)
	talk(t, a, b)
	if err := a.Hangup(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if rec := o.lastCall(t); rec.CallerName != `Dan "The Man" Brown` {
		t.Errorf("call record's caller name %q", rec.CallerName)
	}
	o.noLeaks(t)
}

// An INVITE without credentials gets one 407, not a 407 repeated for 32 s
// at whatever address its Via names (a reflection anyone could aim); a
// phone whose 407 was lost sends its INVITE again and is answered again.
func TestChallengeIsNotRepeated(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	me := c.LocalAddr().String()
	dst, err := net.ResolveUDPAddr("udp", sw.Addr())
	if err != nil {
		t.Fatal(err)
	}
	invite := fmt.Sprintf("INVITE sip:201@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-refl;rport\r\nMax-Forwards: 70\r\n"+
		"From: <sip:200@127.0.0.1>;tag=1\r\nTo: <sip:201@127.0.0.1>\r\nCall-ID: refl\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:200@%s>\r\nContent-Length: 0\r\n\r\n", me, me)
	buf := make([]byte, 4096)
	for range 2 { // the INVITE, then its retransmission
		if _, err := c.WriteTo([]byte(invite), dst); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := c.ReadFrom(buf)
		if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 407 ") {
			t.Fatalf("no 407: %v %q", err, buf[:n])
		}
		// sipgo would repeat it after 0.5 s and 1.5 s, until an ACK.
		c.SetReadDeadline(time.Now().Add(1600 * time.Millisecond))
		if n, _, err := c.ReadFrom(buf); err == nil {
			t.Fatalf("the switch sent again:\n%s", buf[:n])
		}
	}
}

// One device may have a bounded number of calls going at once; the next is
// refused until one ends.
func TestCallsPerDeviceAreBounded(t *testing.T) {
	o := newOffice(t, call.Config{})
	o.bob.SetBehavior(phonetest.Behavior{})
	var calls []*phonetest.Call
	for range 16 {
		c, err := o.alice.Dial(ctx(t), "201")
		if err != nil {
			t.Fatalf("call %d: %v", len(calls)+1, err)
		}
		calls = append(calls, c)
	}
	dialFails(t, o.alice, "201", 403)
	if err := calls[0].Hangup(ctx(t)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := o.alice.Dial(ctx(t), "201")
		if err == nil {
			calls[0] = c
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no call after one ended: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range calls {
		c.Hangup(ctx(t))
	}
	o.noLeaks(t)
}
