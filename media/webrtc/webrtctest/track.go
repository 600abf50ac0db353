package webrtctest

import (
	"errors"
	"strings"
	"sync"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"switchboard/media"
)

// rawTrack writes RTP with the payload types we choose (audio or
// telephone-event); pion's static track would force the audio codec's.
type rawTrack struct {
	mu     sync.Mutex
	w      pion.TrackLocalWriter
	ssrc   uint32
	params []pion.RTPCodecParameters
}

func (t *rawTrack) Bind(ctx pion.TrackLocalContext) (pion.RTPCodecParameters, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.params = ctx.CodecParameters()
	if len(t.params) == 0 {
		return pion.RTPCodecParameters{}, errors.New("webrtctest: no codec negotiated")
	}
	t.w, t.ssrc = ctx.WriteStream(), uint32(ctx.SSRC())
	return t.params[0], nil
}

func (t *rawTrack) Unbind(pion.TrackLocalContext) error {
	t.mu.Lock()
	t.w = nil
	t.mu.Unlock()
	return nil
}

func (t *rawTrack) ID() string              { return "audio" }
func (t *rawTrack) RID() string             { return "" }
func (t *rawTrack) StreamID() string        { return "browser" }
func (t *rawTrack) Kind() pion.RTPCodecType { return pion.RTPCodecTypeAudio }

// codec is the first negotiated G.711 codec.
func (t *rawTrack) codec() (media.Codec, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.params {
		switch strings.ToLower(p.MimeType) {
		case strings.ToLower(pion.MimeTypePCMU):
			return media.PCMU, true
		case strings.ToLower(pion.MimeTypePCMA):
			return media.PCMA, true
		}
	}
	return 0, false
}

// payloadType finds the negotiated type of an encoding ("PCMU", or
// "telephone-event" at 8 kHz).
func (t *rawTrack) payloadType(encoding string) (uint8, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.params {
		if strings.EqualFold(p.MimeType, "audio/"+encoding) && p.ClockRate == 8000 {
			return uint8(p.PayloadType), true
		}
	}
	return 0, false
}

func (t *rawTrack) write(h rtp.Header, payload []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return errors.New("webrtctest: track not bound yet")
	}
	h.SSRC = t.ssrc
	_, err := t.w.WriteRTP(&h, payload)
	return err
}
