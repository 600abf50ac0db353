package media

import (
	"strconv"

	"github.com/zaf/g711"
)

// Codec is the RTP payload type of a G.711 codec, the only codecs the switch
// speaks on its SIP side.
type Codec uint8

// The static RTP payload types of RFC 3551.
const (
	PCMU Codec = 0 // G.711 μ-law
	PCMA Codec = 8 // G.711 A-law
)

// SampleRate is the clock rate of G.711 and of telephone-events in the switch.
const SampleRate = 8000

// String returns the SDP encoding name ("PCMU", "PCMA") or the number.
func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return strconv.Itoa(int(c))
}

// Valid reports whether c is one of the G.711 codecs.
func (c Codec) Valid() bool { return c == PCMU || c == PCMA }

// Silence returns the code of a zero sample in c.
func (c Codec) Silence() byte {
	if c == PCMA {
		return 0xD5
	}
	return 0xFF
}

// Decode returns the 16-bit linear value of one sample coded in c.
func (c Codec) Decode(b byte) int16 {
	if c == PCMA {
		return g711.DecodeAlawFrame(b)
	}
	return g711.DecodeUlawFrame(b)
}

// Encode returns the code of one 16-bit linear sample in c.
func (c Codec) Encode(s int16) byte {
	if c == PCMA {
		return g711.EncodeAlawFrame(s)
	}
	return g711.EncodeUlawFrame(s)
}

// transcode writes src, coded in from, into dst coded in to, and returns the
// number of bytes written (len(src), or len(dst) if that is shorter).
func transcode(dst, src []byte, from, to Codec) int {
	n := min(len(dst), len(src))
	switch {
	case from == PCMU && to == PCMA:
		for i, b := range src[:n] {
			dst[i] = g711.Ulaw2AlawFrame(b)
		}
	case from == PCMA && to == PCMU:
		for i, b := range src[:n] {
			dst[i] = g711.Alaw2UlawFrame(b)
		}
	default:
		copy(dst, src[:n])
	}
	return n
}
