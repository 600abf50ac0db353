package audioimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/zaf/g711"

	"switchboard/media"
)

// Errors Convert returns, wrapped with details; test them with errors.Is.
var (
	// ErrNotAudio: the input is neither a WAV nor an MP3 file, or is too
	// damaged to read as one.
	ErrNotAudio = errors.New("not a WAV or MP3 file")
	// ErrUnsupported: a WAV or MP3 file in a form Convert does not read
	// (an encoding, rate, channel count or sample size outside its range).
	ErrUnsupported = errors.New("unsupported audio format")
	// ErrTooLarge: the input is longer than Limits.MaxBytes.
	ErrTooLarge = errors.New("file too large")
	// ErrTooLong: the audio plays longer than Limits.MaxDuration.
	ErrTooLong = errors.New("audio too long")
	// ErrEmpty: the file holds no audio.
	ErrEmpty = errors.New("no audio in file")
)

// Defaults for a zero Limits field.
const (
	DefaultMaxBytes    = 20 << 20
	DefaultMaxDuration = 15 * time.Minute
)

// Limits bound what Convert accepts. A zero field takes its default.
type Limits struct {
	MaxBytes    int64         // size of the input; DefaultMaxBytes if 0
	MaxDuration time.Duration // length of the audio; DefaultMaxDuration if 0
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDuration <= 0 {
		l.MaxDuration = DefaultMaxDuration
	}
	return l
}

// Format is the container format Convert found.
type Format uint8

// The formats Convert reads.
const (
	FormatUnknown Format = iota
	FormatWAV
	FormatMP3
)

// String returns "wav", "mp3" or "unknown".
func (f Format) String() string {
	switch f {
	case FormatWAV:
		return "wav"
	case FormatMP3:
		return "mp3"
	}
	return "unknown"
}

// Info describes the input as Convert read it.
type Info struct {
	Format        Format
	SampleRate    int           // of the input, Hz
	Channels      int           // of the input
	BitsPerSample int           // of a WAV sample; 16 for MP3 (what the decoder produces)
	Duration      time.Duration // of the converted audio
}

// Convert reads one WAV or MP3 file from r, recognised by its content, and
// returns its audio as 8 kHz mono μ-law. It reads at most limits.MaxBytes+1
// bytes and refuses a longer input with ErrTooLarge, and audio longer than
// limits.MaxDuration with ErrTooLong; other errors wrap ErrNotAudio,
// ErrUnsupported or ErrEmpty. A read error from r is returned wrapped as it is.
func Convert(r io.Reader, limits Limits) (ulaw []byte, info Info, err error) {
	limits = limits.withDefaults()
	var in bytes.Buffer
	if _, err := in.ReadFrom(io.LimitReader(r, limits.MaxBytes+1)); err != nil {
		return nil, Info{}, fmt.Errorf("read upload: %w", err)
	}
	if int64(in.Len()) > limits.MaxBytes {
		return nil, Info{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limits.MaxBytes)
	}
	data := in.Bytes()
	if len(data) == 0 {
		return nil, Info{}, fmt.Errorf("%w: empty file", ErrEmpty)
	}
	var pcm []float32
	switch {
	case isWAV(data):
		pcm, info, err = decodeWAV(data, limits)
	case isRIFF(data):
		return nil, Info{}, fmt.Errorf("%w: a RIFF file, but not WAVE", ErrNotAudio)
	case isMP3(data):
		pcm, info, err = decodeMP3(data, limits)
	default:
		return nil, Info{}, ErrNotAudio
	}
	if err != nil {
		return nil, Info{}, err
	}
	if len(pcm) == 0 {
		return nil, Info{}, fmt.Errorf("%w: no samples", ErrEmpty)
	}
	info.Duration = time.Duration(len(pcm)) * time.Second / media.SampleRate
	if info.Duration > limits.MaxDuration {
		return nil, Info{}, fmt.Errorf("%w: %v, limit %v", ErrTooLong, info.Duration.Round(time.Second), limits.MaxDuration)
	}
	return encodeUlaw(pcm), info, nil
}

// Normalisation: the loudest sample is brought to targetPeak of full scale
// (-3 dBFS) with at most maxGain (+12 dB); audio whose peak is below
// silentPeak (-60 dBFS) is left as it is instead of amplifying noise.
const (
	targetPeak = 0.708
	maxGain    = 4
	silentPeak = 0.001
)

// encodeUlaw normalises pcm (full scale ±1) and codes it as μ-law.
func encodeUlaw(pcm []float32) []byte {
	var peak float32
	for _, s := range pcm {
		peak = max(peak, s, -s)
	}
	gain := float32(1)
	if peak >= silentPeak {
		gain = min(targetPeak/peak, maxGain)
	}
	out := make([]byte, len(pcm))
	for i, s := range pcm {
		v := math.Round(float64(s * gain * 32768))
		out[i] = g711.EncodeUlawFrame(int16(max(-32768, min(32767, v))))
	}
	return out
}

// outCap is a capacity for the 8 kHz output of d of audio, within limits.
func outCap(d time.Duration, limits Limits) int {
	d = min(d, limits.MaxDuration)
	return int(d/time.Millisecond)*media.SampleRate/1000 + media.SampleRate/10
}
