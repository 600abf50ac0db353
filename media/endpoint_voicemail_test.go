package media_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/zaf/g711"

	"switchboard/media"
	"switchboard/media/prompts"
	"switchboard/media/tonetest"
)

func prompt(t *testing.T, name string) []byte {
	t.Helper()
	b, err := prompts.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// playAll ticks e's pacer by hand until clip has played, and returns what
// the phone heard.
func playAll(t *testing.T, e *media.Engine, p *phone, clip *media.ClipSource, tick *int64) [][]byte {
	t.Helper()
	var heard [][]byte
	for n := clip.Duration() / (20 * time.Millisecond); len(heard) < int(n); *tick++ {
		media.PaceTick(e, *tick)
		heard = append(heard, p.recv().Payload)
	}
	media.PaceTick(e, *tick)
	waitDone(t, "the clip", clip.Done())
	return heard
}

// The voicemail flow on an A-law leg, with the real prompts: "you have" +
// "three" + "new messages" arrive as the same audio, then the beep; then the
// caller speaks and presses # to end the recording, which holds the speech
// as μ-law.
func TestVoicemailFlow(t *testing.T) {
	e := newEngine(t, media.Config{})
	media.ManualPacing(e)
	p, ep := newListener(t, e, media.PCMA)
	tick := int64(1 << 20)

	parts := [][]byte{prompt(t, "vm_you_have"), prompt(t, "num_3"), prompt(t, "vm_new_messages")}
	greeting := media.Clips(parts...)
	defer ep.Play(greeting)()
	heard := bytes.Join(playAll(t, e, p, greeting, &tick), nil)
	want := bytes.Join(parts, nil)
	want = append(want, bytes.Repeat([]byte{0xFF}, len(heard)-len(want))...)
	if !bytes.Equal(heard, g711.Ulaw2Alaw(want)) {
		t.Error("the phone did not hear the prompts, in A-law")
	}

	beep := media.Clip(prompts.Beep())
	defer ep.Play(beep)()
	if heard := playAll(t, e, p, beep, &tick); media.Voiced(g711.Alaw2Ulaw(bytes.Join(heard, nil))) == 0 {
		t.Error("the beep is silent")
	}

	rec := ep.Record(time.Minute)
	keys := digits(ep)
	p.sendAudio(epAddr(ep), media.PCMA, tonetest.Generate(1000, 500, media.PCMA))
	p.sendEvent(epAddr(ep), 101, 11)
	if nextDigit(t, keys) != '#' {
		t.Fatal("no #")
	}
	rec.Stop()
	if rec.Duration() != 500*time.Millisecond || media.Voiced(rec.Audio()) != 500*time.Millisecond {
		t.Errorf("recorded %v, voiced %v; want 500ms of tone", rec.Duration(), media.Voiced(rec.Audio()))
	}
	if err := tonetest.Check(frames(rec.Audio()), media.PCMU, 1000); err != nil {
		t.Error(err)
	}
}

// The default music on hold is sound all along, as a Music it loops.
func TestDefaultMusicOnHold(t *testing.T) {
	moh := prompts.MusicOnHold()
	if v, d := media.Voiced(moh), time.Duration(len(moh))*time.Second/8000; v < d*9/10 {
		t.Errorf("music on hold voiced %v of %v", v, d)
	}
	e := newEngine(t, media.Config{})
	media.ManualPacing(e)
	p, ep := newListener(t, e, media.PCMU)
	defer ep.Play(media.NewMusic(moh))()
	loop := int64(len(moh) / 160)
	for tick := range loop + 2 {
		media.PaceTick(e, tick)
		if pkt := p.recv(); tick >= loop && !bytes.Equal(pkt.Payload, moh[(tick-loop)*160:][:160]) {
			t.Errorf("tick %d: the music did not start over", tick)
		}
	}
}
