package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/media/tonetest"
	"switchboard/switch/phonetest"
)

// heldHears dials 201 from 200 through srv, puts the call on hold from 200
// and checks that 201 hears freq (the music on hold), then hangs up.
func heldHears(t *testing.T, srv *serveProc, freq float64) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	alice := phonetest.New(t, phonetest.Options{User: "200", Password: "sip-pass-200", Server: srv.sip})
	bob := phonetest.New(t, phonetest.Options{User: "201", Password: "sip-pass-201", Server: srv.sip, LocalIP: "127.0.0.2"})
	for _, p := range []*phonetest.Phone{alice, bob} {
		if res, err := p.Register(c, 600); err != nil || res.StatusCode != 200 {
			t.Fatalf("register: %v %v", res, err)
		}
		defer p.Close()
		defer p.Unregister(c) // the next call must not ring this phone
	}
	a, err := alice.Dial(c, "201")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Hangup(c)
	var b *phonetest.Call
	select {
	case b = <-bob.Incoming():
	case <-c.Done():
		t.Fatal("201 never answered")
	}
	b.Received()
	if res, err := a.Hold(c); err != nil || res.StatusCode != 200 {
		t.Fatalf("hold = %v %v", res, err)
	}
	var frames [][]byte
	for len(frames) < 40 && c.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		frames = append(frames, b.Received()...)
	}
	if len(frames) < 40 {
		t.Fatalf("the held party got %d audio frames", len(frames))
	}
	if r := tonetest.Detect(frames[5:], b.Codec(), freq); r < 0.8 {
		t.Fatalf("held party: %.0f Hz holds %.0f%% of the power of %d frames, want ≥ 80%%", freq, 100*r, len(frames))
	}
}

// TestMusicOnHoldCLI uploads music with the binary's CLI into a running
// server (through the control socket) and checks a held call hears it, and
// hears it again after a restart (loaded from the store at startup).
func TestMusicOnHoldCLI(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	ok(t, dir, []string{"moh", "show"}, "the built-in music, 32s", "intro: none", "the running server plays this now")
	ok(t, dir, []string{"user", "add", "--ext", "200", "--name", "Alice", "--sip-password", "sip-pass-200"})
	ok(t, dir, []string{"user", "add", "--ext", "201", "--name", "Bob", "--sip-password", "sip-pass-201"})

	mp3 := filepath.Join("media", "audioimport", "testdata", "audio", "tone-1k-3s-44100-mono.mp3")
	ok(t, dir, []string{"moh", "set", mp3}, "music set: 3", "from mp3, 44100 Hz, 1 channel)", "the running server plays this now")
	text := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(text, []byte(strings.Repeat("not music ", 100)), 0o600)
	fails(t, dir, 2, "music file refused: not a WAV or MP3 file", "moh", "set", text)
	heldHears(t, srv, 1000)

	out := filepath.Join(t.TempDir(), "moh.wav")
	ok(t, dir, []string{"moh", "export", out}, "wrote "+out)
	samples, err := tonetest.ReadWAV(out)
	if err != nil || tonetest.Ratio(samples[4000:len(samples)-4000], 1000) < 0.9 {
		t.Fatalf("exported music: %d samples, %v", len(samples), err)
	}

	srv.stop(t)
	ok(t, dir, []string{"moh", "show"}, "uploaded music, 3") // offline, from the store
	srv = startServer(t, dir)
	heldHears(t, srv, 1000)
	ok(t, dir, []string{"moh", "reset"}, "the built-in music")
}
