package tonetest_test

import (
	"strings"
	"testing"

	"switchboard/media"
	"switchboard/media/tonetest"
)

func TestGenerateDetect(t *testing.T) {
	for _, codec := range []media.Codec{media.PCMU, media.PCMA} {
		frames := tonetest.Generate(1000, 1000, codec)
		if len(frames) != 50 || len(frames[0]) != 160 {
			t.Fatalf("%v: %d frames of %d bytes, want 50 of 160", codec, len(frames), len(frames[0]))
		}
		tests := []struct {
			freq     float64
			min, max float64
		}{
			{1000, 0.95, 1.01},
			{2000, 0, 0.01},
			{950, 0, 0.05},
		}
		for _, tt := range tests {
			if r := tonetest.Detect(frames, codec, tt.freq); r < tt.min || r > tt.max {
				t.Errorf("%v: ratio at %v Hz = %.4f, want in [%v, %v]", codec, tt.freq, r, tt.min, tt.max)
			}
		}
	}
	silence := [][]byte{make([]byte, 160)}
	for i := range silence[0] {
		silence[0][i] = media.PCMU.Silence()
	}
	if r := tonetest.Detect(silence, media.PCMU, 1000); r != 0 {
		t.Errorf("silence: ratio %v, want 0", r)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name       string
		frames     [][]byte
		codec      media.Codec
		freq       float64
		wantErrSub string
	}{
		{"μ-law tone", tonetest.Generate(1000, 200, media.PCMU), media.PCMU, 1000, ""},
		{"A-law tone", tonetest.Generate(1000, 200, media.PCMA), media.PCMA, 1000, ""},
		{"other frequency", tonetest.Generate(2000, 200, media.PCMU), media.PCMU, 1000, "power"},
		// What a missing transcode sounds like: right frequency, wrong level.
		{"μ-law read as A-law", tonetest.Generate(1000, 200, media.PCMU), media.PCMA, 1000, "level"},
		{"A-law read as μ-law", tonetest.Generate(1000, 200, media.PCMA), media.PCMU, 1000, "level"},
		{"nothing", nil, media.PCMU, 1000, "no audio"},
	}
	for _, tt := range tests {
		err := tonetest.Check(tt.frames, tt.codec, tt.freq)
		if (err == nil) != (tt.wantErrSub == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErrSub)) {
			t.Errorf("%s: Check = %v, want error containing %q", tt.name, err, tt.wantErrSub)
		}
	}
}
