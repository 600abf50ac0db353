package call_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"switchboard/media"
	"switchboard/media/tonetest"
	"switchboard/media/webrtc/webrtctest"
	"switchboard/switch/call"
	"switchboard/switch/phonetest"
)

// The webphone's calls through a real switch with a WebRTC gateway. A
// webrtctest peer stands for the browser's media, a phonetest phone for
// its SIP: the peer's offer and answer travel in the phone's INVITE and 200.

func newWebRTCOffice(t *testing.T) *office {
	t.Helper()
	return newOfficeWith(t, phonetest.SwitchOptions{WebRTC: true})
}

// webPhone is the SIP side of 200's browser, device 200w, over TCP: a
// WebRTC offer (ICE candidates, fingerprint) is too big for one UDP packet.
func (o *office) webPhone(t *testing.T) *phonetest.Phone {
	t.Helper()
	o.sw.AddDevice(t, "200", "200w", "secret-200w")
	return o.sw.Phone(t, "200w", "secret-200w", phonetest.Options{Transport: "TCP", LocalIP: "127.0.0.4"})
}

func newBrowser(t *testing.T) *webrtctest.Peer {
	t.Helper()
	p, err := webrtctest.NewPeer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func waitConnected(t *testing.T, p *webrtctest.Peer) {
	t.Helper()
	if err := p.WaitConnected(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

// dialFromBrowser places a call from phone with the browser's offer and
// hands the switch's answer to the browser.
func dialFromBrowser(t *testing.T, phone *phonetest.Phone, browser *webrtctest.Peer, ext string) *phonetest.Call {
	t.Helper()
	offer, err := browser.Offer()
	if err != nil {
		t.Fatal(err)
	}
	c, err := phone.DialSDP(ctx(t), ext, offer)
	if err != nil {
		t.Fatalf("browser's call: %v", err)
	}
	if err := browser.Accept(c.Response().Body()); err != nil {
		t.Fatalf("the browser rejects the switch's answer: %v\n%s", err, c.Response().Body())
	}
	waitConnected(t, browser)
	return c
}

// browserTalk sends a tone each way between a browser and a desk phone at
// once and checks that each hears the other's.
func browserTalk(t *testing.T, browser *webrtctest.Peer, desk *phonetest.Call) {
	t.Helper()
	codec, ok := browser.Codec()
	if !ok || codec != desk.Codec() {
		t.Fatalf("browser codec %v (%v), desk phone's %v: no transcoding expected", codec, ok, desk.Codec())
	}
	heard := len(browser.ReceivedAudio())
	desk.Received()
	done := make(chan error, 2)
	go func() { done <- browser.SendFrames(tonetest.Generate(1000, 600, codec)) }()
	go func() { done <- desk.SendTone(ctx(t), 1500, 600*time.Millisecond) }()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // the last packets' flight time
	if err := desk.HearsTone(1000); err != nil {
		t.Fatalf("the desk phone does not hear the browser's 1 kHz tone: %v", err)
	}
	if err := tonetest.Check(browser.ReceivedAudio()[heard:], codec, 1500); err != nil {
		t.Fatalf("the browser does not hear the desk phone's 1.5 kHz tone: %v", err)
	}
}

// noBrowserLeaks closes the browsers, then waits until the switch has no
// call, endpoint or gateway leg left, and no goroutine of the gateway or of
// pion but the gateway's shared socket's reader.
func (o *office) noBrowserLeaks(t *testing.T, browsers ...*webrtctest.Peer) {
	t.Helper()
	for _, b := range browsers {
		b.Close()
	}
	o.noLeaks(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		legs, ours := o.sw.WebRTC.Legs(), webrtcGoroutines()
		if legs == 0 && len(ours) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the call: %d gateway legs, goroutines left:\n%s", legs, strings.Join(ours, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func webrtcGoroutines() []string {
	buf := make([]byte, 4<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if (strings.Contains(g, "switchboard/media/webrtc.") || strings.Contains(g, "github.com/pion/")) &&
			!strings.Contains(g, "(*UDPMuxDefault).connWorker") {
			out = append(out, g)
		}
	}
	return out
}

// hasEvent reports whether an RFC 4733 event for key arrived at the browser.
func hasEvent(browser *webrtctest.Peer, key uint8) bool {
	for _, pt := range []uint8{126, 101} {
		for _, p := range browser.Received(pt) {
			if len(p.Payload) >= 4 && p.Payload[0] == key {
				return true
			}
		}
	}
	return false
}

// A browser calls a desk phone: audio both ways, keys both ways, hold by
// the browser (the desk phone hears music) and resume, then either side
// hangs up and the gateway leg is gone.
func TestBrowserCallsDeskPhone(t *testing.T) {
	for _, who := range []string{"browser", "desk phone"} {
		t.Run(who+" hangs up", func(t *testing.T) {
			o := newWebRTCOffice(t)
			browser := newBrowser(t)
			c := dialFromBrowser(t, o.webPhone(t), browser, "201")
			desk := answered(t, o.bob)
			if o.sw.WebRTC.Legs() != 1 {
				t.Fatalf("%d gateway legs during the call, want 1", o.sw.WebRTC.Legs())
			}
			browserTalk(t, browser, desk)

			if err := browser.SendDigit('5'); err != nil {
				t.Fatal(err)
			}
			if err := desk.SendDTMF(7); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			if ev := desk.Events(); !slices.Contains(ev, 5) {
				t.Errorf("the desk phone got key events %v, want 5 from the browser", ev)
			}
			if !hasEvent(browser, 7) {
				t.Errorf("the browser got no telephone-event for the desk phone's 7")
			}

			hold, err := browser.Reoffer("sendonly")
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.ReinviteSDP(ctx(t), hold)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("hold re-INVITE = %v %v", res, err)
			}
			if err := browser.Accept(res.Body()); err != nil {
				t.Fatalf("the browser rejects the answer to its hold: %v\n%s", err, res.Body())
			}
			if d, err := media.ParseSDP(res.Body()); err != nil || d.Direction != media.RecvOnly {
				t.Fatalf("answer to a hold: direction %v (%v), want recvonly", d.Direction, err)
			}
			desk.Received()
			var music []byte
			for _, f := range collect(t, desk, 25)[3:] {
				music = append(music, f...)
			}
			if v := media.Voiced(music); v < 200*time.Millisecond {
				t.Fatalf("the desk phone hears no music on hold: %v voiced", v)
			}

			resume, err := browser.Reoffer("sendrecv")
			if err != nil {
				t.Fatal(err)
			}
			res, err = c.ReinviteSDP(ctx(t), resume)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("resume re-INVITE = %v %v", res, err)
			}
			if err := browser.Accept(res.Body()); err != nil {
				t.Fatalf("the browser rejects the answer to its resume: %v", err)
			}
			time.Sleep(100 * time.Millisecond) // the music's last frames
			browserTalk(t, browser, desk)

			hangs, other := c, desk
			if who == "desk phone" {
				hangs, other = desk, c
			}
			if err := hangs.Hangup(ctx(t)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-other.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the other side was not hung up")
			}
			if rec := o.lastCall(t); rec.AnsweredBy != "201" || rec.Cause != map[string]string{"browser": "caller", "desk phone": "callee"}[who]+" hung up" {
				t.Fatalf("record = %+v", rec)
			}
			o.noBrowserLeaks(t, browser)
		})
	}
}

// A desk phone calls a webphone registered over secure WebSocket: the
// switch offers WebRTC through the gateway, the browser answers, audio
// flows both ways; when the socket closes the registration is gone.
func TestDeskPhoneCallsBrowser(t *testing.T) {
	o := newWebRTCOffice(t)
	o.sw.AddUser(t, "202", "secret-202")
	addr, trust := o.sw.WebSocket(t)
	web := phonetest.New(t, phonetest.Options{User: "202", Password: "secret-202", Server: addr, Transport: "WSS", TLS: trust})
	if res, err := web.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register over WSS: %v %v", res, err)
	}
	if b := o.sw.Registrar().Lookup("202"); len(b) != 1 || !strings.EqualFold(b[0].Transport, "WSS") {
		t.Fatalf("bindings of 202 = %+v, want one over WSS", b)
	}
	browser := newBrowser(t)
	offers := make(chan []byte, 1)
	web.SetBehavior(phonetest.Behavior{Answer: func(offer []byte) ([]byte, error) {
		offers <- offer
		return browser.Answer(offer)
	}})

	desk, err := o.alice.Dial(ctx(t), "202")
	if err != nil {
		t.Fatal(err)
	}
	in := answered(t, web)
	if d, err := media.ParseSDP(<-offers); err != nil || !strings.Contains(d.Proto, "SAVP") {
		t.Fatalf("the browser was offered %q (%v), want WebRTC", d.Proto, err)
	}
	waitConnected(t, browser)
	browserTalk(t, browser, desk)
	if err := desk.Hangup(ctx(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-in.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the browser was not hung up")
	}
	o.noBrowserLeaks(t, browser)

	web.Close() // the tab closes: its WebSocket with it
	deadline := time.Now().Add(5 * time.Second)
	for len(o.sw.Registrar().Lookup("202")) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("bindings of 202 after its WebSocket closed: %+v", o.sw.Registrar().Lookup("202"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A WebRTC offer to a switch without a gateway, and WebRTC offers the
// gateway cannot use, are refused with 488; the switch carries on.
func TestBadBrowserOffers(t *testing.T) {
	browser := newBrowser(t)
	offer, err := browser.Offer()
	if err != nil {
		t.Fatal(err)
	}
	garbage := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n" // no ICE credentials, no fingerprint
	noCodec := strings.NewReplacer(" 111 9 0 8 110 126", " 111", "a=rtpmap:0 PCMU/8000\r\n", "", "a=rtpmap:8 PCMA/8000\r\n", "").Replace(string(offer))
	for _, tc := range []struct {
		name    string
		gateway bool
		offer   string
	}{
		{"no gateway", false, string(offer)},
		{"no ICE or DTLS", true, garbage},
		{"truncated", true, string(offer[:len(offer)/2])},
		{"Opus only", true, noCodec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOfficeWith(t, phonetest.SwitchOptions{WebRTC: tc.gateway, Calls: call.Config{}})
			_, err := o.webPhone(t).DialSDP(ctx(t), "201", []byte(tc.offer))
			var rejected *sipgo.ErrDialogResponse
			if !errors.As(err, &rejected) || rejected.Res.StatusCode != 488 {
				t.Fatalf("call with %s: %v, want 488", tc.name, err)
			}
			if tc.gateway && o.sw.WebRTC.Legs() != 0 {
				t.Fatalf("%d gateway legs after a refused offer", o.sw.WebRTC.Legs())
			}
			a, err := o.alice.Dial(ctx(t), "201")
			if err != nil {
				t.Fatalf("a desk call after the refused offer: %v", err)
			}
			talk(t, a, answered(t, o.bob))
			a.Hangup(context.Background())
			o.noLeaks(t)
		})
	}
}
