package media

import (
	"sync"
	"time"

	"github.com/pion/rtp"
)

// playback is one Play of a source on an endpoint.
type playback struct {
	ep  *Endpoint
	src Source
	idx int    // index in the pacer's players, -1 when out; guarded by pacer.mu
	seq uint16 // frames sent, as the source's own sequence; guarded by ep.mu
}

// Play sends src to the phone instead of bridged audio, one frame every
// 20 ms in the leg's codec, on the leg's one outbound stream: the first frame
// gets the next sequence number, a timestamp advanced by the real time since
// the last packet, and the marker bit. Playing takes the endpoint out of its
// bridge and ends the playback it replaces; [Bridge] in turn ends the
// playback. What the phone sends is still counted, recorded ([Endpoint.Record])
// and watched for DTMF ([Endpoint.OnDTMF]).
//
// When src ends the endpoint goes quiet. stop ends the playback early and
// may be called more than once; once it returns, src is asked for no more
// frames (a frame already stamped may still be on its way to the socket).
func (ep *Endpoint) Play(src Source) (stop func()) {
	p := &playback{ep: ep, src: src, idx: -1}
	ep.mu.Lock()
	l, old, open := ep.link, ep.play, !ep.closed.Load()
	ep.link = nil
	if open {
		ep.play = p
	}
	ep.mu.Unlock()
	if l != nil {
		l.other(ep).clearLink(l)
	}
	if open {
		ep.engine.pacer.add(p) // before removing old: the goroutine goes on
	}
	if old != nil {
		ep.engine.pacer.remove(old)
	}
	var once sync.Once
	return func() { once.Do(func() { ep.stopPlay(p) }) }
}

// stopPlay ends p if it still plays on ep; p == nil ends whatever plays.
func (ep *Endpoint) stopPlay(p *playback) {
	ep.mu.Lock()
	cur := ep.play
	if cur != nil && (p == nil || p == cur) {
		ep.play = nil
	}
	ep.mu.Unlock()
	if p == nil {
		p = cur
	}
	if p != nil {
		ep.engine.pacer.remove(p)
	}
}

// playFrame sends the frame of tick from p to the phone; the pacer calls it
// with its scratch buffer. It reports false when p is over: stopped,
// replaced, or its source ended.
func (ep *Endpoint) playFrame(p *playback, tick int64, now time.Time, buf []byte) bool {
	ep.mu.Lock()
	if ep.play != p {
		ep.mu.Unlock()
		return false
	}
	codec := ep.remote.codec
	if !codec.Valid() {
		codec = PCMU
	}
	if !p.src.ReadFrame(buf[rtpHeaderSize:rtpHeaderSize+FrameSize], tick, codec) {
		ep.play = nil
		ep.mu.Unlock()
		return false
	}
	to, ok := ep.sendAddrLocked()
	if !ok {
		ep.mu.Unlock()
		return true // the source runs on in time; the phone is not listening
	}
	// The source's own stream: one sequence number a frame, the tick clock
	// as timestamp, so a skipped tick shows as a gap.
	src := rtp.Header{SequenceNumber: p.seq, Timestamp: uint32(tick) * FrameSize}
	p.seq++
	seq, ts, marker := ep.out.rewrite(streamKey{p: p}, &src, FrameSize, now)
	h := rtp.Header{Version: 2, Marker: marker, PayloadType: uint8(codec), SequenceNumber: seq, Timestamp: ts, SSRC: ep.out.ssrc}
	ep.mu.Unlock()

	h.MarshalTo(buf) // 12 bytes
	ep.send(buf[:rtpHeaderSize+FrameSize], to)
	return true
}
