package media_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/media"
	"switchboard/media/audioimport"
)

func TestWAVLayout(t *testing.T) {
	for _, n := range []int{0, 1, 160, 8001} {
		audio := bytes.Repeat([]byte{0x12}, n)
		w := media.WAV(audio)
		le := binary.LittleEndian
		if string(w[0:4]) != "RIFF" || string(w[8:12]) != "WAVE" || int(le.Uint32(w[4:]))+8 != len(w) || len(w)%2 != 0 {
			t.Fatalf("%d bytes: bad RIFF header % x", n, w[:12])
		}
		if string(w[12:16]) != "fmt " || le.Uint16(w[20:]) != 7 || le.Uint16(w[22:]) != 1 || le.Uint32(w[24:]) != 8000 || le.Uint16(w[34:]) != 8 {
			t.Fatalf("%d bytes: bad fmt chunk % x", n, w[12:38])
		}
		if string(w[50:54]) != "data" || int(le.Uint32(w[54:])) != n || !bytes.Equal(w[58:58+n], audio) {
			t.Fatalf("%d bytes: bad data chunk", n)
		}
	}
}

// Our own importer (and so any reader that follows the format) reads the
// file back as the same length of audio at the same level.
func TestWAVReadsBack(t *testing.T) {
	audio := make([]byte, 8000)
	for i := range audio {
		audio[i] = media.PCMU.Encode(int16(8000 * ((i/4)%2*2 - 1)))
	}
	got, info, err := audioimport.Convert(bytes.NewReader(media.WAV(audio)), audioimport.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Duration != time.Second || len(got) != len(audio) {
		t.Fatalf("read back %v, %d bytes", info.Duration, len(got))
	}
	// A real peer, when there is one: sox reads the header the same way.
	sox, err := exec.LookPath("sox")
	if err != nil {
		return
	}
	path := filepath.Join(t.TempDir(), "vm.wav")
	if err := os.WriteFile(path, media.WAV(audio), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sox, "--i", path).CombinedOutput()
	if err != nil {
		t.Fatalf("sox --i: %v\n%s", err, out)
	}
	for _, want := range []string{"Channels       : 1", "Sample Rate    : 8000", "u-law", "00:00:01.00"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("sox does not say %q:\n%s", want, out)
		}
	}
}
