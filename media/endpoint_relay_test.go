package media_test

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"switchboard/media"
	"switchboard/media/tonetest"
)

// call is two phones, each with its endpoint on the switch, bridged.
type call struct {
	a, b     *phone
	epA, epB *media.Endpoint
}

func newCall(t *testing.T, e *media.Engine, codecA, codecB media.Codec, dtmfA, dtmfB uint8) *call {
	c := &call{a: newPhone(t), b: newPhone(t), epA: newEndpoint(t, e), epB: newEndpoint(t, e)}
	c.epA.SetRemote(c.a.addr(), codecA, dtmfA)
	c.epB.SetRemote(c.b.addr(), codecB, dtmfB)
	t.Cleanup(media.Bridge(c.epA, c.epB))
	return c
}

// checkStream checks that pkts are one clean outbound stream of ep: its SSRC,
// the payload type, consecutive sequence numbers, ts moving by 160.
func checkStream(t *testing.T, ep *media.Endpoint, pkts []rtp.Packet, pt uint8) {
	t.Helper()
	for i, p := range pkts {
		if p.SSRC != ep.SSRC() || p.PayloadType != pt {
			t.Fatalf("packet %d: SSRC %#x PT %d, want %#x PT %d", i, p.SSRC, p.PayloadType, ep.SSRC(), pt)
		}
		if i > 0 && (p.SequenceNumber != pkts[i-1].SequenceNumber+1 || p.Timestamp != pkts[i-1].Timestamp+160) {
			t.Fatalf("packet %d: seq %d ts %d after seq %d ts %d", i, p.SequenceNumber, p.Timestamp,
				pkts[i-1].SequenceNumber, pkts[i-1].Timestamp)
		}
	}
}

// A 1 kHz tone from A arrives at B as a 1 kHz tone, and a 2 kHz tone from B
// at A, whatever codec each phone chose.
func TestBridgeRelaysTone(t *testing.T) {
	e := newEngine(t, media.Config{})
	for _, tt := range []struct{ a, b media.Codec }{
		{media.PCMU, media.PCMU}, {media.PCMU, media.PCMA}, {media.PCMA, media.PCMU}, {media.PCMA, media.PCMA},
	} {
		t.Run(tt.a.String()+"-"+tt.b.String(), func(t *testing.T) {
			c := newCall(t, e, tt.a, tt.b, 101, 96)

			c.a.sendAudio(epAddr(c.epA), tt.a, tonetest.Generate(1000, 1000, tt.a))
			atB := c.b.recvN(50)
			checkStream(t, c.epB, atB, uint8(tt.b))
			if err := tonetest.Check(payloads(atB), tt.b, 1000); err != nil {
				t.Errorf("A→B: %v", err)
			}

			c.b.sendAudio(epAddr(c.epB), tt.b, tonetest.Generate(2000, 400, tt.b))
			atA := c.a.recvN(20)
			checkStream(t, c.epA, atA, uint8(tt.a))
			if err := tonetest.Check(payloads(atA), tt.a, 2000); err != nil {
				t.Errorf("B→A: %v", err)
			}

			// A phone can hold the last packet before the relay has counted it: let the counters settle.
			ok := func(sa, sb media.Stats) bool {
				return sa.PacketsIn == 50 && sb.PacketsOut == 50 && sb.PacketsIn == 20 && sa.PacketsOut == 20 &&
					sa.BytesIn == 50*172 && sa.Lost == 0 && !sa.LastReceived.IsZero() && sa.Latched == c.a.addr()
			}
			sa, sb := c.epA.Stats(), c.epB.Stats()
			for deadline := time.Now().Add(time.Second); !ok(sa, sb) && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
				sa, sb = c.epA.Stats(), c.epB.Stats()
			}
			if !ok(sa, sb) {
				t.Errorf("stats A %+v, B %+v", sa, sb)
			}
		})
	}
}

// An engine bound to an IPv6 address relays between IPv6 phones and latches
// onto their IPv6 sources.
func TestBridgeIPv6(t *testing.T) {
	e := newEngine(t, media.Config{BindIP: net.IPv6loopback})
	c := &call{a: newPhoneOn(t, net.IPv6loopback), b: newPhoneOn(t, net.IPv6loopback), epA: newEndpoint(t, e), epB: newEndpoint(t, e)}
	c.epA.SetRemote(c.a.addr(), media.PCMU, 0)
	c.epB.SetRemote(c.b.addr(), media.PCMA, 0)
	t.Cleanup(media.Bridge(c.epA, c.epB))
	at := func(ep *media.Endpoint) netip.AddrPort {
		return netip.AddrPortFrom(netip.IPv6Loopback(), uint16(ep.LocalPort()))
	}

	c.a.sendAudio(at(c.epA), media.PCMU, tonetest.Generate(1000, 200, media.PCMU))
	if err := tonetest.Check(payloads(c.b.recvN(10)), media.PCMA, 1000); err != nil {
		t.Errorf("A→B: %v", err)
	}
	c.b.sendAudio(at(c.epB), media.PCMA, tonetest.Generate(2000, 200, media.PCMA))
	if err := tonetest.Check(payloads(c.a.recvN(10)), media.PCMU, 2000); err != nil {
		t.Errorf("B→A: %v", err)
	}
	if got := c.epA.Stats().Latched; got != c.a.addr() {
		t.Errorf("A latched onto %v, want %v", got, c.a.addr())
	}
}

// RFC 4733 events go out with the receiving leg's telephone-event payload
// type, or not at all if it has none; comfort noise and unknown payload
// types are dropped.
func TestBridgeRelaysEvents(t *testing.T) {
	e := newEngine(t, media.Config{})
	c := newCall(t, e, media.PCMU, media.PCMA, 101, 96)
	to := epAddr(c.epA)

	c.a.sendAudio(to, media.PCMU, tonetest.Generate(1000, 20, media.PCMU))
	first := c.b.recv()
	c.a.send(to, 13, false, []byte{40})       // CN: dropped
	c.a.send(to, 18, false, make([]byte, 20)) // G.729: dropped
	c.a.sendEvent(to, 101, 5)
	c.a.send(to, 96, false, media.Event{Code: 1}.AppendTo(nil)) // not A's DTMF PT: dropped
	c.a.sendAudio(to, media.PCMU, tonetest.Generate(1000, 20, media.PCMU))

	events := c.b.recvN(5)
	for i, p := range events {
		ev, err := media.ParseEvent(p.Payload)
		if p.PayloadType != 96 || err != nil || ev.Code != 5 || ev.End != (i >= 2) || p.Marker != (i == 0) {
			t.Errorf("event packet %d: PT %d marker %v event %+v %v", i, p.PayloadType, p.Marker, ev, err)
		}
		// Five packets sent by A after the first audio frame, two of them dropped
		// before the event: seq moves by 3 (the gap is A's, kept), ts by 160.
		if p.SequenceNumber != first.SequenceNumber+3+uint16(i) || p.Timestamp != first.Timestamp+160 {
			t.Errorf("event packet %d: seq %d ts %d, first audio seq %d ts %d", i, p.SequenceNumber, p.Timestamp,
				first.SequenceNumber, first.Timestamp)
		}
	}
	if last := c.b.recv(); last.PayloadType != uint8(media.PCMA) || last.Timestamp != first.Timestamp+640 {
		t.Errorf("after the event: PT %d ts %d, want PCMA ts %d", last.PayloadType, last.Timestamp, first.Timestamp+640)
	}

	// B has no telephone-event: A's key presses are dropped.
	c.epB.SetRemote(c.b.addr(), media.PCMA, 0)
	c.a.sendEvent(to, 101, 7)
	c.a.sendAudio(to, media.PCMU, tonetest.Generate(1000, 20, media.PCMU))
	if p := c.b.recv(); p.PayloadType != uint8(media.PCMA) {
		t.Errorf("B without DTMF got PT %d, want only audio", p.PayloadType)
	}
}

// Symmetric RTP: before A has sent anything, its audio goes to the SDP
// address; then to where A really sends from; a third source is ignored
// until a re-INVITE gives a new address.
func TestLatching(t *testing.T) {
	e := newEngine(t, media.Config{})
	c := newCall(t, e, media.PCMU, media.PCMU, 0, 0)
	sdpAddr, stranger := newPhone(t), newPhone(t)
	c.epA.SetRemote(sdpAddr.addr(), media.PCMU, 0) // A is behind NAT: its SDP says another address

	tone := tonetest.Generate(1000, 20, media.PCMU)
	c.b.sendAudio(epAddr(c.epB), media.PCMU, tone)
	if p := sdpAddr.recv(); !bytes.Equal(p.Payload, tone[0]) {
		t.Fatal("before latching: audio did not go to the SDP address")
	}

	c.a.sendAudio(epAddr(c.epA), media.PCMU, tone) // latches A
	c.b.recv()
	c.b.sendAudio(epAddr(c.epB), media.PCMU, tone)
	c.a.recv() // after latching: to A's real address

	noise := tonetest.Generate(2000, 20, media.PCMU)
	stranger.sendAudio(epAddr(c.epA), media.PCMU, noise)
	c.a.sendAudio(epAddr(c.epA), media.PCMU, tone) // fence: A's packet comes after the stranger's
	if p := c.b.recv(); !bytes.Equal(p.Payload, tone[0]) {
		t.Fatal("B got the stranger's packet")
	}
	if s := c.epA.Stats(); s.Ignored != 1 || s.Latched != c.a.addr() || s.PacketsIn != 2 {
		t.Errorf("stats after a stranger: %+v", s)
	}

	// A re-INVITE moves A elsewhere: the latch is undone and the next source wins.
	c.epA.SetRemote(stranger.addr(), media.PCMU, 0)
	stranger.sendAudio(epAddr(c.epA), media.PCMU, noise)
	if p := c.b.recv(); !bytes.Equal(p.Payload, noise[0]) {
		t.Fatal("after a new SDP address the new source was not relayed")
	}
	if s := c.epA.Stats(); s.Latched != stranger.addr() {
		t.Errorf("latched %v, want %v", s.Latched, stranger.addr())
	}
}

// Unbridge, time passes, bridge again: B's stream goes on with the next
// sequence number, a timestamp advanced by the real gap, the marker bit, and
// the same SSRC. So does a new SSRC from A.
func TestRebridgeKeepsStreamContinuous(t *testing.T) {
	clock := newFakeClock()
	e := newEngine(t, media.Config{})
	media.SetClock(e, clock.now)
	c := &call{a: newPhone(t), b: newPhone(t), epA: newEndpoint(t, e), epB: newEndpoint(t, e)}
	c.epA.SetRemote(c.a.addr(), media.PCMU, 0)
	c.epB.SetRemote(c.b.addr(), media.PCMU, 0)
	to, tone := epAddr(c.epA), tonetest.Generate(1000, 100, media.PCMU)

	unbridge := media.Bridge(c.epA, c.epB)
	c.a.sendAudio(to, media.PCMU, tone)
	before := c.b.recvN(5)
	checkStream(t, c.epB, before, 0)
	if !before[0].Marker || before[1].Marker {
		t.Errorf("marker on the first packet only: %v, %v", before[0].Marker, before[1].Marker)
	}

	unbridge()
	unbridge()                          // twice is harmless
	c.a.sendAudio(to, media.PCMU, tone) // not relayed
	waitFor(t, "A's packets while unbridged", func() bool { return c.epA.Stats().PacketsIn == 10 })
	clock.advance(1500 * time.Millisecond)

	defer media.Bridge(c.epA, c.epB)()
	c.a.sendAudio(to, media.PCMU, tone)
	after := c.b.recvN(5)
	checkStream(t, c.epB, after, 0)
	last := before[4]
	if got := after[0]; got.SequenceNumber != last.SequenceNumber+1 || got.Timestamp != last.Timestamp+12000 || !got.Marker {
		t.Errorf("first packet after rebridge: seq %d ts %d marker %v; want seq %d ts %d marker true",
			got.SequenceNumber, got.Timestamp, got.Marker, last.SequenceNumber+1, last.Timestamp+12000)
	}
	if after[1].Marker {
		t.Error("marker on the second packet after rebridge")
	}

	// A restarts its stream (new SSRC, seq and ts from elsewhere) 20 ms later.
	clock.advance(20 * time.Millisecond)
	c.a.ssrc, c.a.seq, c.a.ts = 0xABCDEF, 7, 123
	c.a.sendAudio(to, media.PCMU, tone[:2])
	restarted := c.b.recvN(2)
	last = after[4]
	if got := restarted[0]; got.SequenceNumber != last.SequenceNumber+1 || got.Timestamp != last.Timestamp+160 ||
		!got.Marker || got.SSRC != c.epB.SSRC() {
		t.Errorf("after A's new SSRC: seq %d ts %d marker %v; want seq %d ts %d marker true",
			got.SequenceNumber, got.Timestamp, got.Marker, last.SequenceNumber+1, last.Timestamp+160)
	}
}

// A lost packet shows in Stats.Lost and as a sequence gap the far phone sees.
func TestLossIsCountedAndKept(t *testing.T) {
	e := newEngine(t, media.Config{})
	c := newCall(t, e, media.PCMU, media.PCMU, 0, 0)
	tone := tonetest.Generate(1000, 60, media.PCMU)
	c.a.sendAudio(epAddr(c.epA), media.PCMU, tone[:1])
	c.a.seq++ // one packet lost on the way
	c.a.sendAudio(epAddr(c.epA), media.PCMU, tone[1:])
	got := c.b.recvN(3)
	if got[1].SequenceNumber != got[0].SequenceNumber+2 || got[2].SequenceNumber != got[1].SequenceNumber+1 {
		t.Errorf("seqs %d %d %d, want a gap of one after the first", got[0].SequenceNumber, got[1].SequenceNumber, got[2].SequenceNumber)
	}
	if s := c.epA.Stats(); s.Lost != 1 {
		t.Errorf("Lost = %d, want 1", s.Lost)
	}
}

// Hold with c=0.0.0.0 (or port 0) stops sending to that phone.
func TestUnspecifiedRemoteStopsSending(t *testing.T) {
	e := newEngine(t, media.Config{})
	c := newCall(t, e, media.PCMU, media.PCMU, 0, 0)
	tone := tonetest.Generate(1000, 20, media.PCMU)
	for i, addr := range []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:4000"), netip.AddrPortFrom(c.a.addr().Addr(), 0)} {
		c.epA.SetRemote(addr, media.PCMU, 0)
		c.b.sendAudio(epAddr(c.epB), media.PCMU, tone)
		waitFor(t, "B's packet", func() bool { return c.epB.Stats().PacketsIn == uint64(i+1) })
		if s := c.epA.Stats(); s.PacketsOut != 0 {
			t.Fatalf("remote %v: sent %d packets", addr, s.PacketsOut)
		}
	}
}

// RTCP is read and counted, nothing more.
func TestRTCPIsCounted(t *testing.T) {
	e := newEngine(t, media.Config{})
	ep := newEndpoint(t, e)
	p := newPhone(t)
	rtcpAddr := netip.AddrPortFrom(epAddr(ep).Addr(), uint16(ep.LocalPort()+1))
	for _, b := range [][]byte{{0x80, 201, 0, 1, 0, 0, 0, 1}, {}, {0xFF}} {
		if _, err := p.conn.WriteToUDPAddrPort(b, rtcpAddr); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "RTCP counted", func() bool { return ep.Stats().RTCPIn == 3 })
}

// Bridging an endpoint that is already bridged takes it out of the old
// bridge: the old partner's audio no longer reaches it.
func TestBridgeReplacesOldBridge(t *testing.T) {
	e := newEngine(t, media.Config{})
	c := newCall(t, e, media.PCMU, media.PCMU, 0, 0)
	third, epC := newPhone(t), newEndpoint(t, e)
	epC.SetRemote(third.addr(), media.PCMU, 0)
	defer media.Bridge(c.epA, epC)()

	tone := tonetest.Generate(1000, 20, media.PCMU)
	c.b.sendAudio(epAddr(c.epB), media.PCMU, tone) // B is out: dropped
	c.a.sendAudio(epAddr(c.epA), media.PCMU, tone)
	third.recv()
	epC.Close()
	c.a.sendAudio(epAddr(c.epA), media.PCMU, tone) // C closed: dropped
	waitFor(t, "A's packets", func() bool { return c.epA.Stats().PacketsIn == 2 })
	if s := c.epA.Stats(); s.PacketsOut != 0 {
		t.Errorf("A got %d packets from its old bridge", s.PacketsOut)
	}
}

// Bridge(a, a) echoes a phone's audio back to it (an echo-test extension).
func TestBridgeToItselfEchoes(t *testing.T) {
	e := newEngine(t, media.Config{})
	p, ep := newPhone(t), newEndpoint(t, e)
	ep.SetRemote(p.addr(), media.PCMA, 0)
	defer media.Bridge(ep, ep)()
	p.sendAudio(epAddr(ep), media.PCMA, tonetest.Generate(1000, 200, media.PCMA))
	echo := p.recvN(10)
	checkStream(t, ep, echo, uint8(media.PCMA))
	if err := tonetest.Check(payloads(echo), media.PCMA, 1000); err != nil {
		t.Error(err)
	}
}

// Until the far leg has a remote (its 200 OK not yet in), packets toward it
// are dropped; they flow as soon as SetRemote is called.
func TestNoRemoteYetDrops(t *testing.T) {
	e := newEngine(t, media.Config{})
	a, b := newPhone(t), newPhone(t)
	epA, epB := newEndpoint(t, e), newEndpoint(t, e)
	epA.SetRemote(a.addr(), media.PCMU, 0)
	defer media.Bridge(epA, epB)()
	tone := tonetest.Generate(1000, 40, media.PCMU)
	a.sendAudio(epAddr(epA), media.PCMU, tone[:1])
	waitFor(t, "A's first packet", func() bool { return epA.Stats().PacketsIn == 1 })
	epB.SetRemote(b.addr(), media.PCMU, 0)
	a.sendAudio(epAddr(epA), media.PCMU, tone[1:])
	if p := b.recv(); !p.Marker {
		t.Error("first packet after SetRemote has no marker bit")
	}
	// The counter is bumped after the write, so it may trail the packet.
	waitFor(t, "one packet counted out", func() bool { return epB.Stats().PacketsOut == 1 })
}

// The engine's totals count every endpoint's packets, open or closed.
func TestEngineTotals(t *testing.T) {
	e := newEngine(t, media.Config{})
	c := &call{a: newPhone(t), b: newPhone(t), epA: newEndpoint(t, e), epB: newEndpoint(t, e)}
	c.epA.SetRemote(c.a.addr(), media.PCMU, 0)
	c.epB.SetRemote(c.b.addr(), media.PCMU, 0)
	unbridge := media.Bridge(c.epA, c.epB)
	c.a.sendAudio(epAddr(c.epA), media.PCMU, tonetest.Generate(1000, 200, media.PCMU))
	c.b.recvN(10)
	c.b.send(epAddr(c.epA), 0, false, []byte{1}) // not from A's latched source
	want := media.Totals{PacketsIn: 10, PacketsOut: 10, Ignored: 1}
	for deadline := time.Now().Add(time.Second); e.Totals() != want && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if got := e.Totals(); got != want {
		t.Fatalf("totals of open endpoints %+v, want %+v", got, want)
	}
	unbridge()
	c.epA.Close()
	c.epB.Close()
	if got := e.Totals(); got != want {
		t.Fatalf("totals after close %+v, want %+v", got, want)
	}
}
