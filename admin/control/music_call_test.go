package control_test

import (
	"bytes"
	"testing"
	"time"

	"switchboard/admin/control"
	"switchboard/media/tonetest"
	"switchboard/switch/phonetest"
)

// collectAudio waits until c has received n audio frames (at most 10 s).
func collectAudio(t *testing.T, c *phonetest.Call, n int) [][]byte {
	t.Helper()
	var frames [][]byte
	deadline := time.Now().Add(10 * time.Second)
	for len(frames) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d audio frames arrived", len(frames), n)
		}
		time.Sleep(20 * time.Millisecond)
		frames = append(frames, c.Received()...)
	}
	return frames
}

func hearsTone(t *testing.T, what string, c *phonetest.Call, frames [][]byte, freq float64) {
	t.Helper()
	if r := tonetest.Detect(frames, c.Codec(), freq); r < 0.8 {
		t.Fatalf("%s: %.0f Hz holds %.0f%% of the power in %d frames, want ≥ 80%%", what, freq, 100*r, len(frames))
	}
}

// TestUploadedMusicOnHold uploads music through the control socket of a
// switch running on loopback, as `switchboard moh set` does, and listens
// to a held call: the held party hears the uploaded 440 Hz; with an intro
// of 1 kHz uploaded during the call, the next hold plays the intro first.
func TestUploadedMusicOnHold(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	local := &control.Local{Store: sw.Store, Reg: sw.Registrar(), Music: sw.Server.Calls()}
	if err := local.ApplyMusic(); err != nil {
		t.Fatal(err)
	}
	client := serve(t, sw.Dir, local)
	sw.AddUser(t, "200", "secret-200")
	sw.AddUser(t, "201", "secret-201")
	alice := sw.Phone(t, "200", "secret-200", phonetest.Options{})
	bob := sw.Phone(t, "201", "secret-201", phonetest.Options{LocalIP: "127.0.0.2"})
	for _, p := range []*phonetest.Phone{alice, bob} {
		if res, err := p.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
			t.Fatalf("register: %v %v", res, err)
		}
	}

	if _, err := client.SetMusic(ctx(t), control.MusicUpload{Music: bytes.NewReader(wavTone(44100, 2, 440, 3*time.Second))}); err != nil {
		t.Fatal(err)
	}
	a, err := alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	var b *phonetest.Call
	select {
	case b = <-bob.Incoming():
	case <-time.After(10 * time.Second):
		t.Fatal("201 never answered")
	}

	b.Received()
	if res, err := a.Hold(ctx(t)); err != nil || res.StatusCode != 200 {
		t.Fatalf("hold = %v %v", res, err)
	}
	hearsTone(t, "held party", b, collectAudio(t, b, 30)[3:], 440)
	if res, err := a.Resume(ctx(t)); err != nil || res.StatusCode != 200 {
		t.Fatalf("resume = %v %v", res, err)
	}

	if _, err := client.SetMusic(ctx(t), control.MusicUpload{Intro: bytes.NewReader(wavTone(48000, 1, 1000, 600*time.Millisecond))}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the bridge's last packets
	b.Received()
	if res, err := a.Hold(ctx(t)); err != nil || res.StatusCode != 200 {
		t.Fatalf("hold = %v %v", res, err)
	}
	frames := collectAudio(t, b, 70)
	hearsTone(t, "intro", b, frames[1:27], 1000)
	hearsTone(t, "music after the intro", b, frames[33:70], 440)
	a.Hangup(ctx(t))
}
