package call_test

import (
	"bytes"
	"testing"
	"time"

	"switchboard/media"
	"switchboard/media/tonetest"
	"switchboard/switch/call"
	"switchboard/switch/phonetest"
)

// toneULaw is ms of a tonetest tone at freq as one μ-law blob.
func toneULaw(freq float64, ms int) []byte {
	return bytes.Join(tonetest.Generate(freq, ms, media.PCMU), nil)
}

// collect waits until c has received n audio frames (at most 10 s) and
// returns them in arrival order.
func collect(t *testing.T, c *phonetest.Call, n int) [][]byte {
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

// hears fails unless most of the frames' power is at freq.
func hears(t *testing.T, what string, frames [][]byte, codec media.Codec, freq float64) {
	t.Helper()
	if r := tonetest.Detect(frames, codec, freq); r < 0.8 {
		t.Fatalf("%s: %.0f Hz holds %.0f%% of the power in %d frames, want ≥ 80%%", what, freq, 100*r, len(frames))
	}
}

// TestSetMusicLiveAndIntro changes the music on hold of a running switch:
// the next held party hears the new music, a party already on hold switches
// to newer music at once, and an intro plays once, first, to a newly held party.
func TestSetMusicLiveAndIntro(t *testing.T) {
	o := newOffice(t, call.Config{})
	calls := o.sw.Server.Calls()
	calls.SetMusic(toneULaw(440, 2000), nil)
	a, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	b := answered(t, o.bob)
	talk(t, a, b)

	b.Received()
	if res, err := a.Hold(ctx(t)); err != nil || res.StatusCode != 200 {
		t.Fatalf("hold = %v %v", res, err)
	}
	hears(t, "held party, uploaded music", collect(t, b, 25)[3:], b.Codec(), 440)

	// Live: the party on hold hears the newer music without any SIP.
	calls.SetMusic(toneULaw(1000, 2000), nil)
	time.Sleep(60 * time.Millisecond) // the frames already on their way
	b.Received()
	hears(t, "held party after SetMusic", collect(t, b, 20)[2:], b.Codec(), 1000)

	if res, err := a.Resume(ctx(t)); err != nil || res.StatusCode != 200 {
		t.Fatalf("resume = %v %v", res, err)
	}
	talk(t, a, b)

	// An intro of 600 ms at 1 kHz, then music at 440 Hz.
	calls.SetMusic(toneULaw(440, 2000), toneULaw(1000, 600))
	b.Received()
	if res, err := a.Hold(ctx(t)); err != nil || res.StatusCode != 200 {
		t.Fatalf("hold = %v %v", res, err)
	}
	frames := collect(t, b, 70)
	hears(t, "intro", frames[:28], b.Codec(), 1000)
	hears(t, "music after the intro", frames[32:70], b.Codec(), 440)

	// Back to the built-in default: it is music, not the tone.
	calls.SetMusic(nil, nil)
	time.Sleep(60 * time.Millisecond)
	b.Received()
	frames = collect(t, b, 25)
	if r := tonetest.Detect(frames, b.Codec(), 440); r > 0.5 {
		t.Fatalf("after SetMusic(nil, nil) the held party still hears the 440 Hz tone (%.0f%%)", 100*r)
	}
	var ulaw []byte
	for _, f := range frames {
		ulaw = append(ulaw, f...)
	}
	if v := media.Voiced(ulaw); v < 300*time.Millisecond {
		t.Fatalf("the default music is silent: %v voiced of %d frames", v, len(frames))
	}
	a.Hangup(ctx(t))
	o.noLeaks(t)
}
