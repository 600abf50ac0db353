package media_test

import (
	"bytes"
	"testing"
	"time"

	"switchboard/media"
	"switchboard/media/tonetest"
)

// frames cuts audio into 20 ms frames (a short tail is dropped).
func frames(audio []byte) [][]byte {
	var out [][]byte
	for len(audio) >= 160 {
		out = append(out, audio[:160])
		audio = audio[160:]
	}
	return out
}

// A phone speaking A-law is recorded as μ-law: a 1 kHz tone in, the same
// tone (level and frequency) out, while the endpoint plays to the phone.
func TestRecordALawAsULaw(t *testing.T) {
	e := newEngine(t, media.Config{})
	p, ep := newListener(t, e, media.PCMA)
	defer ep.Play(media.NewMusic(toneULaw(500, 1000)))() // "beep", then record: playing does not matter
	rec := ep.Record(10 * time.Second)
	p.sendAudio(epAddr(ep), media.PCMA, tonetest.Generate(1000, 1000, media.PCMA))
	waitFor(t, "a second recorded", func() bool { return rec.Duration() == time.Second })
	rec.Stop()
	rec.Stop()
	waitDone(t, "Done after Stop", rec.Done())

	audio := rec.Audio()
	if len(audio) != 8000 {
		t.Fatalf("%d samples, want 8000", len(audio))
	}
	if err := tonetest.Check(frames(audio), media.PCMU, 1000); err != nil {
		t.Error(err)
	}
	if v := media.Voiced(audio); v != time.Second {
		t.Errorf("Voiced = %v, want 1s", v)
	}
	if err := tonetest.Check(payloads(p.recvN(10)), media.PCMA, 500); err != nil {
		t.Errorf("the phone did not hear the music while recorded: %v", err)
	}
	p.sendAudio(epAddr(ep), media.PCMA, tonetest.Generate(1000, 100, media.PCMA))
	waitFor(t, "the packets after Stop", func() bool { return ep.Stats().PacketsIn == 55 })
	if rec.Duration() != time.Second {
		t.Errorf("recorded after Stop: %v", rec.Duration())
	}
}

// The RTP timestamps place the audio: a gap the phone left (VAD, loss)
// becomes silence, a late packet fills its place, a jump of the phone's
// clock beyond the wall time is closed up, a new SSRC appends.
func TestRecordPlacesByTimestamp(t *testing.T) {
	clock := newFakeClock()
	e := newEngine(t, media.Config{})
	media.SetClock(e, clock.now)
	p, ep := newListener(t, e, media.PCMU)
	to := epAddr(ep)
	rec := ep.Record(time.Minute)
	tone := tonetest.Generate(1000, 100, media.PCMU)
	sil := bytes.Repeat([]byte{0xFF}, 160)
	var want []byte

	p.sendAudio(to, media.PCMU, tone[:2]) // 0, 1
	p.ts += 160                           // frame 2 lost …
	p.sendAudio(to, media.PCMU, tone[3:4])
	p.ts -= 320
	p.sendAudio(to, media.PCMU, tone[2:3]) // … arrives late
	want = append(want, bytes.Join(tone[:4], nil)...)

	p.ts += 160 + 400 // 50 ms of VAD silence: within the jitter slack
	p.sendAudio(to, media.PCMU, tone[:1])
	want = append(append(want, bytes.Repeat([]byte{0xFF}, 400)...), tone[0]...)

	waitFor(t, "the packets so far", func() bool { return ep.Stats().PacketsIn == 5 })
	clock.advance(2 * time.Second)
	p.ts += 2 * 8000 // two seconds of silence, as the wall clock says
	p.sendAudio(to, media.PCMU, tone[1:2])
	want = append(append(want, bytes.Repeat(sil, 100)...), tone[1]...)

	p.ts += 80000 // the phone's clock jumps 10 s: appended
	p.sendAudio(to, media.PCMU, tone[2:3])
	want = append(want, tone[2]...)

	p.ts -= 3 * 8000 // jumps back 3 s: appended too, not dropped
	p.sendAudio(to, media.PCMU, tone[3:4])
	want = append(want, tone[3]...)

	p.ssrc++ // a new stream
	p.ts = 7
	p.sendAudio(to, media.PCMU, tone[4:5])
	want = append(want, tone[4]...)

	waitFor(t, "the packets", func() bool { return ep.Stats().PacketsIn == 9 })
	if got := rec.Audio(); !bytes.Equal(got, want) {
		t.Errorf("recorded %d samples, want %d", len(got), len(want))
	}
}

// A recording stops by itself at its maximum, and when the endpoint closes.
func TestRecordMaxAndClose(t *testing.T) {
	e := newEngine(t, media.Config{})
	p, ep := newListener(t, e, media.PCMU)
	rec := ep.Record(100 * time.Millisecond)
	p.sendAudio(epAddr(ep), media.PCMU, tonetest.Generate(1000, 200, media.PCMU))
	waitDone(t, "the recording's max", rec.Done())
	if rec.Duration() != 100*time.Millisecond {
		t.Errorf("Duration = %v, want 100ms", rec.Duration())
	}

	rec2 := ep.Record(0) // MaxRecording
	rec3 := ep.Record(time.Second)
	waitDone(t, "a replaced recording", rec2.Done())
	ep.Close()
	waitDone(t, "the recording at Close", rec3.Done())
	if rec := ep.Record(time.Second); rec.Duration() != 0 {
		t.Error("recording on a closed endpoint")
	} else {
		waitDone(t, "a recording on a closed endpoint", rec.Done())
	}
}

// Voiced tells an empty message (silence, line noise) from speech.
func TestVoiced(t *testing.T) {
	quiet := func(amplitude float64, ms int) []byte { // a tone at amplitude (of full scale)
		var out []byte
		for _, s := range tonetest.Sine(300, ms) {
			out = append(out, media.PCMU.Encode(int16(float64(s)*amplitude/0.5)))
		}
		return out
	}
	for _, tt := range []struct {
		name  string
		audio []byte
		want  time.Duration
	}{
		{"nothing", nil, 0},
		{"silence", bytes.Repeat([]byte{0xFF}, 8000), 0},
		{"line noise at -60 dBFS", quiet(0.0014, 1000), 0},
		{"speech level -20 dBFS", quiet(0.14, 1000), time.Second},
		{"a tone then silence", append(toneULaw(1000, 500), bytes.Repeat([]byte{0xFF}, 8000)...), 500 * time.Millisecond},
		{"a short tail is not counted", toneULaw(1000, 60)[:470], 40 * time.Millisecond},
	} {
		if got := media.Voiced(tt.audio); got != tt.want {
			t.Errorf("%s: Voiced = %v, want %v", tt.name, got, tt.want)
		}
	}
}
