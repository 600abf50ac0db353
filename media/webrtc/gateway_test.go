package webrtc_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"switchboard/media"
	"switchboard/media/tonetest"
	"switchboard/media/webrtc"
	"switchboard/media/webrtc/webrtctest"
)

// switchSide stands for the switch's RTP endpoint: a plain UDP socket.
type switchSide struct {
	t    *testing.T
	conn *net.UDPConn
	seq  uint16 // continues across sends, as an endpoint's stream does (SRTP drops replays)
}

func newSwitchSide(t *testing.T) *switchSide {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &switchSide{t: t, conn: conn}
}

func (s *switchSide) addr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (s *switchSide) sdp(codecs []media.Codec, dtmf uint8) []byte {
	a := s.addr()
	return media.BuildSDP(media.SessionDesc{Addr: a.Addr(), Port: int(a.Port()), Codecs: codecs, DTMFPT: dtmf}, 1, 1)
}

// send sends frames (or key-press payloads) as RTP with payload type pt.
func (s *switchSide) send(to netip.AddrPort, pt uint8, payloads [][]byte) {
	for _, p := range payloads {
		s.seq++
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: s.seq, Timestamp: uint32(s.seq) * 160, SSRC: 7}, Payload: p}
		b, _ := pkt.Marshal()
		if _, err := s.conn.WriteToUDPAddrPort(b, to); err != nil {
			s.t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receive reads RTP packets of payload type pt until n arrived or 3 s passed.
func (s *switchSide) receive(pt uint8, n int) []rtp.Packet {
	var out []rtp.Packet
	buf := make([]byte, 1500)
	s.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	for len(out) < n {
		m, err := s.conn.Read(buf)
		if err != nil {
			break
		}
		var p rtp.Packet
		if p.Unmarshal(buf[:m]) == nil && p.PayloadType == pt {
			p.Payload = append([]byte(nil), p.Payload...)
			out = append(out, p)
		}
	}
	return out
}

// audio is the payloads of the next n packets of payload type pt.
func (s *switchSide) audio(pt uint8, n int) [][]byte {
	var frames [][]byte
	for _, p := range s.receive(pt, n) {
		frames = append(frames, p.Payload)
	}
	return frames
}

func newGateway(t *testing.T) *webrtc.Gateway {
	g, err := webrtc.New(webrtc.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func newPeer(t *testing.T) *webrtctest.Peer {
	p, err := webrtctest.NewPeer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func connect(t *testing.T, l *webrtc.Leg, p *webrtctest.Peer) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
}

// The browser calls: its offer (Opus first, as Chromium's) becomes a plain
// G.711 offer for the switch, the switch's answer a WebRTC answer, and
// audio and key presses pass both ways unchanged.
func TestBrowserCalls(t *testing.T) {
	g, peer, sw := newGateway(t), newPeer(t), newSwitchSide(t)
	leg, err := g.NewLeg()
	if err != nil {
		t.Fatal(err)
	}
	offer, err := peer.Offer()
	if err != nil {
		t.Fatal(err)
	}
	plainOffer, err := leg.FromBrowser(offer)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := media.ParseSDP(plainOffer)
	if err != nil {
		t.Fatalf("plain offer %q: %v", plainOffer, err)
	}
	if desc.Proto != "RTP/AVP" || !desc.Addr.IsLoopback() || len(desc.Codecs) != 2 || desc.Codecs[0] != media.PCMU || desc.DTMFPT != 126 {
		t.Fatalf("plain offer: %+v\n%s", desc, plainOffer)
	}
	answer, err := leg.ToBrowser(sw.sdp([]media.Codec{media.PCMU}, desc.DTMFPT))
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.Accept(answer); err != nil {
		t.Fatalf("browser rejects %s: %v", answer, err)
	}
	connect(t, leg, peer)
	if c, ok := peer.Codec(); !ok || c != media.PCMU {
		t.Fatalf("browser codec %v %v, want PCMU", c, ok)
	}

	// Switch → browser: a 1 kHz tone arrives as a 1 kHz tone.
	sw.send(desc.AddrPort(), 0, tonetest.Generate(1000, 1000, media.PCMU))
	time.Sleep(200 * time.Millisecond)
	if err := tonetest.Check(peer.ReceivedAudio(), media.PCMU, 1000); err != nil {
		t.Errorf("browser hears: %v", err)
	}
	// Browser → switch: 440 Hz.
	go peer.SendFrames(tonetest.Generate(440, 1000, media.PCMU))
	frames := sw.audio(0, 40)
	if err := tonetest.Check(frames, media.PCMU, 440); err != nil {
		t.Errorf("switch hears: %v", err)
	}
	time.Sleep(time.Second) // the tone ends
	// Key presses both ways, as telephone-event with the browser's type.
	if err := peer.SendDigit('5'); err != nil {
		t.Fatal(err)
	}
	if ev := sw.receive(126, 1); len(ev) == 0 || ev[0].Payload[0] != 5 {
		t.Errorf("switch got key events %v, want event 5", ev)
	}
	sw.send(desc.AddrPort(), 126, [][]byte{{9, 10, 0, 160}, {9, 0x8a, 1, 64}})
	time.Sleep(100 * time.Millisecond)
	if ev := peer.Received(126); len(ev) == 0 || ev[0].Payload[0] != 9 {
		t.Errorf("browser got key events %v, want event 9", ev)
	}
	if s := leg.Stats(); s.FromBrowser == 0 || s.ToBrowser == 0 {
		t.Errorf("stats %+v", s)
	}
	leg.Close()
	if n := g.Legs(); n != 0 {
		t.Errorf("%d legs open after Close", n)
	}
}

// The switch calls the browser: its plain offer (PCMA first) becomes a
// WebRTC offer, and the browser's answer a plain answer with PCMA.
func TestSwitchCallsBrowser(t *testing.T) {
	g, peer, sw := newGateway(t), newPeer(t), newSwitchSide(t)
	leg, err := g.NewLeg()
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	offer, err := leg.ToBrowser(sw.sdp([]media.Codec{media.PCMA, media.PCMU}, 101))
	if err != nil {
		t.Fatal(err)
	}
	answer, err := peer.Answer(offer)
	if err != nil {
		t.Fatalf("browser rejects %s: %v", offer, err)
	}
	plain, err := leg.FromBrowser(answer)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := media.ParseSDP(plain)
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Codecs) == 0 || desc.Codecs[0] != media.PCMA || desc.DTMFPT != 101 {
		t.Fatalf("plain answer %+v\n%s", desc, plain)
	}
	connect(t, leg, peer)
	go peer.SendFrames(tonetest.Generate(700, 1000, media.PCMA))
	frames := sw.audio(8, 40)
	if err := tonetest.Check(frames, media.PCMA, 700); err != nil {
		t.Errorf("switch hears: %v", err)
	}
	sw.send(desc.AddrPort(), 8, tonetest.Generate(1200, 600, media.PCMA))
	time.Sleep(200 * time.Millisecond)
	if err := tonetest.Check(peer.ReceivedAudio(), media.PCMA, 1200); err != nil {
		t.Errorf("browser hears: %v", err)
	}
}

// A browser's hold (a=sendonly) is answered recvonly, as RFC 3264 §6.1
// wants (pion alone would answer sendrecv), an inactive offer inactive, and
// the resume sendrecv; audio flows both ways again after it.
func TestBrowserHoldAndResume(t *testing.T) {
	g, peer, sw := newGateway(t), newPeer(t), newSwitchSide(t)
	leg, err := g.NewLeg()
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	offer, err := peer.Offer()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leg.FromBrowser(offer); err != nil {
		t.Fatal(err)
	}
	answer, err := leg.ToBrowser(sw.sdp([]media.Codec{media.PCMU}, 126))
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.Accept(answer); err != nil {
		t.Fatal(err)
	}
	connect(t, leg, peer)
	to := sw.addr()
	for _, step := range []struct {
		offer       string
		plain, sent media.Direction
	}{
		{"sendonly", media.SendOnly, media.RecvOnly},
		{"inactive", media.Inactive, media.Inactive},
		{"sendrecv", media.SendRecv, media.SendRecv},
	} {
		again, err := peer.Reoffer(step.offer)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := leg.FromBrowser(again)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := media.ParseSDP(plain)
		if d.Direction != step.plain {
			t.Fatalf("%s offer: the switch is told %v, want %v", step.offer, d.Direction, step.plain)
		}
		to = d.AddrPort()
		ours := media.SessionDesc{Addr: sw.addr().Addr(), Port: int(sw.addr().Port()), Codecs: []media.Codec{media.PCMU},
			DTMFPT: 126, Direction: step.sent}
		answer, err := leg.ToBrowser(media.BuildSDP(ours, 1, 2))
		if err != nil {
			t.Fatal(err)
		}
		if d, err := media.ParseSDP(answer); err != nil || d.Direction != step.sent {
			t.Fatalf("%s offer answered %v (%v), want %v\n%s", step.offer, d.Direction, err, step.sent, answer)
		}
		if err := peer.Accept(answer); err != nil {
			t.Fatalf("the browser rejects %s: %v", answer, err)
		}
	}
	heard := len(peer.ReceivedAudio())
	sw.send(to, 0, tonetest.Generate(1000, 600, media.PCMU))
	time.Sleep(200 * time.Millisecond)
	if err := tonetest.Check(peer.ReceivedAudio()[heard:], media.PCMU, 1000); err != nil {
		t.Errorf("the browser after its resume: %v", err)
	}
	go peer.SendFrames(tonetest.Generate(440, 600, media.PCMU))
	frames := sw.audio(0, 25)
	if err := tonetest.Check(frames, media.PCMU, 440); err != nil {
		t.Errorf("the switch after the browser's resume: %v", err)
	}
}

// An offer without G.711 (Opus only) is refused before pion sees it: the
// switch must not answer PCMU to a browser that cannot send it.
func TestBrowserWithoutG711Refused(t *testing.T) {
	g, peer := newGateway(t), newPeer(t)
	leg, err := g.NewLeg()
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	offer, err := peer.Offer()
	if err != nil {
		t.Fatal(err)
	}
	opus := strings.NewReplacer(" 111 9 0 8 110 126", " 111", "a=rtpmap:0 PCMU/8000\r\n", "", "a=rtpmap:8 PCMA/8000\r\n", "").Replace(string(offer))
	if opus == string(offer) {
		t.Fatalf("the peer's offer is not Chromium's any more:\n%s", offer)
	}
	if plain, err := leg.FromBrowser([]byte(opus)); err == nil {
		t.Fatalf("an Opus-only offer became %s", plain)
	}
}
