package tonetest_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"switchboard/media/tonetest"
)

func TestWAVRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tone.wav")
	want := tonetest.Sine(440, 500)
	if len(want) != 4000 {
		t.Fatalf("500 ms = %d samples, want 4000", len(want))
	}
	if err := tonetest.WriteWAV(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := tonetest.ReadWAV(path)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("read back %d samples (%v), want the %d written", len(got), err, len(want))
	}
	if r := tonetest.Ratio(got, 440); r < 0.99 {
		t.Fatalf("ratio at 440 Hz = %.3f", r)
	}
}

// TestReadWAVLikeARecorder reads files as recorders leave them: an extra
// chunk before the data, and a data size never filled in.
func TestReadWAVLikeARecorder(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.wav")
	samples := tonetest.Sine(1000, 100)
	if err := tonetest.WriteWAV(plain, samples); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(plain)
	list := append([]byte("LIST\x03\x00\x00\x00abc\x00"), b[36:]...) // odd size: one pad byte
	extra := append(slices.Clone(b[:36]), list...)
	unsized := slices.Clone(b)
	binary.LittleEndian.PutUint32(unsized[40:], 0)
	for name, file := range map[string][]byte{"extra chunk": extra, "unsized data": unsized} {
		path := filepath.Join(dir, name+".wav")
		os.WriteFile(path, file, 0o600)
		if got, err := tonetest.ReadWAV(path); err != nil || !slices.Equal(got, samples) {
			t.Errorf("%s: %d samples (%v), want %d", name, len(got), err, len(samples))
		}
	}
	stereo := slices.Clone(b)
	binary.LittleEndian.PutUint16(stereo[22:], 2)
	path := filepath.Join(dir, "stereo.wav")
	os.WriteFile(path, stereo, 0o600)
	if _, err := tonetest.ReadWAV(path); err == nil {
		t.Error("a stereo file was read as mono")
	}
}

func TestHeard(t *testing.T) {
	samples := tonetest.Sine(440, 1000)
	samples = append(samples, make([]int16, 8000)...) // a second of silence
	samples = append(samples, tonetest.Sine(1000, 500)...)
	for _, tt := range []struct {
		freq float64
		want time.Duration
	}{{440, time.Second}, {1000, 500 * time.Millisecond}, {1500, 0}} {
		if got := tonetest.Heard(samples, tt.freq); got != tt.want {
			t.Errorf("Heard(%v Hz) = %v, want %v", tt.freq, got, tt.want)
		}
	}
}
