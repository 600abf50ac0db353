package call

import (
	"sync/atomic"

	"switchboard/media"
	"switchboard/media/prompts"
)

// holdMusic is the music on hold of the whole switch: one shared
// media.Music that every held party hears (produced once a tick however many
// listen), behind a pointer that SetMusic swaps. It is itself the Source the
// held parties play, so a swap reaches parties already on hold at their next
// frame, with no work by their calls.
type holdMusic struct {
	cur atomic.Pointer[musicSet]
}

// musicSet is one upload: the loop and its optional intro. Never changed.
type musicSet struct {
	music *media.Music
	intro []byte // played once to each newly held party; nil for none
}

// newHoldMusic returns the music on hold playing music (8 kHz μ-law; empty
// means the built-in default).
func newHoldMusic(music []byte) *holdMusic {
	h := &holdMusic{}
	h.set(music, nil)
	return h
}

func (h *holdMusic) set(music, intro []byte) {
	if len(music) == 0 {
		music = prompts.MusicOnHold()
	}
	if len(intro) == 0 {
		intro = nil
	}
	h.cur.Store(&musicSet{music: media.NewMusic(music), intro: intro})
}

// ReadFrame implements media.Source: the frame of the current music.
func (h *holdMusic) ReadFrame(dst []byte, tick int64, codec media.Codec) bool {
	return h.cur.Load().music.ReadFrame(dst, tick, codec)
}

// source is what a party put on hold now hears: the intro from its start,
// if there is one, then the shared music (whichever is current by then).
func (h *holdMusic) source() media.Source {
	if intro := h.cur.Load().intro; intro != nil {
		return media.Sequence(media.Clip(intro), h)
	}
	return h
}

// SetMusic changes the music on hold at once: parties on hold now hear the
// new music from its start at their next frame (a party in the middle of
// the old intro finishes it first); parties held from now on hear intro,
// when not empty, once from its start, then the music. Both are 8 kHz
// μ-law, kept (not copied) and never changed by the caller afterwards; empty
// music means the built-in default.
func (m *Manager) SetMusic(music, intro []byte) {
	m.music.set(music, intro)
}

var _ media.Source = (*holdMusic)(nil)
