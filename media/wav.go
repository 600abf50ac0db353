package media

import "encoding/binary"

// wavHeaderSize is the RIFF header WAV writes: RIFF, an 18-byte fmt chunk,
// a fact chunk, and the data chunk's header.
const wavHeaderSize = 12 + 8 + 18 + 8 + 4 + 8

// WAV wraps 8 kHz μ-law audio (what voicemail stores) in a WAV file:
// WAVE_FORMAT_MULAW (format code 7), mono, 8 bits a sample, with the fact
// chunk non-PCM formats carry. The audio bytes are kept as they are, so
// nothing is lost, and desktop players, browsers and mail clients play it.
func WAV(ulaw []byte) []byte {
	n := len(ulaw)
	b := make([]byte, wavHeaderSize, wavHeaderSize+n+n%2)
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(wavHeaderSize-8+n+n%2))
	copy(b[8:], "WAVE")
	copy(b[12:], "fmt ")
	le.PutUint32(b[16:], 18)
	le.PutUint16(b[20:], 7)          // WAVE_FORMAT_MULAW
	le.PutUint16(b[22:], 1)          // mono
	le.PutUint32(b[24:], SampleRate) // samples a second
	le.PutUint32(b[28:], SampleRate) // bytes a second
	le.PutUint16(b[32:], 1)          // block align
	le.PutUint16(b[34:], 8)          // bits a sample
	le.PutUint16(b[36:], 0)          // no extra format bytes
	copy(b[38:], "fact")
	le.PutUint32(b[42:], 4)
	le.PutUint32(b[46:], uint32(n)) // samples
	copy(b[50:], "data")
	le.PutUint32(b[54:], uint32(n))
	b = append(b, ulaw...)
	if n%2 == 1 {
		b = append(b, 0) // chunks are padded to even sizes
	}
	return b
}
