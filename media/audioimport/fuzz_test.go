package audioimport_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"switchboard/media/audioimport"
)

// seedDir holds FuzzConvert's seeds: small valid WAVs and MP3s and broken
// ones (see testdata/fuzz/README.md at the top of the repository).
const seedDir = "../../testdata/fuzz/FuzzConvert"

// FuzzConvert: arbitrary bytes never panic, come back within the limits or
// refused with one of the package's errors, and never make Convert allocate
// much more than the input and the longest output allowed (a header
// declaring 4 GiB of audio must cost nothing).
func FuzzConvert(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(seedDir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in %s: %v", seedDir, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	limits := audioimport.Limits{MaxBytes: 1 << 20, MaxDuration: 30 * time.Second}
	f.Fuzz(func(t *testing.T, in []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		// A conversion that runs away fails the whole fuzz run, which keeps
		// the input: a hang would only stall it.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("Convert of %d bytes runs for 10 s", len(in))) })
		ulaw, info, err := audioimport.Convert(bytes.NewReader(in), limits)
		watchdog.Stop()
		runtime.ReadMemStats(&after)
		// Input copy, 30 s at 8 kHz as float32 and μ-law, a resampler table
		// of up to 512 phases × 1,300 taps, and the MP3 decoder's garbage.
		budget := 64<<20 + 64*uint64(len(in))
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > budget {
			t.Errorf("allocated %d bytes for %d bytes of input (budget %d)", alloc, len(in), budget)
		}
		if err != nil {
			for _, want := range []error{audioimport.ErrNotAudio, audioimport.ErrUnsupported, audioimport.ErrTooLarge, audioimport.ErrTooLong, audioimport.ErrEmpty} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("error outside the package's: %v", err)
		}
		if len(ulaw) == 0 || info.Duration > limits.MaxDuration || info.Duration != time.Duration(len(ulaw))*time.Second/8000 {
			t.Fatalf("%d bytes of μ-law, info %+v", len(ulaw), info)
		}
		if info.Format == audioimport.FormatUnknown || info.SampleRate < 8000 || info.SampleRate > 192000 || info.Channels < 1 || info.Channels > 8 {
			t.Fatalf("info %+v", info)
		}
	})
}

// TestWriteFuzzSeeds rewrites the generated seeds in seedDir when
// WRITE_FUZZ_SEEDS=1; otherwise it checks that they are there.
func TestWriteFuzzSeeds(t *testing.T) {
	seeds := fuzzSeeds(t)
	for name, b := range seeds {
		path := filepath.Join(seedDir, name)
		if os.Getenv("WRITE_FUZZ_SEEDS") == "1" {
			if err := os.MkdirAll(seedDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if have, err := os.ReadFile(path); err != nil || !bytes.Equal(have, b) {
			t.Errorf("%s is missing or stale (%v): run WRITE_FUZZ_SEEDS=1 go test -run TestWriteFuzzSeeds", path, err)
		}
	}
}

// fuzzSeeds returns the seed files by name: short valid files of each form
// and the broken cases the refusal tests cover.
func fuzzSeeds(t *testing.T) map[string][]byte {
	short := tone{1000, 0.5, 40 * time.Millisecond}
	pcm16 := makeWAV(wavSpec{rate: 8000, channels: 1, enc: "pcm16"}, short)
	mp3a, err := os.ReadFile("testdata/audio/tone-1k-3s-44100-mono.mp3")
	if err != nil {
		t.Fatal(err)
	}
	mp3b, err := os.ReadFile("testdata/audio/tone-1k-3s-22050-stereo-id3.mp3")
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"valid-pcm16-8k-mono.wav":          pcm16,
		"valid-pcm8-16k-stereo.wav":        makeWAV(wavSpec{rate: 16000, channels: 2, enc: "pcm8"}, short),
		"valid-pcm24-44k1-mono-chunks.wav": makeWAV(wavSpec{rate: 44100, channels: 1, enc: "pcm24", extraChunks: true}, short),
		"valid-float32-48k-stereo.wav":     makeWAV(wavSpec{rate: 48000, channels: 2, enc: "float32"}, short),
		"valid-ext-pcm32-22k05-stereo.wav": makeWAV(wavSpec{rate: 22050, channels: 2, enc: "pcm32", extensible: true}, short),
		"valid-ulaw-8k.wav":                makeWAV(wavSpec{rate: 8000, channels: 1, enc: "ulaw"}, short),
		"valid-alaw-8k.wav":                makeWAV(wavSpec{rate: 8000, channels: 1, enc: "alaw"}, short),
		"valid-mp3-44k1-mono-start.mp3":    mp3a[:1500],
		"valid-mp3-22k05-id3-start.mp3":    mp3b[:1500],
		"bad-declares-4GiB-data.wav":       withDataSize(pcm16, 0xFFFFFFF0),
		"bad-zero-channels.wav":            patched(pcm16, 22, 0, 0),
		"bad-block-align.wav":              patched(pcm16, 32, 4, 0),
		"bad-truncated-header.wav":         pcm16[:30],
		"bad-data-before-fmt.wav":          append([]byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00\x00\x00"), pcm16[12:36]...),
		"bad-id3-past-end.mp3":             []byte("ID3\x03\x00\x00\x7f\x7f\x7f\x7fhello"),
		"bad-mp3-header-then-junk.mp3":     append([]byte{0xFF, 0xFB, 0x90, 0x64}, bytes.Repeat([]byte("junk"), 50)...),
		"bad-not-audio.txt":                []byte("hello, this is not audio at all\n"),
	}
}

func patched(b []byte, off int, v ...byte) []byte {
	b = bytes.Clone(b)
	copy(b[off:], v)
	return b
}
