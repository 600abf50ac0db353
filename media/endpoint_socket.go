package media

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// bufSize bounds a datagram we read; G.711 at 20 ms is 172 bytes on the wire.
const bufSize = 1500

// Endpoint is one call leg's RTP/RTCP port pair. Create it with
// [Engine.NewEndpoint], tell it where the phone is with SetRemote, relay it
// with [Bridge] or play to it with Play, record it with Record, hear its
// keys with OnDTMF, and Close it at the end of the call.
type Endpoint struct {
	engine *Engine
	sock   *sockets // the bound ports; a pooled pair outlives its endpoints
	port   int
	now    func() time.Time
	closed atomic.Bool

	mu      sync.Mutex // guards remote, latched, link, play, rec, onDTMF and out
	remote  remote
	latched netip.AddrPort   // where the phone sends from; zero until latched
	link    *link            // the bridge this endpoint is in, or nil
	play    *playback        // what plays to the phone, or nil
	rec     *Recording       // what records the phone, or nil
	onDTMF  func(digit byte) // key presses while not bridged, or nil
	out     outStream        // what we send to the phone

	// Used by the read loop under sock.handling.
	recv          recvState
	dtmf          dtmfIn
	lastIgnoreLog time.Time

	stats counters
}

// sockets is one bound RTP/RTCP port pair, read by one of the engine's
// read loops (see [pollLoop]). With a port range it outlives the endpoint it
// was made for: Close hands it back to the pool, still bound and read, and
// the pool gives it to a later endpoint once drained (see [Engine]).
// Packets go to its owner, the endpoint using it now; without one they are
// read and dropped.
type sockets struct {
	engine    *Engine
	rtp, rtcp *udpSock
	port      int
	slot      int   // pool slot, -1 without a pool
	loop      int   // which of the engine's read loops reads it
	pollID    int32 // its id in that loop
	log       *slog.Logger
	owner     atomic.Pointer[Endpoint]
	// handling is held by the read loop while it reads an RTP packet and its
	// owner handles it, so Close can wait until no packet of its endpoint is
	// in flight.
	handling  sync.Mutex
	closed    atomic.Bool
	until     time.Time    // in the pool: drained at this time; guarded by the pool's mu
	lastStray atomic.Int64 // unix ns of the last RTP packet read with no owner; 0: none
}

func newSockets(e *Engine, rtpSock, rtcpSock *udpSock, slot int) (*sockets, error) {
	s := &sockets{engine: e, rtp: rtpSock, rtcp: rtcpSock, port: rtpSock.port, slot: slot, log: e.log.With("rtp_port", rtpSock.port)}
	if err := e.loops.add(s); err != nil {
		return nil, errors.Join(err, rtpSock.close(), rtcpSock.close())
	}
	return s, nil
}

// close stops reading the pair, waits for a packet in flight and closes
// both ports.
func (s *sockets) close() error {
	s.closed.Store(true)
	s.engine.loops.remove(s)
	s.handling.Lock()
	defer s.handling.Unlock()
	return errors.Join(s.rtp.close(), s.rtcp.close())
}

// readRTP reads one datagram (the loop saw the port ready) and hands it to
// the owner, in the loop's buffers.
func (s *sockets) readRTP(from *rawFrom, sc *scratch) {
	s.handling.Lock()
	defer s.handling.Unlock()
	n, src, err := s.rtp.recvFrom(sc.rxBuf[:], from)
	if err != nil || s.closed.Load() {
		return // EAGAIN after a spurious wake-up, or closed since the loop looked
	}
	if ep := s.owner.Load(); ep != nil {
		ep.handleRTP(sc.rxBuf[:n], src, ep.now(), sc)
	} else {
		s.engine.strays.Add(1) // late, for a call that ended: dropped
		s.lastStray.Store(s.engine.now().UnixNano())
	}
}

// readRTCP only counts: the switch does not act on RTCP yet.
func (s *sockets) readRTCP(buf []byte, from *rawFrom) {
	if _, _, err := s.rtcp.recvFrom(buf, from); err != nil {
		return
	}
	if ep := s.owner.Load(); ep != nil {
		ep.stats.rtcpIn.Add(1)
	}
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

func newEndpoint(e *Engine, sock *sockets) *Endpoint {
	ep := &Endpoint{engine: e, sock: sock, port: sock.port, now: e.now,
		out: outStream{ssrc: rand.Uint32(), lastDur: SampleRate / 50}}
	sock.owner.Store(ep)
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
		ep.sock.log.Debug("rtp unlatched: new remote address", "from", ep.latched, "sdp", addr)
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

// Close unbridges the endpoint, stops its playback and recording and gives
// its ports back: with a port range they go back to the pool, still bound,
// and are handed out again after the drain period; without one they are
// closed. Once Close returns no packet reaches the endpoint any more.
// Closing twice is harmless.
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
	s := ep.sock
	s.owner.Store(nil)
	s.handling.Lock() // a packet handed to us before is handled by now
	s.handling.Unlock()
	return ep.engine.release(ep)
}

// send writes one packet to the phone.
func (ep *Endpoint) send(b []byte, to netip.AddrPort) {
	if n, err := ep.sock.rtp.sendTo(b, to); err == nil {
		ep.stats.packetsOut.Add(1)
		ep.stats.bytesOut.Add(uint64(n))
	}
}
