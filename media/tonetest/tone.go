// Package tonetest makes and checks test tones carried as G.711 RTP payloads,
// so a test can prove audio went end to end (a 1 kHz tone in, a 1 kHz tone
// out) instead of only counting packets. Use it from any package's tests.
package tonetest

import (
	"fmt"
	"math"

	"switchboard/media"
)

// FrameSamples is the size of one 20 ms G.711 frame (8 kHz, 1 byte a sample).
const FrameSamples = media.SampleRate / 50

// Amplitude of generated tones: half of full scale.
const Amplitude = 16384

// ToneLevel is the RMS level of a generated tone in dBFS: 20·log10(0.5/√2).
const ToneLevel = -9.03

// Generate returns ms milliseconds (rounded down to 20 ms) of a sine tone at
// freq Hz, coded in codec, as 20 ms frames of 160 bytes. The phase runs on
// across frames.
func Generate(freq float64, ms int, codec media.Codec) [][]byte {
	frames := make([][]byte, ms/20)
	w := 2 * math.Pi * freq / media.SampleRate
	for f := range frames {
		frame := make([]byte, FrameSamples)
		for i := range frame {
			n := f*FrameSamples + i
			frame[i] = codec.Encode(int16(Amplitude * math.Sin(w*float64(n))))
		}
		frames[f] = frame
	}
	return frames
}

// Decode turns frames coded in codec into 16-bit linear samples, in order.
func Decode(frames [][]byte, codec media.Codec) []int16 {
	var out []int16
	for _, frame := range frames {
		for _, b := range frame {
			out = append(out, codec.Decode(b))
		}
	}
	return out
}

// Ratio is the share of the signal's power found at freq Hz by a Goertzel
// filter: about 1 for a pure tone at freq, about 0 for silence, noise or a
// tone elsewhere. Use a length that holds whole periods (any multiple of
// 20 ms does for 1 kHz) to keep leakage out.
func Ratio(samples []int16, freq float64) float64 {
	var energy float64
	for _, s := range samples {
		energy += float64(s) * float64(s)
	}
	if energy == 0 {
		return 0
	}
	n := float64(len(samples))
	return 2 * goertzel(samples, freq) / (n * energy)
}

// goertzel returns |X(freq)|², the squared magnitude of the samples' DFT at
// freq (any frequency, not only a bin centre).
func goertzel(samples []int16, freq float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/media.SampleRate)
	var s1, s2 float64
	for _, x := range samples {
		s1, s2 = float64(x)+coeff*s1-s2, s1
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// Detect decodes frames and returns Ratio at freq: the tone check in one call.
func Detect(frames [][]byte, codec media.Codec, freq float64) float64 {
	return Ratio(Decode(frames, codec), freq)
}

// Level is the RMS level of samples in dBFS (full scale 32768); -Inf for
// silence. The frequency alone does not prove the right codec: μ-law bytes
// read as A-law still ring at the tone's frequency, but about 9 dB quieter.
func Level(samples []int16) float64 {
	var energy float64
	for _, s := range samples {
		energy += float64(s) * float64(s)
	}
	return 20 * math.Log10(math.Sqrt(energy/float64(max(len(samples), 1)))/32768)
}

// Check reports whether frames, decoded as codec, are a tone made by Generate
// at freq: at least 90% of the power at freq and the level within 1.5 dB of
// ToneLevel.
func Check(frames [][]byte, codec media.Codec, freq float64) error {
	samples := Decode(frames, codec)
	if len(samples) == 0 {
		return fmt.Errorf("no audio")
	}
	if r := Ratio(samples, freq); r < 0.9 {
		return fmt.Errorf("%.0f Hz holds %.0f%% of the power, want ≥ 90%%", freq, 100*r)
	}
	if l := Level(samples); math.Abs(l-ToneLevel) > 1.5 {
		return fmt.Errorf("level %.1f dBFS, want %.1f ± 1.5 (wrong codec?)", l, ToneLevel)
	}
	return nil
}
