package media

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// bufSize bounds a datagram we read; G.711 at 20 ms is 172 bytes on the wire.
const bufSize = 1500

// Endpoint is one call leg's RTP/RTCP port pair. Create it with
// [Engine.NewEndpoint], tell it where the phone is with SetRemote, relay it
// with [Bridge] or play to it with Play, record it with Record, hear its
// keys with OnDTMF, and Close it at the end of the call.
type Endpoint struct {
	engine    *Engine
	rtp, rtcp *net.UDPConn
	slot      int // pool slot, -1 without a pool
	port      int
	log       *slog.Logger
	now       func() time.Time
	wg        sync.WaitGroup
	closed    atomic.Bool

	mu      sync.Mutex // guards remote, latched, link, play, rec, onDTMF and out
	remote  remote
	latched netip.AddrPort   // where the phone sends from; zero until latched
	link    *link            // the bridge this endpoint is in, or nil
	play    *playback        // what plays to the phone, or nil
	rec     *Recording       // what records the phone, or nil
	onDTMF  func(digit byte) // key presses while not bridged, or nil
	out     outStream        // what we send to the phone

	// Owned by the RTP read loop.
	rx            rtp.Packet
	rxBuf, txBuf  [bufSize]byte
	recv          recvState
	dtmf          dtmfIn
	lastIgnoreLog time.Time

	stats counters
}

// remote is what the phone's SDP said.
type remote struct {
	addr   netip.AddrPort
	codec  Codec
	dtmfPT uint8 // 0: none
	set    bool
}

type counters struct {
	packetsIn, bytesIn, packetsOut, bytesOut, ignored, rtcpIn atomic.Uint64
	lost                                                      atomic.Int64
	lastReceived                                              atomic.Int64 // unix ns; 0: never
}

// Stats are an endpoint's counters. "In" counts what the phone sent us (from
// the latched source), "Out" what we sent the phone.
type Stats struct {
	PacketsIn, BytesIn   uint64 // RTP packets and UDP payload bytes accepted
	PacketsOut, BytesOut uint64 // RTP packets and bytes sent
	Ignored              uint64 // datagrams dropped: not RTP, or not from the latched source
	RTCPIn               uint64 // datagrams on the RTCP port
	Lost                 int64  // estimated from sequence number gaps
	LastReceived         time.Time
	Latched              netip.AddrPort // the phone's real RTP source; zero until it sends
}

func startEndpoint(e *Engine, rtpConn, rtcpConn *net.UDPConn, slot int) *Endpoint {
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	ep := &Endpoint{
		engine: e, rtp: rtpConn, rtcp: rtcpConn, slot: slot, port: port,
		log: e.log.With("rtp_port", port), now: e.now,
		out: outStream{ssrc: rand.Uint32(), lastDur: SampleRate / 50},
	}
	ep.wg.Add(2)
	go ep.readRTP()
	go ep.readRTCP()
	return ep
}

// LocalPort is the RTP port to write in our SDP (RTCP is the one above).
func (ep *Endpoint) LocalPort() int { return ep.port }

// SSRC is the synchronisation source of what we send to the phone.
func (ep *Endpoint) SSRC() uint32 { return ep.out.ssrc }

// SetRemote records the phone's SDP: where to send before it has sent
// anything, the negotiated codec and its telephone-event payload type (0 for
// none). Call it again after a re-INVITE. A new address undoes the latch;
// an unspecified address or port 0 (hold, rejected stream) stops sending.
func (ep *Endpoint) SetRemote(addr netip.AddrPort, codec Codec, dtmfPT uint8) {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if addr != ep.remote.addr && ep.latched.IsValid() {
		ep.log.Debug("rtp unlatched: new remote address", "from", ep.latched, "sdp", addr)
		ep.latched = netip.AddrPort{}
	}
	ep.remote = remote{addr: addr, codec: codec, dtmfPT: dtmfPT, set: true}
}

// Stats returns the endpoint's counters.
func (ep *Endpoint) Stats() Stats {
	s := Stats{
		PacketsIn: ep.stats.packetsIn.Load(), BytesIn: ep.stats.bytesIn.Load(),
		PacketsOut: ep.stats.packetsOut.Load(), BytesOut: ep.stats.bytesOut.Load(),
		Ignored: ep.stats.ignored.Load(), RTCPIn: ep.stats.rtcpIn.Load(),
		Lost: ep.stats.lost.Load(),
	}
	if ns := ep.stats.lastReceived.Load(); ns != 0 {
		s.LastReceived = time.Unix(0, ns)
	}
	ep.mu.Lock()
	s.Latched = ep.latched
	ep.mu.Unlock()
	return s
}

// Close unbridges the endpoint, stops its playback and recording, closes
// its sockets and waits for its goroutines to end. Its ports go back to the
// pool after the drain period. Closing twice is harmless.
func (ep *Endpoint) Close() error {
	if !ep.closed.CompareAndSwap(false, true) {
		return nil
	}
	ep.unlink()
	ep.stopPlay(nil)
	ep.mu.Lock()
	rec := ep.rec
	ep.mu.Unlock()
	if rec != nil {
		rec.Stop()
	}
	err := errors.Join(ep.rtp.Close(), ep.rtcp.Close())
	ep.wg.Wait()
	ep.engine.release(ep)
	return err
}

func (ep *Endpoint) readRTP() {
	defer ep.wg.Done()
	for {
		n, src, err := ep.rtp.ReadFromUDPAddrPort(ep.rxBuf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ep.closed.Load() {
				return
			}
			continue
		}
		ep.handleRTP(ep.rxBuf[:n], src, ep.now())
	}
}

// readRTCP only counts: the switch does not act on RTCP yet.
func (ep *Endpoint) readRTCP() {
	defer ep.wg.Done()
	var buf [bufSize]byte
	for {
		_, _, err := ep.rtcp.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ep.closed.Load() {
				return
			}
			continue
		}
		ep.stats.rtcpIn.Add(1)
	}
}

// send writes one packet to the phone.
func (ep *Endpoint) send(b []byte, to netip.AddrPort) {
	if n, err := ep.rtp.WriteToUDPAddrPort(b, to); err == nil {
		ep.stats.packetsOut.Add(1)
		ep.stats.bytesOut.Add(uint64(n))
	}
}
