package media

import (
	"math/rand/v2"
	"time"

	"github.com/pion/rtp"
)

// streamKey identifies a source feeding an outbound stream: a bridge and the
// SSRC the far phone sends with, or a playback. A new key re-anchors the
// stream.
type streamKey struct {
	l    *link
	ssrc uint32
	p    *playback
}

// outStream is the one RTP stream we send to a phone. Its SSRC never
// changes; sequence numbers and timestamps continue across sources.
type outStream struct {
	ssrc    uint32
	started bool
	key     streamKey
	seqOff  uint16 // added to the source's sequence numbers
	tsOff   uint32 // added to the source's timestamps
	seq     uint16 // highest sequence number sent
	ts      uint32 // highest timestamp sent …
	tsAt    time.Time
	lastDur uint32 // samples in the last audio packet
}

// rewrite maps a source packet's seq and ts onto the stream. The first packet
// of a new source gets the next sequence number, a timestamp advanced by the
// real time since the last one, and the marker bit.
func (o *outStream) rewrite(key streamKey, h *rtp.Header, samples int, now time.Time) (seq uint16, ts uint32, marker bool) {
	marker = h.Marker
	if !o.started || key != o.key {
		o.anchor(key, h, now)
		marker = true
	}
	seq, ts = h.SequenceNumber+o.seqOff, h.Timestamp+o.tsOff
	if int16(seq-o.seq) > 0 {
		o.seq = seq
	}
	if int32(ts-o.ts) > 0 {
		o.ts, o.tsAt = ts, now // … and when: the stream's clock
	}
	if samples > 0 {
		o.lastDur = uint32(samples)
	}
	return seq, ts, marker
}

func (o *outStream) anchor(key streamKey, h *rtp.Header, now time.Time) {
	nextSeq, nextTs := uint16(rand.Uint32()), rand.Uint32()
	if o.started {
		nextSeq = o.seq + 1
		nextTs = o.ts + max(o.lastDur, samplesBetween(o.tsAt, now))
	}
	o.seq, o.ts, o.tsAt = nextSeq-1, nextTs, now
	o.started, o.key = true, key
	o.seqOff, o.tsOff = nextSeq-h.SequenceNumber, nextTs-h.Timestamp
}

func samplesBetween(from, to time.Time) uint32 {
	d := to.Sub(from)
	if d <= 0 {
		return 0
	}
	return uint32(d / (time.Second / SampleRate))
}

// recvState estimates packet loss from sequence numbers, per RFC 3550
// appendix A.3 without its probation rules: expected minus received.
type recvState struct {
	started    bool
	ssrc       uint32
	base       uint16
	maxSeq     uint16
	cycles     int64
	received   int64
	lostBefore int64 // from earlier SSRCs
}

func (r *recvState) update(ssrc uint32, seq uint16) (lost int64) {
	switch {
	case !r.started || ssrc != r.ssrc:
		*r = recvState{started: true, ssrc: ssrc, base: seq, maxSeq: seq, lostBefore: r.lost()}
	case int16(seq-r.maxSeq) > 0:
		if seq < r.maxSeq {
			r.cycles += 1 << 16
		}
		r.maxSeq = seq
	}
	r.received++
	return r.lost()
}

func (r *recvState) lost() int64 {
	if !r.started {
		return r.lostBefore
	}
	expected := r.cycles + int64(r.maxSeq) - int64(r.base) + 1
	return r.lostBefore + max(0, expected-r.received)
}
