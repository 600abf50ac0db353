package audioimport_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"testing"
	"testing/iotest"
	"time"

	"switchboard/media/audioimport"
	"switchboard/media/tonetest"
)

// TestConvertWAV converts a 1 kHz tone from every supported WAV form and
// expects a 1 kHz tone of the same length at about -3 dBFS peak.
func TestConvertWAV(t *testing.T) {
	var specs []wavSpec
	for _, rate := range []int{8000, 16000, 22050, 44100, 48000} {
		for _, ch := range []int{1, 2} {
			for _, enc := range []string{"pcm8", "pcm16", "pcm24", "pcm32", "float32"} {
				specs = append(specs, wavSpec{rate: rate, channels: ch, enc: enc})
			}
		}
	}
	specs = append(specs,
		wavSpec{rate: 8000, channels: 1, enc: "ulaw"},
		wavSpec{rate: 8000, channels: 1, enc: "alaw"},
		wavSpec{rate: 16000, channels: 2, enc: "ulaw"},
		wavSpec{rate: 44100, channels: 2, enc: "float64"},
		wavSpec{rate: 96000, channels: 2, enc: "pcm24", extensible: true},
		wavSpec{rate: 192000, channels: 1, enc: "pcm16"},
		wavSpec{rate: 11025, channels: 6, enc: "pcm16", extensible: true},
		wavSpec{rate: 32000, channels: 8, enc: "float32", extensible: true},
		wavSpec{rate: 44100, channels: 2, enc: "pcm16", extraChunks: true},
		wavSpec{rate: 12345, channels: 1, enc: "pcm16"}, // no small ratio to 8 kHz
	)
	for _, s := range specs {
		name := fmt.Sprintf("%d-%dch-%s", s.rate, s.channels, s.enc)
		if s.extensible {
			name += "-ext"
		}
		if s.extraChunks {
			name += "-chunks"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const d = 1500 * time.Millisecond
			ulaw, info, err := audioimport.Convert(bytes.NewReader(makeWAV(s, tone{1000, 0.5, d})), audioimport.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			want := audioimport.Info{Format: audioimport.FormatWAV, SampleRate: s.rate, Channels: s.channels,
				BitsPerSample: 8 * s.bytesPerSample(), Duration: info.Duration}
			if info != want {
				t.Errorf("info %+v, want %+v", info, want)
			}
			checkTone(t, ulaw, info, 1000, d, 20*time.Millisecond)
		})
	}
}

// checkTone checks that ulaw is a tone at freq lasting d ± tol, normalised.
func checkTone(t *testing.T, ulaw []byte, info audioimport.Info, freq float64, d, tol time.Duration) {
	t.Helper()
	got := time.Duration(len(ulaw)) * time.Second / 8000
	if got < d-tol || got > d+tol || info.Duration != got {
		t.Errorf("duration %v (info %v), want %v ± %v", got, info.Duration, d, tol)
	}
	s := decodeUlaw(ulaw)
	if r := tonetest.Ratio(middle(s), freq); r < 0.9 {
		t.Errorf("%.0f Hz holds %.1f%% of the power, want ≥ 90%%", freq, 100*r)
	}
	if p := peakDB(s); math.Abs(p+3) > 1 {
		t.Errorf("peak %.1f dBFS, want -3 ± 1", p)
	}
}

// TestConvertAliasing: a 5 kHz tone cannot be carried at 8 kHz; it must not
// come back folded down to 3 kHz.
func TestConvertAliasing(t *testing.T) {
	for _, rate := range []int{44100, 48000, 16000, 22050, 12345} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			in := tone{5000, 0.5, time.Second}
			ulaw, _, err := audioimport.Convert(bytes.NewReader(makeWAV(wavSpec{rate: rate, channels: 1, enc: "pcm16"}, in)), audioimport.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			inLevel := 20 * math.Log10(in.amp/math.Sqrt2)
			out := tonetest.Level(middle(decodeUlaw(ulaw)))
			if inLevel-out < 40 {
				t.Errorf("5 kHz at %d Hz comes out at %.1f dBFS, only %.1f dB below the input", rate, out, inLevel-out)
			}
		})
	}
}

// TestConvertPassband: a 3 kHz tone passes the low-pass nearly untouched
// (the level is normalised, so compare the tone's share of the power).
func TestConvertPassband(t *testing.T) {
	ulaw, _, err := audioimport.Convert(bytes.NewReader(makeWAV(wavSpec{rate: 44100, channels: 1, enc: "pcm16"}, tone{3000, 0.5, time.Second})), audioimport.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if r := tonetest.Ratio(middle(decodeUlaw(ulaw)), 3000); r < 0.95 {
		t.Errorf("3 kHz holds %.1f%% of the power", 100*r)
	}
}

// TestConvertQuiet: quiet audio is raised by at most 12 dB; near-silence is
// left alone; silence stays silence.
func TestConvertQuiet(t *testing.T) {
	for _, c := range []struct {
		amp, wantPeakDB float64
	}{
		{0.1, -20 + 12}, // -20 dBFS peak, boosted by the maximum
		{0.0005, -66},   // below the silence threshold: untouched
		{0, math.Inf(-1)},
	} {
		ulaw, _, err := audioimport.Convert(bytes.NewReader(makeWAV(wavSpec{rate: 8000, channels: 1, enc: "float32"}, tone{1000, c.amp, time.Second})), audioimport.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		p := peakDB(decodeUlaw(ulaw))
		if math.IsInf(c.wantPeakDB, -1) && p > -80 || !math.IsInf(c.wantPeakDB, -1) && math.Abs(p-c.wantPeakDB) > 1 {
			t.Errorf("amplitude %v: peak %.1f dBFS, want %.1f", c.amp, p, c.wantPeakDB)
		}
	}
}

// TestConvertTruncated: a data chunk cut short (or whose size was never
// written) is converted as far as it goes.
func TestConvertTruncated(t *testing.T) {
	spec := wavSpec{rate: 16000, channels: 2, enc: "pcm16"}
	full := makeWAV(spec, tone{1000, 0.5, 2 * time.Second})
	for name, b := range map[string][]byte{
		"half":      full[:len(full)/2+1], // and a partial sample frame
		"size-4GiB": withDataSize(full, 0xFFFFFFF0),
		"size-0":    withDataSize(full, 0),
	} {
		t.Run(name, func(t *testing.T) {
			ulaw, info, err := audioimport.Convert(bytes.NewReader(b), audioimport.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			want := time.Duration(len(b)-44) / 4 * time.Second / 16000
			checkTone(t, ulaw, info, 1000, want, 20*time.Millisecond)
		})
	}
}

// withDataSize returns a copy of a 44-byte-header WAV with the data chunk's
// size replaced.
func withDataSize(wav []byte, size uint32) []byte {
	b := bytes.Clone(wav)
	if string(b[36:40]) != "data" {
		panic("not a canonical header")
	}
	binary.LittleEndian.PutUint32(b[40:], size)
	return b
}

func TestConvertRefuses(t *testing.T) {
	pcm := wavSpec{rate: 8000, channels: 1, enc: "pcm16"}
	good := makeWAV(pcm, tone{1000, 0.5, 2 * time.Second})
	patch := func(off int, v ...byte) []byte { b := bytes.Clone(good); copy(b[off:], v); return b }
	u16 := func(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	mp3, err := os.ReadFile("testdata/audio/tone-1k-3s-44100-mono.mp3")
	if err != nil {
		t.Fatal(err)
	}
	extBadGUID := makeWAV(wavSpec{rate: 8000, channels: 1, enc: "pcm16", extensible: true}, tone{1000, 0.5, time.Second})
	extBadGUID[20+8+24+2] ^= 0xFF // RIFF header, fmt header, 24 bytes into the fmt body, past the code

	for _, c := range []struct {
		name   string
		in     []byte
		limits audioimport.Limits
		want   error
	}{
		{"empty", nil, audioimport.Limits{}, audioimport.ErrEmpty},
		{"text", []byte("hello, this is not audio at all\n"), audioimport.Limits{}, audioimport.ErrNotAudio},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), audioimport.Limits{}, audioimport.ErrNotAudio},
		{"avi", []byte("RIFF\x10\x00\x00\x00AVI LIST\x00\x00\x00\x00"), audioimport.Limits{}, audioimport.ErrNotAudio},
		{"riff-only", []byte("RIFF\x24\x00\x00\x00WAVE"), audioimport.Limits{}, audioimport.ErrNotAudio},
		{"truncated-fmt", good[:30], audioimport.Limits{}, audioimport.ErrNotAudio},
		{"short-fmt", patch(16, u32(12)...), audioimport.Limits{}, audioimport.ErrNotAudio},
		{"no-data", good[:36], audioimport.Limits{}, audioimport.ErrEmpty},
		{"empty-data", withDataSize(good[:44], 0), audioimport.Limits{}, audioimport.ErrEmpty},
		{"half-a-sample", withDataSize(good[:45], 1), audioimport.Limits{}, audioimport.ErrEmpty},
		{"zero-channels", patch(22, u16(0)...), audioimport.Limits{}, audioimport.ErrUnsupported},
		{"nine-channels", patch(22, u16(9)...), audioimport.Limits{}, audioimport.ErrUnsupported},
		{"rate-4000", patch(24, u32(4000)...), audioimport.Limits{}, audioimport.ErrUnsupported},
		{"rate-384000", patch(24, u32(384000)...), audioimport.Limits{}, audioimport.ErrUnsupported},
		{"block-align", patch(32, u16(4)...), audioimport.Limits{}, audioimport.ErrUnsupported},
		{"adpcm", patch(20, u16(2)...), audioimport.Limits{}, audioimport.ErrUnsupported},
		{"pcm-0-bits", patch(34, u16(0)...), audioimport.Limits{}, audioimport.ErrUnsupported},
		{"float-16-bits", patch(20, u16(3)...), audioimport.Limits{}, audioimport.ErrUnsupported},
		{"ulaw-16-bits", patch(20, u16(7)...), audioimport.Limits{}, audioimport.ErrUnsupported},
		{"ext-unknown-guid", extBadGUID, audioimport.Limits{}, audioimport.ErrUnsupported},
		{"data-before-fmt", append([]byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00\x00\x00"), good[12:36]...), audioimport.Limits{}, audioimport.ErrUnsupported},
		{"too-large", good, audioimport.Limits{MaxBytes: int64(len(good) - 1)}, audioimport.ErrTooLarge},
		{"too-long", good, audioimport.Limits{MaxDuration: time.Second}, audioimport.ErrTooLong},
		{"4GiB-declared-too-long", withDataSize(good, 0xFFFFFFF0), audioimport.Limits{MaxDuration: time.Second}, audioimport.ErrTooLong},
		{"mp3-too-long", mp3, audioimport.Limits{MaxDuration: time.Second}, audioimport.ErrTooLong},
		{"mp3-id3-only", []byte("ID3\x03\x00\x00\x00\x00\x00\x05hello"), audioimport.Limits{}, audioimport.ErrNotAudio},
		{"mp3-id3-past-end", []byte("ID3\x03\x00\x00\x7f\x7f\x7f\x7fhello"), audioimport.Limits{}, audioimport.ErrNotAudio},
		{"mp3-id3-bad-size", []byte("ID3\x03\x00\x00\xff\xff\xff\xffhello"), audioimport.Limits{}, audioimport.ErrNotAudio},
		{"mp3-header-then-junk", append([]byte{0xFF, 0xFB, 0x90, 0x64}, bytes.Repeat([]byte("junk"), 100)...), audioimport.Limits{}, audioimport.ErrNotAudio},
		{"mp3-2.5", append([]byte{0xFF, 0xE3, 0x90, 0x64}, make([]byte, 400)...), audioimport.Limits{}, audioimport.ErrUnsupported},
	} {
		t.Run(c.name, func(t *testing.T) {
			ulaw, _, err := audioimport.Convert(bytes.NewReader(c.in), c.limits)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %d bytes, %v; want %v", len(ulaw), err, c.want)
			}
			t.Log(err)
		})
	}
}

func TestConvertReadError(t *testing.T) {
	boom := errors.New("connection reset")
	_, _, err := audioimport.Convert(iotest.ErrReader(boom), audioimport.Limits{})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want %v", err, boom)
	}
}

// TestConvertTooLargeStopsReading: Convert reads no more than MaxBytes+1.
func TestConvertTooLargeStopsReading(t *testing.T) {
	r := &countingReader{}
	_, _, err := audioimport.Convert(r, audioimport.Limits{MaxBytes: 1000})
	if !errors.Is(err, audioimport.ErrTooLarge) || r.n > 1001 {
		t.Fatalf("read %d bytes, %v", r.n, err)
	}
}

// countingReader is an endless stream of zeros that counts what is read.
type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	clear(p)
	r.n += len(p)
	return len(p), nil
}

func TestConvertMP3(t *testing.T) {
	for _, c := range []struct {
		file     string
		rate, ch int
	}{
		{"tone-1k-3s-44100-mono.mp3", 44100, 1},
		{"tone-1k-3s-22050-stereo-id3.mp3", 22050, 2},
	} {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/audio/" + c.file)
			if err != nil {
				t.Fatal(err)
			}
			ulaw, info, err := audioimport.Convert(bytes.NewReader(b), audioimport.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			want := audioimport.Info{Format: audioimport.FormatMP3, SampleRate: c.rate, Channels: c.ch, BitsPerSample: 16, Duration: info.Duration}
			if info != want {
				t.Errorf("info %+v, want %+v", info, want)
			}
			// MP3 adds the encoder's delay and padding and LAME's info frame
			// (decoded as silence): up to about 2 frames of 1152 samples.
			checkTone(t, ulaw, info, 1000, 3*time.Second+50*time.Millisecond, 60*time.Millisecond)

			// Cut short, it converts as far as it goes.
			ulaw, info, err = audioimport.Convert(bytes.NewReader(b[:len(b)/2]), audioimport.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Duration < time.Second || info.Duration > 2*time.Second {
				t.Errorf("half the file: %v", info.Duration)
			}
			if r := tonetest.Ratio(middle(decodeUlaw(ulaw)), 1000); r < 0.9 {
				t.Errorf("half the file: 1 kHz holds %.1f%% of the power", 100*r)
			}
		})
	}
}

// TestConvertDeclaredSizeCostsNothing: what a header declares is never
// allocated; only what is there is.
func TestConvertDeclaredSizeCostsNothing(t *testing.T) {
	wav := withDataSize(makeWAV(wavSpec{rate: 48000, channels: 2, enc: "pcm16"}, tone{1000, 0.5, 100 * time.Millisecond}), 0xFFFFFFF0)
	mp3Tag := append([]byte("ID3\x03\x00\x00\x7f\x7f\x7f\x70"), make([]byte, 1000)...) // a tag of 256 MiB
	for name, in := range map[string][]byte{"wav": wav, "id3": mp3Tag} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		audioimport.Convert(bytes.NewReader(in), audioimport.Limits{})
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Errorf("%s: %d bytes allocated for %d bytes of input", name, alloc, len(in))
		}
	}
}
