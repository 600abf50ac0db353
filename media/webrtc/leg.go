package webrtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pion "github.com/pion/webrtc/v4"

	"switchboard/media"
)

// gatherTimeout bounds waiting for our ICE candidates: host candidates on
// one UDP socket are known at once, so this only guards against a bug.
const gatherTimeout = 3 * time.Second

// Leg is one browser's media: the PeerConnection to the browser, and the
// loopback socket that stands for the browser towards the switch's RTP
// endpoint. Its SDP methods are for one goroutine at a time (the call's).
type Leg struct {
	g    *Gateway
	pc   *pion.PeerConnection
	tr   *pion.RTPTransceiver
	sock *net.UDPConn
	out  *outTrack
	wg   sync.WaitGroup

	toSwitch  atomic.Pointer[netip.AddrPort] // the switch endpoint's RTP address
	sessionID uint64
	version   uint64
	closed    atomic.Bool

	fromBrowser, toBrowser atomic.Uint64 // packets relayed
}

// NewLeg prepares a browser leg. Close it when the call leg ends.
func (g *Gateway) NewLeg() (*Leg, error) {
	pc, err := g.api.NewPeerConnection(pion.Configuration{})
	if err != nil {
		return nil, err
	}
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("webrtc leg socket: %w", err)
	}
	out := &outTrack{}
	tr, err := pc.AddTransceiverFromTrack(out, pion.RTPTransceiverInit{Direction: pion.RTPTransceiverDirectionSendrecv})
	if err != nil {
		pc.Close()
		sock.Close()
		return nil, err
	}
	l := &Leg{g: g, pc: pc, tr: tr, sock: sock, out: out, sessionID: rand.Uint64() >> 2}
	pc.OnTrack(func(t *pion.TrackRemote, _ *pion.RTPReceiver) {
		l.wg.Add(1)
		go l.relayFromBrowser(t)
	})
	l.wg.Add(2)
	go l.relayToBrowser()
	go l.drainRTCP(tr.Sender())
	g.mu.Lock()
	g.legs[l] = struct{}{}
	g.mu.Unlock()
	return l, nil
}

// FromBrowser takes the browser's SDP (an offer, or the answer to our
// offer) and returns the plain RTP/AVP description the switch's endpoint
// should use: the leg's loopback socket, the browser's G.711 codecs and
// telephone-event type in its order, and its direction (hold).
func (l *Leg) FromBrowser(sdp []byte) ([]byte, error) {
	desc, err := media.ParseSDP(sdp)
	if err != nil {
		return nil, err
	}
	if len(desc.Codecs) == 0 {
		// Checked here: an empty list would come out as the plain
		// description's default codec, and pion could not answer it.
		return nil, errors.New("webrtc leg: the browser offers no G.711 codec")
	}
	typ := pion.SDPTypeOffer
	if l.pc.SignalingState() == pion.SignalingStateHaveLocalOffer {
		typ = pion.SDPTypeAnswer
	}
	remote := string(sdp)
	if desc.Direction == media.Inactive {
		// pion stops a transceiver for good on an inactive offer (a browser
		// holding a call the other side holds too), so a resume would find
		// no sender; to pion it is sendonly, to the switch still inactive.
		remote = strings.ReplaceAll(remote, "a=inactive\r\n", "a=sendonly\r\n")
	}
	if err := l.pc.SetRemoteDescription(pion.SessionDescription{Type: typ, SDP: remote}); err != nil {
		return nil, fmt.Errorf("browser %s: %w", typ, err)
	}
	local := l.sock.LocalAddr().(*net.UDPAddr).AddrPort()
	plain := media.SessionDesc{Addr: local.Addr(), Port: int(local.Port()), Codecs: desc.Codecs, DTMFPT: desc.DTMFPT,
		Direction: desc.Direction, Ptime: 20}
	if desc.Port == 0 {
		plain.Port = 0
	}
	l.version++
	return media.BuildSDP(plain, l.sessionID, l.version), nil
}

// ToBrowser turns the switch's plain description for this leg into what
// the browser gets: the answer to its pending offer, our offer when the
// browser is being called, or (once answered) the current description
// again, as the final 200 repeats an early 183.
func (l *Leg) ToBrowser(plain []byte) ([]byte, error) {
	desc, err := media.ParseSDP(plain)
	if err != nil {
		return nil, err
	}
	to := desc.AddrPort()
	l.toSwitch.Store(&to)
	var sd pion.SessionDescription
	switch state := l.pc.SignalingState(); {
	case state == pion.SignalingStateHaveRemoteOffer:
		l.prefer(desc)
		if sd, err = l.pc.CreateAnswer(nil); err != nil {
			return nil, err
		}
	case state == pion.SignalingStateStable && l.pc.LocalDescription() != nil:
		return withDirection(l.pc.LocalDescription().SDP, desc.Direction), nil
	case state == pion.SignalingStateStable:
		l.prefer(desc)
		if sd, err = l.pc.CreateOffer(nil); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("webrtc leg: no description to give in state %s", state)
	}
	gathered := pion.GatheringCompletePromise(l.pc)
	if err := l.pc.SetLocalDescription(sd); err != nil {
		return nil, err
	}
	// SIP carries the SDP whole (no trickle ICE): wait for our candidates.
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
		return nil, errors.New("webrtc leg: ICE gathering timed out")
	}
	return withDirection(l.pc.LocalDescription().SDP, desc.Direction), nil
}

// withDirection writes the switch's media direction into our description.
// pion answers a browser's hold (sendonly) with sendrecv, where RFC 3264
// §6.1 wants recvonly, and has no setter for a transceiver's direction;
// nor does it take an edited description back, so only the copy for the
// browser is edited. pion itself still sends whatever the switch's
// endpoint sends, and that is silent while the browser holds.
func withDirection(sdp string, d media.Direction) []byte {
	want := "a=" + d.String() + "\r\n"
	for _, have := range []media.Direction{media.SendRecv, media.SendOnly, media.RecvOnly, media.Inactive} {
		sdp = strings.ReplaceAll(sdp, "a="+have.String()+"\r\n", want)
	}
	return []byte(sdp)
}

// prefer orders the codecs we negotiate as the switch's description does.
func (l *Leg) prefer(desc media.SessionDesc) {
	var prefs []pion.RTPCodecParameters
	for _, c := range desc.Codecs {
		for _, p := range codecs {
			if p.PayloadType == pion.PayloadType(c) {
				prefs = append(prefs, p)
			}
		}
	}
	if desc.DTMFPT != 0 {
		// The payload type the switch's description uses: the browser's own
		// when answering it, ours when offering.
		ev := codecs[len(codecs)-1]
		ev.PayloadType = pion.PayloadType(desc.DTMFPT)
		prefs = append(prefs, ev)
	}
	if len(prefs) > 0 {
		l.tr.SetCodecPreferences(prefs)
	}
}

// Connected reports whether ICE and DTLS are up (media can flow).
func (l *Leg) Connected() bool {
	return l.pc.ConnectionState() == pion.PeerConnectionStateConnected
}

// WaitConnected waits until media can flow or ctx ends.
func (l *Leg) WaitConnected(ctx context.Context) error {
	for !l.Connected() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("webrtc leg not connected (%s): %w", l.pc.ConnectionState(), ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// Stats are the packets relayed each way.
type Stats struct{ FromBrowser, ToBrowser uint64 }

// Stats returns the leg's counters.
func (l *Leg) Stats() Stats {
	return Stats{FromBrowser: l.fromBrowser.Load(), ToBrowser: l.toBrowser.Load()}
}

// Close ends the PeerConnection and the relay; closing twice is harmless.
func (l *Leg) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := errors.Join(l.pc.Close(), l.sock.Close())
	l.wg.Wait()
	l.g.mu.Lock()
	delete(l.g.legs, l)
	l.g.mu.Unlock()
	return err
}

// relayFromBrowser forwards the browser's decrypted RTP to the switch.
func (l *Leg) relayFromBrowser(t *pion.TrackRemote) {
	defer l.wg.Done()
	buf := make([]byte, 1500)
	failures := 0
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			if errors.Is(err, io.EOF) || l.closed.Load() || l.pc.ConnectionState() == pion.PeerConnectionStateClosed {
				return
			}
			// A packet we cannot use (a payload type not negotiated) is skipped;
			// a receiver that keeps failing must not spin a core meanwhile.
			if failures++; failures > 50 {
				time.Sleep(20 * time.Millisecond)
			}
			continue
		}
		failures = 0
		if to := l.toSwitch.Load(); to != nil && to.IsValid() {
			if _, err := l.sock.WriteToUDPAddrPort(buf[:n], *to); err == nil {
				l.fromBrowser.Add(1)
			}
		}
	}
}

// relayToBrowser sends what the switch's endpoint sends the browser. The
// socket is on loopback, so only the switch's own processes reach it.
func (l *Leg) relayToBrowser() {
	defer l.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := l.sock.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || l.closed.Load() {
				return
			}
			continue
		}
		if l.out.write(buf[:n]) {
			l.toBrowser.Add(1)
		}
	}
}

// drainRTCP reads the browser's RTCP for our stream, which pion needs read.
func (l *Leg) drainRTCP(s *pion.RTPSender) {
	defer l.wg.Done()
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}
