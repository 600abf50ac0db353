package tonetest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"switchboard/media"
)

// Sine returns ms milliseconds of a sine tone at freq Hz as 16-bit linear
// samples at 8 kHz, at Amplitude: the microphone of a real test phone.
func Sine(freq float64, ms int) []int16 {
	out := make([]int16, ms*media.SampleRate/1000)
	w := 2 * math.Pi * freq / media.SampleRate
	for n := range out {
		out[n] = int16(Amplitude * math.Sin(w*float64(n)))
	}
	return out
}

// WriteWAV writes samples as a WAV file: 8 kHz, mono, 16-bit little-endian
// PCM, the format phones' file players and recorders (baresip's aufile and
// sndfile) use for narrowband audio.
func WriteWAV(path string, samples []int16) error {
	data := 2 * len(samples)
	b := make([]byte, 44+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)                 // fmt chunk size
	binary.LittleEndian.PutUint16(b[20:], 1)                  // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)                  // mono
	binary.LittleEndian.PutUint32(b[24:], media.SampleRate)   // sample rate
	binary.LittleEndian.PutUint32(b[28:], 2*media.SampleRate) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 2)                  // block align
	binary.LittleEndian.PutUint16(b[34:], 16)                 // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return os.WriteFile(path, b, 0o644)
}

// ReadWAV reads an 8 kHz mono 16-bit PCM WAV file, skipping chunks other
// than "fmt " and "data". A data chunk whose size was never filled in (a
// recorder that did not close its file) is read to the end of the file.
func ReadWAV(path string) ([]int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%s: not a WAV file", path)
	}
	sawFmt := false
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		if size > len(body) || size == 0 && id == "data" {
			size = len(body)
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, fmt.Errorf("%s: short fmt chunk", path)
			}
			format, channels := binary.LittleEndian.Uint16(body[0:]), binary.LittleEndian.Uint16(body[2:])
			rate, bits := binary.LittleEndian.Uint32(body[4:]), binary.LittleEndian.Uint16(body[14:])
			if format != 1 || channels != 1 || rate != media.SampleRate || bits != 16 {
				return nil, fmt.Errorf("%s: format %d, %d channels, %d Hz, %d bits; want PCM mono 8000 Hz 16 bits",
					path, format, channels, rate, bits)
			}
			sawFmt = true
		case "data":
			if !sawFmt {
				return nil, fmt.Errorf("%s: data before fmt", path)
			}
			out := make([]int16, len(body)/2)
			for i := range out {
				out[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return out, nil
		}
		off += 8 + size + size%2 // chunks are padded to even sizes
	}
	return nil, errors.New(path + ": no data chunk")
}

// Heard is how long the tone at freq can be heard in samples: the total
// length of the 100 ms windows in which it holds at least 80% of the power
// and is louder than -40 dBFS. Gaps, clicks and silence (a call not yet
// connected, lost packets) do not count; a tone at another frequency does
// not either.
func Heard(samples []int16, freq float64) time.Duration {
	const window = media.SampleRate / 10
	var heard time.Duration
	for i := 0; i+window <= len(samples); i += window {
		w := samples[i : i+window]
		if Ratio(w, freq) >= 0.8 && Level(w) > -40 {
			heard += 100 * time.Millisecond
		}
	}
	return heard
}
