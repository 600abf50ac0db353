package media

import (
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// link is one bridge between two endpoints; a new Bridge makes a new link, so
// an old unbridge function cannot undo a later bridge.
type link struct{ a, b *Endpoint }

func (l *link) other(ep *Endpoint) *Endpoint {
	if l.a == ep {
		return l.b
	}
	return l.a
}

// Bridge relays RTP between a and b in both directions until unbridge is
// called or either closes. Bridging an endpoint that is already bridged
// takes it out of its old bridge; one that plays ([Endpoint.Play]) stops
// playing. Bridge(a, a) echoes a's audio back to it.
// unbridge may be called more than once; Bridge(a, b) again resumes.
func Bridge(a, b *Endpoint) (unbridge func()) {
	l := &link{a: a, b: b}
	a.setLink(l)
	b.setLink(l)
	var once sync.Once
	return func() {
		once.Do(func() {
			a.clearLink(l)
			b.clearLink(l)
		})
	}
}

// setLink puts ep in bridge l, out of its old bridge and its playback.
func (ep *Endpoint) setLink(l *link) {
	ep.mu.Lock()
	old, play := ep.link, ep.play
	ep.link, ep.play = l, nil
	ep.mu.Unlock()
	if old != nil && old != l {
		old.other(ep).clearLink(old)
	}
	if play != nil {
		ep.engine.pacer.remove(play)
	}
}

func (ep *Endpoint) clearLink(l *link) {
	ep.mu.Lock()
	if ep.link == l {
		ep.link = nil
	}
	ep.mu.Unlock()
}

func (ep *Endpoint) unlink() {
	ep.mu.Lock()
	l := ep.link
	ep.link = nil
	ep.mu.Unlock()
	if l != nil {
		l.other(ep).clearLink(l)
	}
}

// route is where an accepted packet goes.
type route struct {
	l      *link // nil: not bridged
	dtmfPT uint8 // telephone-event payload type of the sending leg
	rec    *Recording
	onDTMF func(digit byte)
}

// scratch is what handling one packet needs besides the endpoint: a read
// loop owns one, so a port pair holds no buffers.
type scratch struct {
	rx           rtp.Packet
	rxBuf, txBuf [bufSize]byte
}

// handleRTP takes one datagram from the RTP socket. Only the read loop (and
// tests) call it, under sock.handling.
func (ep *Endpoint) handleRTP(b []byte, src netip.AddrPort, now time.Time, sc *scratch) {
	p := &sc.rx
	if p.Unmarshal(b) != nil || p.Version != 2 {
		ep.ignore(src, now, "not RTP")
		return
	}
	r, ok := ep.admit(src)
	if !ok {
		ep.ignore(src, now, "not from the latched source")
		return
	}
	ep.countIn(p, len(b), now)
	if r.rec != nil && Codec(p.PayloadType).Valid() {
		r.rec.write(p, now)
	}
	if r.l == nil {
		if r.onDTMF != nil && r.dtmfPT != 0 && p.PayloadType == r.dtmfPT {
			if digit, ok := ep.dtmf.press(p.SSRC, p.Timestamp, p.Payload); ok {
				r.onDTMF(digit)
			}
		}
		return
	}
	switch {
	case Codec(p.PayloadType).Valid():
		r.l.other(ep).forward(r.l, p, true, now, sc.txBuf[:])
	case r.dtmfPT != 0 && p.PayloadType == r.dtmfPT && len(p.Payload) >= EventSize:
		ep.dtmf.press(p.SSRC, p.Timestamp, p.Payload) // seen: not reported if the bridge ends mid-press
		r.l.other(ep).forward(r.l, p, false, now, sc.txBuf[:])
	}
	// Anything else (comfort noise 13, unknown types) is not relayed.
}

// admit applies symmetric RTP: the first source latches, others are ignored.
func (ep *Endpoint) admit(src netip.AddrPort) (route, bool) {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if !ep.latched.IsValid() {
		ep.latched = src
		ep.sock.log.Debug("rtp latched", "from", src, "sdp", ep.remote.addr)
	} else if src != ep.latched {
		return route{}, false
	}
	return route{l: ep.link, dtmfPT: ep.remote.dtmfPT, rec: ep.rec, onDTMF: ep.onDTMF}, true
}

func (ep *Endpoint) countIn(p *rtp.Packet, size int, now time.Time) {
	ep.stats.packetsIn.Add(1)
	ep.stats.bytesIn.Add(uint64(size))
	ep.stats.lastReceived.Store(now.UnixNano())
	ep.stats.lost.Store(ep.recv.update(p.SSRC, p.SequenceNumber))
}

// ignore counts a dropped datagram and logs at most one a second.
func (ep *Endpoint) ignore(src netip.AddrPort, now time.Time, why string) {
	ep.stats.ignored.Add(1)
	if now.Sub(ep.lastIgnoreLog) >= time.Second {
		ep.lastIgnoreLog = now
		ep.sock.log.Debug("rtp ignored", "from", src, "why", why)
	}
}

// forward sends p, which arrived on the other side of l, to ep's phone: the
// payload type becomes ep's, seq and ts move onto ep's outbound stream, and
// audio is transcoded if the codecs differ. buf is the sender's scratch.
func (ep *Endpoint) forward(l *link, p *rtp.Packet, audio bool, now time.Time, buf []byte) {
	ep.mu.Lock()
	to, ok := ep.sendAddrLocked()
	codec, pt := ep.remote.codec, uint8(ep.remote.codec)
	if !audio {
		pt = ep.remote.dtmfPT
		ok = ok && pt != 0
	}
	if !ok || ep.link != l || ep.closed.Load() {
		ep.mu.Unlock()
		return
	}
	samples := 0
	if audio {
		samples = len(p.Payload)
	}
	seq, ts, marker := ep.out.rewrite(streamKey{l: l, ssrc: p.SSRC}, &p.Header, samples, now)
	h := rtp.Header{Version: 2, Marker: marker, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ep.out.ssrc}
	ep.mu.Unlock()

	n, _ := h.MarshalTo(buf) // 12 bytes; buf is as large as the datagram read
	if audio {
		n += transcode(buf[n:], p.Payload, Codec(p.PayloadType), codec)
	} else {
		n += copy(buf[n:], p.Payload)
	}
	ep.send(buf[:n], to)
}

// sendAddrLocked is where RTP for the phone goes: the latched source, else
// the SDP address; nothing before SetRemote or while the SDP says not to.
func (ep *Endpoint) sendAddrLocked() (netip.AddrPort, bool) {
	r := ep.remote
	if !r.set || !r.addr.Addr().IsValid() || r.addr.Addr().IsUnspecified() || r.addr.Port() == 0 {
		return netip.AddrPort{}, false
	}
	if ep.latched.IsValid() {
		return ep.latched, true
	}
	return r.addr, true
}
