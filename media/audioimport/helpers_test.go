package audioimport_test

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/zaf/g711"
)

// wavSpec describes a WAV file for makeWAV to write.
type wavSpec struct {
	rate, channels int
	enc            string // pcm8 pcm16 pcm24 pcm32 float32 float64 ulaw alaw
	extensible     bool
	extraChunks    bool // LIST and an odd-sized chunk before fmt and data
}

// tone is a sine at freq Hz and amp of full scale lasting d.
type tone struct {
	freq, amp float64
	d         time.Duration
}

func (s wavSpec) bytesPerSample() int {
	switch s.enc {
	case "pcm8", "ulaw", "alaw":
		return 1
	case "pcm16":
		return 2
	case "pcm24":
		return 3
	case "float64":
		return 8
	}
	return 4
}

func (s wavSpec) code() uint16 {
	switch s.enc {
	case "float32", "float64":
		return 3
	case "alaw":
		return 6
	case "ulaw":
		return 7
	}
	return 1
}

// makeWAV returns a WAV file of the tone in every channel.
func makeWAV(s wavSpec, t tone) []byte {
	n := int(t.d * time.Duration(s.rate) / time.Second)
	size := s.bytesPerSample()
	data := make([]byte, 0, n*s.channels*size)
	le := binary.LittleEndian
	for i := range n {
		v := t.amp * math.Sin(2*math.Pi*t.freq*float64(i)/float64(s.rate))
		for range s.channels {
			switch s.enc {
			case "pcm8":
				data = append(data, byte(math.Round(128+127*v)))
			case "pcm16":
				data = le.AppendUint16(data, uint16(int16(math.Round(32767*v))))
			case "pcm24":
				x := int32(math.Round(8388607 * v))
				data = append(data, byte(x), byte(x>>8), byte(x>>16))
			case "pcm32":
				data = le.AppendUint32(data, uint32(int32(math.Round(2147483647*v))))
			case "float32":
				data = le.AppendUint32(data, math.Float32bits(float32(v)))
			case "float64":
				data = le.AppendUint64(data, math.Float64bits(v))
			case "ulaw":
				data = append(data, g711.EncodeUlawFrame(int16(math.Round(32767*v))))
			case "alaw":
				data = append(data, g711.EncodeAlawFrame(int16(math.Round(32767*v))))
			}
		}
	}
	return wavFile(s, data)
}

// wavFile wraps audio data of spec s in a RIFF/WAVE file.
func wavFile(s wavSpec, data []byte) []byte {
	le := binary.LittleEndian
	size := s.bytesPerSample()
	fmtBody := le.AppendUint16(nil, s.code())
	if s.extensible {
		fmtBody = le.AppendUint16(nil, 0xFFFE)
	}
	fmtBody = le.AppendUint16(fmtBody, uint16(s.channels))
	fmtBody = le.AppendUint32(fmtBody, uint32(s.rate))
	fmtBody = le.AppendUint32(fmtBody, uint32(s.rate*s.channels*size))
	fmtBody = le.AppendUint16(fmtBody, uint16(s.channels*size))
	fmtBody = le.AppendUint16(fmtBody, uint16(8*size))
	if s.extensible {
		fmtBody = le.AppendUint16(fmtBody, 22)             // cbSize
		fmtBody = le.AppendUint16(fmtBody, uint16(8*size)) // valid bits
		fmtBody = le.AppendUint32(fmtBody, 0)              // channel mask
		fmtBody = le.AppendUint16(fmtBody, s.code())
		fmtBody = append(fmtBody, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
	}
	var body []byte
	body = append(body, "WAVE"...)
	if s.extraChunks {
		body = appendChunk(body, "LIST", []byte("INFOISFT\x06\x00\x00\x00Go\x00\x00\x00\x00"))
		body = appendChunk(body, "junk", []byte("odd")) // 3 bytes and a pad byte
	}
	body = appendChunk(body, "fmt ", fmtBody)
	if s.code() != 1 || s.extensible {
		body = appendChunk(body, "fact", le.AppendUint32(nil, uint32(len(data)/(s.channels*size))))
	}
	body = appendChunk(body, "data", data)
	return appendChunk(nil, "RIFF", body)
}

func appendChunk(b []byte, id string, body []byte) []byte {
	b = append(b, id...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// decodeUlaw returns the 16-bit samples of μ-law bytes.
func decodeUlaw(b []byte) []int16 {
	out := make([]int16, len(b))
	for i, c := range b {
		out[i] = g711.DecodeUlawFrame(c)
	}
	return out
}

// middle returns samples without their first and last 50 ms (the filter's
// ramps), cut to whole 20 ms frames.
func middle(s []int16) []int16 {
	if len(s) <= 800+160 {
		return s
	}
	s = s[400 : len(s)-400]
	return s[:len(s)/160*160]
}

// peakDB is the peak of samples in dBFS.
func peakDB(s []int16) float64 {
	var p float64
	for _, v := range s {
		p = max(p, math.Abs(float64(v)))
	}
	return 20 * math.Log10(p/32768)
}
