package webrtc

import (
	"errors"
	"sync"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"
)

// outTrack is what we send the browser: RTP packets as the switch's
// endpoint made them, with the SSRC negotiated for this track. pion's
// TrackLocalStaticRTP would also force every packet to the audio codec's
// payload type, which breaks telephone-event packets.
type outTrack struct {
	mu     sync.Mutex
	w      pion.TrackLocalWriter // nil until bound
	ssrc   uint32
	header rtp.Header
}

func (t *outTrack) Bind(ctx pion.TrackLocalContext) (pion.RTPCodecParameters, error) {
	params := ctx.CodecParameters()
	if len(params) == 0 {
		return pion.RTPCodecParameters{}, errors.New("webrtc: no codec in common with the browser")
	}
	t.mu.Lock()
	t.w, t.ssrc = ctx.WriteStream(), uint32(ctx.SSRC())
	t.mu.Unlock()
	return params[0], nil
}

func (t *outTrack) Unbind(pion.TrackLocalContext) error {
	t.mu.Lock()
	t.w = nil
	t.mu.Unlock()
	return nil
}

func (t *outTrack) ID() string              { return "audio" }
func (t *outTrack) RID() string             { return "" }
func (t *outTrack) StreamID() string        { return "switchboard" }
func (t *outTrack) Kind() pion.RTPCodecType { return pion.RTPCodecTypeAudio }

// write sends one RTP packet; false if it was not sent (not bound yet, or
// not RTP). Only the relay goroutine calls it, so the header is reused.
func (t *outTrack) write(b []byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return false
	}
	n, err := t.header.Unmarshal(b)
	if err != nil {
		return false
	}
	t.header.SSRC = t.ssrc
	_, err = t.w.WriteRTP(&t.header, b[n:])
	return err == nil
}
