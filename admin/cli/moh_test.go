package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/admin/control"
	"switchboard/media"
)

// toneWAV is d seconds of a 440 Hz sine as an 8 kHz mono 16-bit WAV file.
func toneWAV(t *testing.T, dir, name string, freq float64, seconds float64) string {
	t.Helper()
	ulaw := make([]byte, int(seconds*media.SampleRate))
	for i := range ulaw {
		ulaw[i] = media.PCMU.Encode(int16(16000 * math.Sin(2*math.Pi*freq*float64(i)/media.SampleRate)))
	}
	var b bytes.Buffer
	if err := writeWAV(&b, ulaw); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMohCommands(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	music := toneWAV(t, tmp, "music.wav", 440, 2)
	intro := toneWAV(t, tmp, "intro.wav", 1000, 0.5)
	text := filepath.Join(tmp, "notes.txt")
	os.WriteFile(text, []byte("not audio at all\n"), 0o600)
	huge := filepath.Join(tmp, "huge.wav")
	if f, err := os.Create(huge); err == nil {
		f.Truncate(control.MaxMusicUpload + 1) // sparse: costs no disk
		f.Close()
	}

	// Refused before anything is created: bad files and flags.
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"moh", "set", huge}, "at most 50 MB"},
		{[]string{"moh", "set", filepath.Join(tmp, "missing.wav")}, "no such file"},
		{[]string{"moh", "set", tmp}, "not a file"},
		{[]string{"moh", "set", music, "--intro", intro, "--no-intro"}, "contradict"},
		{[]string{"moh", "intro"}, "--no-intro"},
		{[]string{"moh", "intro", intro, "--no-intro"}, "not both"},
		{[]string{"moh", "set"}, "accepts 1 arg"},
		{[]string{"moh", "show"}, "no Switchboard data"},
	} {
		code, _, stderr, _ := execute(t, append([]string{"--data", data}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.msg) {
			t.Fatalf("%q: code %d, stderr %q; want 2 and %q", c.args, code, stderr, c.msg)
		}
	}
	if _, err := os.Stat(data); err == nil {
		t.Fatal("a refused command created the data directory")
	}

	code, stdout, stderr, _ := execute(t, "--data", data, "moh", "set", music, "--intro", intro)
	if code != 0 || !strings.Contains(stdout, "music set: 2s (from wav, 8000 Hz, 1 channel, 16-bit)") ||
		!strings.Contains(stdout, "intro set: 500ms") || !strings.Contains(stdout, "uploaded music, 2s") {
		t.Fatalf("moh set: %d\n%s%s", code, stdout, stderr)
	}
	// A file that is not audio: exit 2, nothing changes.
	code, stdout, stderr, _ = execute(t, "--data", data, "moh", "set", text)
	if code != 2 || !strings.Contains(stderr, "music file refused: not a WAV or MP3 file") || stdout != "" {
		t.Fatalf("moh set text: %d %q %q", code, stdout, stderr)
	}
	code, stdout, _, _ = execute(t, "--data", data, "moh", "show")
	if code != 0 || !strings.Contains(stdout, "uploaded music, 2s") || !strings.Contains(stdout, "intro: 500ms") {
		t.Fatalf("moh show: %d %s", code, stdout)
	}

	out := filepath.Join(tmp, "out.wav")
	code, stdout, stderr, _ = execute(t, "--data", data, "moh", "export", out)
	if code != 0 || !strings.Contains(stdout, "2s of 8 kHz") {
		t.Fatalf("moh export: %d %s %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || len(b) != 44+2*16000 || string(b[:4]) != "RIFF" || binary.LittleEndian.Uint32(b[24:]) != 8000 {
		t.Fatalf("exported file: %d bytes, %v", len(b), err)
	}

	code, stdout, _, _ = execute(t, "--data", data, "moh", "intro", "--no-intro")
	if code != 0 || !strings.Contains(stdout, "intro removed") || !strings.Contains(stdout, "intro: none") {
		t.Fatalf("moh intro --no-intro: %d %s", code, stdout)
	}
	code, _, stderr, _ = execute(t, "--data", data, "moh", "export", "--intro", out)
	if code != 3 || !strings.Contains(stderr, "no intro is set") {
		t.Fatalf("export of no intro: %d %s", code, stderr)
	}
	code, stdout, _, _ = execute(t, "--data", data, "moh", "intro", intro)
	if code != 0 || !strings.Contains(stdout, "intro: 500ms") {
		t.Fatalf("moh intro FILE: %d %s", code, stdout)
	}
	code, stdout, _, _ = execute(t, "--data", data, "moh", "reset")
	if code != 0 || !strings.Contains(stdout, "the built-in music, 32s") || !strings.Contains(stdout, "intro: none") {
		t.Fatalf("moh reset: %d %s", code, stdout)
	}
	code, stdout, _, _ = execute(t, "--data", data, "moh", "show", "--json")
	var shown control.MusicView
	if code != 0 || json.Unmarshal([]byte(stdout), &shown) != nil || shown.Custom || shown.Music != 32*time.Second {
		t.Fatalf("moh show --json: %d %s", code, stdout)
	}
}
