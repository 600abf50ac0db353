package media

import (
	"sync"
	"time"
)

// FrameSize is the number of samples, and of G.711 bytes, in one 20 ms frame.
const FrameSize = SampleRate / 50

// frameDur is the length of one frame and the pacer's period.
const frameDur = 20 * time.Millisecond

// A Source is audio for [Endpoint.Play]. The endpoints' pacer asks every
// playing source for one frame each tick: ticks count 20 ms periods on a
// clock shared by the whole process, so all endpoints playing one source ask
// for the same tick at about the same time, and the source can produce each
// frame once for all of them.
//
// ReadFrame writes the audio of tick into dst (FrameSize bytes) coded in
// codec (PCMU or PCMA), or reports false, leaving dst alone, when the source
// has ended. Ticks passed to one source only grow, but may skip when the
// pacer falls behind. ReadFrame runs on the pacer goroutine, may run
// concurrently for endpoints of different engines, must be quick, and must
// not call Play or a stop function.
type Source interface {
	ReadFrame(dst []byte, tick int64, codec Codec) bool
}

// frameCoder hands out μ-law frames in the codec asked for, converting a
// frame to A-law once per tick however many A-law listeners ask for it. Its
// owner's mutex guards it.
type frameCoder struct {
	alawTick    int64
	alawOK      bool
	alaw        [FrameSize]byte
	conversions int64 // A-law frames made (tests prove they are shared)
}

// put writes ulaw (at most FrameSize bytes, padded with silence) into dst in
// codec.
func (f *frameCoder) put(dst, ulaw []byte, tick int64, codec Codec) {
	if codec != PCMA {
		n := copy(dst[:FrameSize], ulaw)
		fillSilence(dst[n:FrameSize], PCMU)
		return
	}
	if !f.alawOK || f.alawTick != tick {
		n := transcode(f.alaw[:], ulaw, PCMU, PCMA)
		fillSilence(f.alaw[n:], PCMA)
		f.alawTick, f.alawOK = tick, true
		f.conversions++
	}
	copy(dst[:FrameSize], f.alaw[:])
}

func fillSilence(b []byte, codec Codec) {
	s := codec.Silence()
	for i := range b {
		b[i] = s
	}
}

// ClipSource plays 8 kHz μ-law audio once, from the first tick it is asked
// for, the last frame padded with silence. Played on several endpoints at
// once, they all hear it in step; once ended it stays ended (make a new one
// to play again: Clip does not copy the audio).
type ClipSource struct {
	ulaw []byte
	done chan struct{}

	mu      sync.Mutex
	started bool
	start   int64
	ended   bool
	coder   frameCoder
}

// Clip returns a source that plays ulaw (8 kHz μ-law, such as a prompt)
// once. It keeps ulaw, which must not change while it plays.
func Clip(ulaw []byte) *ClipSource {
	return &ClipSource{ulaw: ulaw, done: make(chan struct{})}
}

// Clips returns a source that plays the clips one after the other without a
// gap ("you have", "three", "new messages"), as one clip.
func Clips(ulaws ...[]byte) *ClipSource {
	n := 0
	for _, u := range ulaws {
		n += len(u)
	}
	all := make([]byte, 0, n)
	for _, u := range ulaws {
		all = append(all, u...)
	}
	return Clip(all)
}

// Done is closed when the clip has played to its end (not when the playback
// is stopped before).
func (c *ClipSource) Done() <-chan struct{} { return c.done }

// Duration is how long the clip plays: its length rounded up to whole frames.
func (c *ClipSource) Duration() time.Duration {
	return time.Duration((len(c.ulaw)+FrameSize-1)/FrameSize) * frameDur
}

// ReadFrame implements [Source].
func (c *ClipSource) ReadFrame(dst []byte, tick int64, codec Codec) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return false
	}
	if !c.started {
		c.started, c.start = true, tick
	}
	i := max(tick-c.start, 0) // an engine whose clock runs a tick behind
	if i >= int64(len(c.ulaw)+FrameSize-1)/FrameSize {
		c.ended = true
		close(c.done)
		return false
	}
	off := int(i) * FrameSize
	c.coder.put(dst, c.ulaw[off:min(off+FrameSize, len(c.ulaw))], tick, codec)
	return true
}

// Music is a shared source that loops 8 kHz μ-law audio seamlessly (the
// music on hold). It starts at the first tick asked for and runs like a
// radio: a listener joining later hears it from where it is. However many
// endpoints play it, each tick costs one frame lookup, and one μ-law → A-law
// conversion if any listener speaks A-law.
type Music struct {
	ulaw []byte

	mu      sync.Mutex
	started bool
	start   int64
	scratch [FrameSize]byte // the frame that wraps around the loop's end
	coder   frameCoder
}

// NewMusic returns a looping source of ulaw (8 kHz μ-law), which must not
// change while it plays. Empty audio plays silence.
func NewMusic(ulaw []byte) *Music {
	if len(ulaw) == 0 {
		ulaw = make([]byte, FrameSize)
		fillSilence(ulaw, PCMU)
	}
	return &Music{ulaw: ulaw}
}

// ReadFrame implements [Source]; music never ends.
func (m *Music) ReadFrame(dst []byte, tick int64, codec Codec) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.started {
		m.started, m.start = true, tick
	}
	n := int64(len(m.ulaw))
	pos := int((((tick-m.start)*FrameSize)%n + n) % n)
	frame := m.ulaw[pos:min(pos+FrameSize, len(m.ulaw))]
	if len(frame) < FrameSize {
		k := copy(m.scratch[:], frame)
		for k < FrameSize {
			k += copy(m.scratch[k:], m.ulaw)
		}
		frame = m.scratch[:]
	}
	m.coder.put(dst, frame, tick, codec)
	return true
}

// WithIntro returns a source for one listener: intro (8 kHz μ-law, "please
// hold") from its start, then the shared music from where it is by then.
func (m *Music) WithIntro(intro []byte) Source { return Sequence(Clip(intro), m) }

// sequence plays sources one after the other.
type sequence struct {
	mu   sync.Mutex
	srcs []Source
}

// Sequence returns a source that plays each source until it ends, then the
// next from the same tick, so there is no gap between them.
func Sequence(srcs ...Source) Source { return &sequence{srcs: srcs} }

func (s *sequence) ReadFrame(dst []byte, tick int64, codec Codec) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.srcs) > 0 {
		if s.srcs[0].ReadFrame(dst, tick, codec) {
			return true
		}
		s.srcs[0] = nil
		s.srcs = s.srcs[1:]
	}
	return false
}

var (
	_ Source = (*ClipSource)(nil)
	_ Source = (*Music)(nil)
	_ Source = (*sequence)(nil)
)
