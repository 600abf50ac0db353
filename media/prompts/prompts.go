// Package prompts holds the voice prompts, the voicemail beep and the default
// music on hold, embedded in the binary as 8 kHz μ-law (G.711) audio, ready to
// send in 160-byte RTP frames without any conversion at play time.
//
// The texts are in prompts.txt; generate.sh (make prompts) turns them into
// audio/NAME.ulaw with espeak-ng and sox, reproducibly. To replace a prompt
// with a recording of your own, convert it with
//
//	sox your.wav -D -r 8000 -c 1 -t ul media/prompts/audio/NAME.ulaw
//
// and rebuild; to change the voice, run `make prompts VOICE=en-gb`.
package prompts

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
	"unsafe"
)

//go:embed audio/*.ulaw
var files embed.FS

// Get returns the μ-law audio of a prompt ("not_available", "num_7", …).
func Get(name string) ([]byte, error) {
	if strings.ContainsAny(name, "/.") {
		return nil, fmt.Errorf("prompt %q: bad name", name)
	}
	b, err := files.ReadFile(path.Join("audio", name+".ulaw"))
	if err != nil {
		return nil, fmt.Errorf("prompt %q: not found", name)
	}
	return b, nil
}

// Names lists every embedded prompt, sorted.
func Names() []string {
	entries, _ := files.ReadDir("audio")
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".ulaw"))
	}
	sort.Strings(out)
	return out
}

// Beep is the tone before a voicemail recording.
func Beep() []byte { b, _ := Get("beep"); return b }

//go:embed audio/moh_default.ulaw
var defaultMusic string

// MusicOnHold is the default music on hold: 32 s that loop seamlessly. It is
// the binary's own copy, not one on the heap (256 kB for every holder), so
// it is read-only: writing to it crashes.
func MusicOnHold() []byte { return unsafe.Slice(unsafe.StringData(defaultMusic), len(defaultMusic)) }

// Number returns the prompts that say n (0–999) in English: 42 → num_40, num_2.
func Number(n int) []string {
	switch {
	case n < 0 || n > 999:
		return nil
	case n <= 20:
		return []string{fmt.Sprintf("num_%d", n)}
	case n < 100:
		out := []string{fmt.Sprintf("num_%d", n/10*10)}
		if n%10 != 0 {
			out = append(out, fmt.Sprintf("num_%d", n%10))
		}
		return out
	}
	out := []string{fmt.Sprintf("num_%d", n/100), "num_100"}
	if n%100 != 0 {
		out = append(out, Number(n%100)...)
	}
	return out
}
