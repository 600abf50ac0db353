package audioimport

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/zaf/g711"
)

// WAVE format codes, from the fmt chunk or an extensible format's subformat.
const (
	wavePCM        = 1
	waveFloat      = 3
	waveALaw       = 6
	waveMuLaw      = 7
	waveExtensible = 0xFFFE
)

// ksGUIDTail is the part of a WAVE_FORMAT_EXTENSIBLE subformat GUID after its
// first two bytes (which hold the format code): KSDATAFORMAT_SUBTYPE_*.
var ksGUIDTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// Sample rates and channel counts Convert accepts.
const (
	minRate     = 8000
	maxRate     = 192000
	maxChannels = 8
)

func isRIFF(b []byte) bool { return len(b) >= 4 && string(b[:4]) == "RIFF" }

func isWAV(b []byte) bool { return len(b) >= 12 && isRIFF(b) && string(b[8:12]) == "WAVE" }

// wavFormat is what the fmt chunk says.
type wavFormat struct {
	code       uint16 // the subformat's code for an extensible format
	channels   int
	rate       int
	blockAlign int
	bits       int // size of a sample's container in bits
}

// parseWAV walks the RIFF chunks of data and returns the format and the
// audio bytes of the data chunk, cut to whole sample frames. Chunks other
// than "fmt " and "data" (LIST, fact, bext, cue, …) are skipped, odd-sized
// chunks with their pad byte.
//
// A data chunk that declares more bytes than the file holds — an upload cut
// short, or a recorder that never went back to fill in the size (0 or
// 0xFFFFFFFF) — is taken as running to the end of the file: what audio is
// there is converted. The RIFF size in the header is ignored for the same
// reason.
func parseWAV(data []byte) (wavFormat, []byte, error) {
	var f wavFormat
	sawFmt := false
	off := 12
	for len(data)-off >= 8 {
		id := string(data[off : off+4])
		size := int64(binary.LittleEndian.Uint32(data[off+4:]))
		body := data[off+8:]
		switch id {
		case "fmt ":
			if size > int64(len(body)) {
				return f, nil, fmt.Errorf("%w: truncated fmt chunk", ErrNotAudio)
			}
			var err error
			if f, err = parseFmt(body[:size]); err != nil {
				return f, nil, err
			}
			sawFmt = true
		case "data":
			if !sawFmt {
				return f, nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrUnsupported)
			}
			if size > 0 && size <= int64(len(body)) {
				body = body[:size]
			}
			return f, body[:len(body)/f.blockAlign*f.blockAlign], nil
		}
		next := int64(off) + 8 + size + size%2
		if next > int64(len(data)) {
			break
		}
		off = int(next)
	}
	if !sawFmt {
		return f, nil, fmt.Errorf("%w: WAV file without a fmt chunk", ErrNotAudio)
	}
	return f, nil, fmt.Errorf("%w: WAV file without a data chunk", ErrEmpty)
}

// parseFmt reads and checks a fmt chunk's body.
func parseFmt(b []byte) (wavFormat, error) {
	if len(b) < 16 {
		return wavFormat{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotAudio, len(b))
	}
	le := binary.LittleEndian
	f := wavFormat{
		code:       le.Uint16(b[0:]),
		channels:   int(le.Uint16(b[2:])),
		rate:       int(le.Uint32(b[4:])),
		blockAlign: int(le.Uint16(b[12:])),
		bits:       int(le.Uint16(b[14:])),
	}
	if f.code == waveExtensible {
		if len(b) < 40 || le.Uint16(b[16:]) < 22 {
			return f, fmt.Errorf("%w: extensible fmt chunk of %d bytes", ErrNotAudio, len(b))
		}
		if !bytes.Equal(b[26:40], ksGUIDTail) {
			return f, fmt.Errorf("%w: extensible WAV with an unknown subformat GUID", ErrUnsupported)
		}
		f.code = le.Uint16(b[24:])
	}
	switch {
	case f.channels < 1 || f.channels > maxChannels:
		return f, fmt.Errorf("%w: %d channels (1–%d)", ErrUnsupported, f.channels, maxChannels)
	case f.rate < minRate || f.rate > maxRate:
		return f, fmt.Errorf("%w: sample rate %d Hz (%d–%d)", ErrUnsupported, f.rate, minRate, maxRate)
	}
	var ok bool
	switch f.code {
	case wavePCM:
		ok = f.bits >= 1 && f.bits <= 32
		f.bits = (f.bits + 7) / 8 * 8 // 12 or 20 bits sit left-justified in 16 or 24
	case waveFloat:
		ok = f.bits == 32 || f.bits == 64
	case waveALaw, waveMuLaw:
		ok = f.bits == 8
	default:
		return f, fmt.Errorf("%w: WAV format code %#x (PCM, float, μ-law and A-law only)", ErrUnsupported, f.code)
	}
	if !ok {
		return f, fmt.Errorf("%w: %d bits a sample in WAV format %#x", ErrUnsupported, f.bits, f.code)
	}
	if want := f.channels * f.bits / 8; f.blockAlign != want {
		return f, fmt.Errorf("%w: block align %d, want %d for %d channels of %d bits",
			ErrUnsupported, f.blockAlign, want, f.channels, f.bits)
	}
	return f, nil
}

// decodeWAV returns a WAV file's audio at 8 kHz, mono, full scale ±1.
func decodeWAV(data []byte, limits Limits) ([]float32, Info, error) {
	f, audio, err := parseWAV(data)
	if err != nil {
		return nil, Info{}, err
	}
	info := Info{Format: FormatWAV, SampleRate: f.rate, Channels: f.channels, BitsPerSample: f.bits}
	frames := len(audio) / f.blockAlign
	if frames == 0 {
		return nil, info, fmt.Errorf("%w: empty data chunk", ErrEmpty)
	}
	d := time.Duration(frames) * time.Second / time.Duration(f.rate)
	if d > limits.MaxDuration {
		return nil, info, fmt.Errorf("%w: %v, limit %v", ErrTooLong, d.Round(time.Second), limits.MaxDuration)
	}
	sample := sampleReader(f)
	size := f.bits / 8
	res := newResampler(f.rate, 8000, outCap(d, limits))
	mono := make([]float32, 0, 4096)
	for len(audio) > 0 {
		mono = mono[:0]
		for len(audio) > 0 && len(mono) < cap(mono) {
			var sum float32
			for c := range f.channels {
				sum += sample(audio[c*size:])
			}
			mono = append(mono, sum/float32(f.channels))
			audio = audio[f.blockAlign:]
		}
		res.write(mono)
	}
	return res.flush(), info, nil
}

// sampleReader returns the function that reads one sample of format f from
// the start of a byte slice as a value in [-1, 1].
func sampleReader(f wavFormat) func([]byte) float32 {
	le := binary.LittleEndian
	switch {
	case f.code == waveMuLaw:
		return func(b []byte) float32 { return float32(g711.DecodeUlawFrame(b[0])) / 32768 }
	case f.code == waveALaw:
		return func(b []byte) float32 { return float32(g711.DecodeAlawFrame(b[0])) / 32768 }
	case f.code == waveFloat && f.bits == 32:
		return func(b []byte) float32 { return clampUnit(float64(math.Float32frombits(le.Uint32(b)))) }
	case f.code == waveFloat:
		return func(b []byte) float32 { return clampUnit(math.Float64frombits(le.Uint64(b))) }
	case f.bits == 8:
		return func(b []byte) float32 { return (float32(b[0]) - 128) / 128 }
	case f.bits == 16:
		return func(b []byte) float32 { return float32(int16(le.Uint16(b))) / (1 << 15) }
	case f.bits == 24:
		return func(b []byte) float32 {
			return float32(int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24)) / (1 << 31)
		}
	default:
		return func(b []byte) float32 { return float32(int32(le.Uint32(b))) / (1 << 31) }
	}
}

// clampUnit limits a float sample to [-1, 1], as a converter to integer PCM
// would, and reads NaN as silence.
func clampUnit(v float64) float32 {
	if math.IsNaN(v) {
		return 0
	}
	return float32(max(-1, min(1, v)))
}
