package prompts

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/zaf/g711"
)

// Every line of prompts.txt has its audio, and every audio file is a usable
// prompt: long enough, not silent, not clipped.
func TestEveryPromptIsThere(t *testing.T) {
	f, err := os.Open("prompts.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var listed []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, text, ok := strings.Cut(line, "|")
		if !ok || text == "" {
			t.Fatalf("bad line %q", line)
		}
		listed = append(listed, name)
	}
	names := Names()
	for _, n := range append(listed, "beep", "moh_default") {
		if !slices.Contains(names, n) {
			t.Errorf("prompt %q has no audio: run make prompts", n)
		}
	}
	for _, n := range names {
		audio, err := Get(n)
		if err != nil {
			t.Fatal(err)
		}
		secs := float64(len(audio)) / 8000
		level := rmsDBFS(audio)
		if secs < 0.3 || secs > 40 || level < -35 || level > -6 {
			t.Errorf("%s: %.2f s at %.1f dBFS, want 0.3–40 s at -35…-6 dBFS", n, secs, level)
		}
	}
	if len(MusicOnHold()) != 32*8000 || len(Beep()) != 3200 {
		t.Errorf("music %d bytes, beep %d bytes", len(MusicOnHold()), len(Beep()))
	}
	if file, _ := Get("moh_default"); !bytes.Equal(MusicOnHold(), file) {
		t.Error("MusicOnHold is not moh_default")
	}
}

func rmsDBFS(ulaw []byte) float64 {
	var e float64
	for _, b := range ulaw {
		s := float64(g711.DecodeUlawFrame(b))
		e += s * s
	}
	return 20 * math.Log10(math.Sqrt(e/float64(len(ulaw)))/32768)
}

func TestGetRefusesPaths(t *testing.T) {
	for _, n := range []string{"../prompts", "audio/beep", "beep.ulaw", "nope", ""} {
		if _, err := Get(n); err == nil {
			t.Errorf("Get(%q) succeeded", n)
		}
	}
}

func TestNumber(t *testing.T) {
	for n, want := range map[int]string{
		0: "num_0", 7: "num_7", 13: "num_13", 20: "num_20", 21: "num_20 num_1", 40: "num_40", 99: "num_90 num_9",
		100: "num_1 num_100", 105: "num_1 num_100 num_5", 342: "num_3 num_100 num_40 num_2", 999: "num_9 num_100 num_90 num_9",
		-1: "", 1000: "",
	} {
		got := strings.Join(Number(n), " ")
		if got != want {
			t.Errorf("Number(%d) = %q, want %q", n, got, want)
		}
		for _, p := range Number(n) {
			if _, err := Get(p); err != nil {
				t.Errorf("Number(%d) names %q: %v", n, p, err)
			}
		}
	}
}
