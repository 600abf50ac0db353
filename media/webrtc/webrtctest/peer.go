// Package webrtctest is a browser's side of a WebRTC call in Go, for tests
// and the benchmark: a pion PeerConnection that offers what Chromium offers
// for audio (Opus first, G722, PCMU, PCMA, telephone-event at 48 and
// 8 kHz), sends G.711 frames or key presses and keeps what it receives.
package webrtctest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"switchboard/media"
)

// chromeAudio are the audio codecs Chromium offers, with its payload types.
var chromeAudio = []pion.RTPCodecParameters{
	{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111},
	{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypeG722, ClockRate: 8000}, PayloadType: 9},
	{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0},
	{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypePCMA, ClockRate: 8000}, PayloadType: 8},
	{RTPCodecCapability: pion.RTPCodecCapability{MimeType: mimeEvent, ClockRate: 48000}, PayloadType: 110},
	{RTPCodecCapability: pion.RTPCodecCapability{MimeType: mimeEvent, ClockRate: 8000}, PayloadType: 126},
}

const mimeEvent = "audio/telephone-event"

// Peer is one browser.
type Peer struct {
	pc    *pion.PeerConnection
	track *rawTrack
	wg    sync.WaitGroup

	mu       sync.Mutex
	received []rtp.Packet
	onAudio  atomic.Pointer[func(payload []byte, at time.Time)]

	// Owned by the goroutine that sends.
	seq    uint16
	ts     uint32
	marker bool
}

// NewPeer makes a browser peer with its ICE on loopback only.
func NewPeer() (*Peer, error) {
	m := &pion.MediaEngine{}
	for _, c := range chromeAudio {
		if err := m.RegisterCodec(c, pion.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	}
	var s pion.SettingEngine
	s.SetNetworkTypes([]pion.NetworkType{pion.NetworkTypeUDP4})
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() }) // tests stay on 127.0.0.0/8
	api := pion.NewAPI(pion.WithMediaEngine(m), pion.WithSettingEngine(s))
	pc, err := api.NewPeerConnection(pion.Configuration{})
	if err != nil {
		return nil, err
	}
	track := &rawTrack{}
	tr, err := pc.AddTransceiverFromTrack(track, pion.RTPTransceiverInit{Direction: pion.RTPTransceiverDirectionSendrecv})
	if err != nil {
		pc.Close()
		return nil, err
	}
	p := &Peer{pc: pc, track: track, seq: uint16(rand.Uint32()), ts: rand.Uint32(), marker: true}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Sender().Read(buf); err != nil {
				return
			}
		}
	}()
	pc.OnTrack(func(t *pion.TrackRemote, _ *pion.RTPReceiver) {
		p.wg.Add(1)
		go p.read(t)
	})
	return p, nil
}

func (p *Peer) read(t *pion.TrackRemote) {
	defer p.wg.Done()
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			continue
		}
		if f := p.onAudio.Load(); f != nil && (pkt.PayloadType == 0 || pkt.PayloadType == 8) {
			(*f)(pkt.Payload, time.Now())
			continue
		}
		p.mu.Lock()
		p.received = append(p.received, *pkt)
		p.mu.Unlock()
	}
}

// Offer makes the browser's offer, candidates included.
func (p *Peer) Offer() ([]byte, error) {
	sd, err := p.pc.CreateOffer(nil)
	if err != nil {
		return nil, err
	}
	return p.setLocal(sd)
}

// Reoffer makes a new offer in the call with the direction given:
// "sendonly" puts the call on hold, "sendrecv" resumes it. A browser's
// script sets its transceiver's direction for this; pion has no such
// setter and refuses an edited local offer, so the peer keeps sendrecv
// for itself and only the offer it returns (for the SIP message) says the
// direction, which is all the far end sees.
func (p *Peer) Reoffer(direction string) ([]byte, error) {
	switch direction {
	case "sendonly", "recvonly", "inactive", "sendrecv":
	default:
		return nil, fmt.Errorf("webrtctest: no direction %q", direction)
	}
	sd, err := p.pc.CreateOffer(nil)
	if err != nil {
		return nil, err
	}
	offer, err := p.setLocal(sd)
	if err != nil {
		return nil, err
	}
	return []byte(strings.ReplaceAll(string(offer), "a=sendrecv\r\n", "a="+direction+"\r\n")), nil
}

// Answer answers an offer, candidates included.
func (p *Peer) Answer(offer []byte) ([]byte, error) {
	if err := p.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeOffer, SDP: string(offer)}); err != nil {
		return nil, err
	}
	sd, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return nil, err
	}
	return p.setLocal(sd)
}

// Accept takes the answer to our offer.
func (p *Peer) Accept(answer []byte) error {
	return p.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: string(answer)})
}

func (p *Peer) setLocal(sd pion.SessionDescription) ([]byte, error) {
	gathered := pion.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(sd); err != nil {
		return nil, err
	}
	select {
	case <-gathered:
	case <-time.After(3 * time.Second):
		return nil, errors.New("webrtctest: ICE gathering timed out")
	}
	return []byte(p.pc.LocalDescription().SDP), nil
}

// WaitConnected waits until ICE and DTLS are up.
func (p *Peer) WaitConnected(ctx context.Context) error {
	for p.pc.ConnectionState() != pion.PeerConnectionStateConnected {
		select {
		case <-ctx.Done():
			return fmt.Errorf("browser peer not connected (%s): %w", p.pc.ConnectionState(), ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// Codec is the G.711 codec the call negotiated; false before negotiation.
func (p *Peer) Codec() (media.Codec, bool) { return p.track.codec() }

// SendFrame sends one 20 ms frame of the negotiated G.711 codec.
func (p *Peer) SendFrame(payload []byte) error {
	codec, ok := p.Codec()
	if !ok {
		return errors.New("webrtctest: no G.711 codec negotiated")
	}
	pt, ok := p.track.payloadType(codec.String())
	if !ok {
		return errors.New("webrtctest: no G.711 codec negotiated")
	}
	err := p.track.write(rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: p.seq, Timestamp: p.ts, Marker: p.marker}, payload)
	p.seq++
	p.ts += uint32(len(payload))
	p.marker = false
	return err
}

// SendFrames sends frames paced at 20 ms.
func (p *Peer) SendFrames(frames [][]byte) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, f := range frames {
		if err := p.SendFrame(f); err != nil {
			return err
		}
		<-tick.C
	}
	return nil
}

// SendDigit sends one RFC 4733 key press (digit 0-9, *, #) of 100 ms.
func (p *Peer) SendDigit(digit byte) error {
	ev := strings.IndexByte("0123456789*#", digit)
	if ev < 0 {
		return fmt.Errorf("webrtctest: no event for %q", digit)
	}
	pt, ok := p.track.payloadType("telephone-event")
	if !ok {
		return errors.New("webrtctest: telephone-event/8000 not negotiated")
	}
	ts := p.ts
	for i := 1; i <= 5; i++ {
		end := i >= 3
		dur := i * 160
		payload := []byte{byte(ev), 10, byte(dur >> 8), byte(dur)}
		if end {
			payload[1] |= 0x80
		}
		if err := p.track.write(rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: p.seq, Timestamp: ts, Marker: i == 1}, payload); err != nil {
			return err
		}
		p.seq++
		time.Sleep(20 * time.Millisecond)
	}
	p.ts += 5 * 160
	return nil
}

// OnAudio hands every G.711 packet's payload that arrives from now on to
// f, with its arrival time, instead of keeping it (measurement tools: a
// load test would otherwise hold every packet). f runs on the peer's read
// loop and must not keep payload.
func (p *Peer) OnAudio(f func(payload []byte, at time.Time)) { p.onAudio.Store(&f) }

// Received returns the packets received so far with payload type pt.
func (p *Peer) Received(pt uint8) []rtp.Packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []rtp.Packet
	for _, r := range p.received {
		if r.PayloadType == pt {
			out = append(out, r)
		}
	}
	return out
}

// ReceivedAudio returns the payloads of the G.711 frames received so far.
func (p *Peer) ReceivedAudio() [][]byte {
	codec, ok := p.Codec()
	if !ok {
		return nil
	}
	var out [][]byte
	for _, r := range p.Received(uint8(codec)) {
		out = append(out, r.Payload)
	}
	return out
}

// Close ends the peer connection.
func (p *Peer) Close() error {
	err := p.pc.Close()
	p.wg.Wait()
	return err
}
