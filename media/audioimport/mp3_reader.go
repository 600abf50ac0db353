package audioimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hajimehoshi/go-mp3"
)

// isMP3 reports whether b starts like an MP3 file: an ID3v2 tag or the
// header of an MPEG audio layer III frame.
func isMP3(b []byte) bool {
	return bytes.HasPrefix(b, []byte("ID3")) || frameHeaderAt(b, 0) != nil
}

// frameHeader is the part of an MPEG audio frame header Convert looks at.
type frameHeader struct {
	version  int // 1, 2, or 25 for MPEG 2.5
	channels int
}

// frameHeaderAt returns the layer III frame header at b[i:], or nil.
func frameHeaderAt(b []byte, i int) *frameHeader {
	if len(b)-i < 4 || b[i] != 0xFF || b[i+1]&0xE0 != 0xE0 {
		return nil
	}
	version, layer := (b[i+1]>>3)&3, (b[i+1]>>1)&3
	bitrate, rate := b[i+2]>>4, (b[i+2]>>2)&3
	if version == 1 || layer != 1 || bitrate == 0 || bitrate == 15 || rate == 3 {
		return nil
	}
	h := &frameHeader{version: map[byte]int{0: 25, 2: 2, 3: 1}[version], channels: 2}
	if b[i+3]>>6 == 3 {
		h.channels = 1
	}
	return h
}

// skipID3 returns b after any ID3v2 tags at its start. go-mp3 would skip a
// tag too, but first allocates the size the tag declares (up to 256 MiB).
func skipID3(b []byte) ([]byte, error) {
	for bytes.HasPrefix(b, []byte("ID3")) {
		if len(b) < 10 {
			return nil, fmt.Errorf("%w: truncated ID3 tag", ErrNotAudio)
		}
		size := 0
		for _, c := range b[6:10] {
			if c >= 0x80 {
				return nil, fmt.Errorf("%w: bad ID3 tag size", ErrNotAudio)
			}
			size = size<<7 | int(c)
		}
		size += 10
		if b[5]&0x10 != 0 {
			size += 10 // footer
		}
		if size > len(b) {
			return nil, fmt.Errorf("%w: ID3 tag longer than the file", ErrNotAudio)
		}
		b = b[size:]
	}
	return b, nil
}

// maxSyncSearch is how far after the ID3 tags Convert looks for the first
// frame (tags are often followed by padding).
const maxSyncSearch = 64 << 10

// decodeMP3 returns an MP3 file's audio at 8 kHz, mono, full scale ±1.
// Decoding stops at the first frame the decoder cannot read; what came
// before it is kept, as for a truncated WAV. go-mp3 panics on some broken
// input: that is ErrNotAudio.
func decodeMP3(data []byte, limits Limits) (pcm []float32, info Info, err error) {
	defer func() {
		if p := recover(); p != nil {
			pcm, err = nil, fmt.Errorf("%w: MP3 decoder failed: %v", ErrNotAudio, p)
		}
	}()
	audio, err := skipID3(data)
	if err != nil {
		return nil, Info{}, err
	}
	var h *frameHeader
	for i := 0; i < min(len(audio), maxSyncSearch) && h == nil; i++ {
		h = frameHeaderAt(audio, i)
	}
	switch {
	case h == nil:
		return nil, Info{}, fmt.Errorf("%w: no MP3 frame", ErrNotAudio)
	case h.version == 25:
		return nil, Info{}, fmt.Errorf("%w: MPEG 2.5 audio (rates below 16 kHz)", ErrUnsupported)
	}
	dec, err := mp3.NewDecoder(bytes.NewReader(audio))
	if err != nil {
		return nil, Info{}, fmt.Errorf("%w: %v", ErrNotAudio, err)
	}
	rate := dec.SampleRate()
	info = Info{Format: FormatMP3, SampleRate: rate, Channels: h.channels, BitsPerSample: 16}
	if rate < minRate || rate > maxRate {
		return nil, info, fmt.Errorf("%w: sample rate %d Hz", ErrUnsupported, rate)
	}
	// The decoder has counted the frames (the reader can seek): refuse long
	// audio before decoding any of it.
	d := time.Duration(dec.Length()/4) * time.Second / time.Duration(rate)
	if d > limits.MaxDuration {
		return nil, info, fmt.Errorf("%w: %v, limit %v", ErrTooLong, d.Round(time.Second), limits.MaxDuration)
	}
	maxFrames := int64(limits.MaxDuration/time.Millisecond) * int64(rate) / 1000

	res := newResampler(rate, 8000, outCap(d, limits))
	buf := make([]byte, 16<<10) // 16-bit little-endian stereo from the decoder
	mono := make([]float32, 0, len(buf)/4)
	carry, frames := 0, int64(0)
	for {
		n, rerr := dec.Read(buf[carry:])
		n += carry
		mono = mono[:0]
		for i := 0; i+4 <= n; i += 4 {
			l, r := int16(uint16(buf[i])|uint16(buf[i+1])<<8), int16(uint16(buf[i+2])|uint16(buf[i+3])<<8)
			mono = append(mono, (float32(l)+float32(r))/(2*32768))
		}
		carry = copy(buf, buf[len(mono)*4:n])
		res.write(mono)
		if frames += int64(len(mono)); frames > maxFrames {
			return nil, info, fmt.Errorf("%w: more than %v", ErrTooLong, limits.MaxDuration)
		}
		if errors.Is(rerr, io.EOF) || rerr != nil && frames > 0 {
			break
		}
		if rerr != nil {
			return nil, info, fmt.Errorf("%w: %v", ErrNotAudio, rerr)
		}
	}
	return res.flush(), info, nil
}
