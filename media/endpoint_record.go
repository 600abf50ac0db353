package media

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// MaxRecording bounds a recording when Record is given no maximum.
const MaxRecording = time.Hour

// recordSlack is how far ahead of the wall clock a packet's timestamp may
// place it (jitter) before the recording treats it as a jump of the phone's
// clock and appends it instead of leaving a gap.
const recordSlack = 5 * FrameSize

// recordLate is how far behind the recording's end a late packet may land;
// one further back means the phone's clock jumped back.
const recordLate = SampleRate

// Recording collects the audio a phone sends, as 8 kHz μ-law whatever the
// leg's codec. The RTP timestamps place each packet, so a phone that stops
// sending while silent (VAD) or loses packets leaves silence of the right
// length, and a late packet lands where it belongs.
type Recording struct {
	ep   *Endpoint
	max  int // samples
	done chan struct{}

	mu       sync.Mutex
	audio    []byte
	stopped  bool
	anchored bool
	ssrc     uint32
	base     uint32    // RTP timestamp of audio[0]
	lastAt   time.Time // when the last packet was written
}

// Record starts recording what the phone sends, until Stop, max (zero or
// less means MaxRecording) or Close, whether the endpoint plays, is bridged
// or idle. A new Record stops the one before.
func (ep *Endpoint) Record(max time.Duration) *Recording {
	if max <= 0 {
		max = MaxRecording
	}
	samples := int(max / (time.Second / SampleRate))
	r := &Recording{ep: ep, max: samples, done: make(chan struct{}),
		audio: make([]byte, 0, min(samples, 10*SampleRate))}
	ep.mu.Lock()
	old, open := ep.rec, !ep.closed.Load()
	if open {
		ep.rec = r
	}
	ep.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	if !open {
		r.Stop()
	}
	return r
}

// Stop ends the recording; calling it again is harmless.
func (r *Recording) Stop() {
	r.mu.Lock()
	if !r.stopped {
		r.stopped = true
		close(r.done)
	}
	r.mu.Unlock()
	r.ep.mu.Lock()
	if r.ep.rec == r {
		r.ep.rec = nil
	}
	r.ep.mu.Unlock()
}

// Done is closed when the recording ends: Stop, max reached, or the
// endpoint closed.
func (r *Recording) Done() <-chan struct{} { return r.done }

// Audio returns the 8 kHz μ-law audio recorded so far. The bytes are not
// changed afterwards, except that a packet arriving late may still fill a
// gap until the recording ends.
func (r *Recording) Audio() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.audio[:len(r.audio):len(r.audio)]
}

// Duration is the length of the audio recorded so far.
func (r *Recording) Duration() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return samplesDuration(len(r.audio))
}

func samplesDuration(n int) time.Duration { return time.Duration(n) * time.Second / SampleRate }

// write adds one G.711 packet; the read loop calls it.
func (r *Recording) write(p *rtp.Packet, now time.Time) {
	r.mu.Lock()
	full := r.writeLocked(p, now)
	r.mu.Unlock()
	if full {
		r.Stop()
	}
}

func (r *Recording) writeLocked(p *rtp.Packet, now time.Time) (full bool) {
	if r.stopped {
		return false
	}
	pos := len(r.audio)
	if r.anchored && p.SSRC == r.ssrc {
		off := int64(int32(p.Timestamp - r.base))
		ahead := int64(samplesBetween(r.lastAt, now)) + recordSlack
		if off < int64(pos)-recordLate || off > int64(pos)+ahead {
			r.base = p.Timestamp - uint32(pos) // the phone's clock jumped: append
		} else if off < 0 {
			return false // late, from before the recording began
		} else {
			pos = int(off)
		}
	} else {
		r.anchored, r.ssrc, r.base = true, p.SSRC, p.Timestamp-uint32(pos)
	}
	r.lastAt = now
	if pos >= r.max {
		return true
	}
	end := min(pos+len(p.Payload), r.max)
	if n := len(r.audio); end > n {
		r.audio = slices.Grow(r.audio, end-n)[:end]
		fillSilence(r.audio[n:end], PCMU) // the gap before pos, if any
	}
	transcode(r.audio[pos:end], p.Payload, Codec(p.PayloadType), PCMU)
	return len(r.audio) >= r.max
}

// VoiceLevel is the RMS level, in dBFS, above which a 20 ms frame counts as
// voiced: well above a quiet line's noise (-60 dBFS and less), well below
// speech (-30 to -15 dBFS).
const VoiceLevel = -40.0

// voiceEnergy is the sum of squares of a frame at VoiceLevel.
var voiceEnergy = int64(float64(FrameSize) * math.Pow(32768*math.Pow(10, VoiceLevel/20), 2))

// Voiced returns how much of ulaw (8 kHz μ-law) is louder than VoiceLevel,
// counted in whole 20 ms frames: near zero for an empty voicemail (the
// caller hung up, or only line noise), about the speaking time otherwise.
func Voiced(ulaw []byte) time.Duration {
	var voiced time.Duration
	for off := 0; off+FrameSize <= len(ulaw); off += FrameSize {
		var energy int64
		for _, b := range ulaw[off : off+FrameSize] {
			s := int64(PCMU.Decode(b))
			energy += s * s
		}
		if energy > voiceEnergy {
			voiced += frameDur
		}
	}
	return voiced
}
