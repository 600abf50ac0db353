package voicemail_test

import (
	"context"
	"testing"
	"time"

	"switchboard/media"
	"switchboard/media/tonetest"
	"switchboard/store"
	"switchboard/switch/phonetest"
	"switchboard/switch/presence"
)

// The whole path on real SIP and RTP: Bob calls Alice, whose calls go to
// voicemail; he skips the greeting with #, speaks (a 1 kHz tone) and
// presses #. Alice's phone lamp lights; she dials *97, presses 1 and hears
// Bob's tone; the lamp goes off.
func TestVoicemailOverCalls(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{BuiltinVoicemail: true})
	sw.AddUser(t, "200", "secret-200")
	sw.AddUser(t, "201", "secret-201")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := sw.Store.UpdateCallHandling("200", func(h *store.CallHandling) error {
		h.Rules = []store.AnsweringRule{{Name: "all to voicemail", First: store.RuleStep{Action: store.ActVoicemail}}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	alice := sw.Phone(t, "200", "secret-200", phonetest.Options{})
	bob := sw.Phone(t, "201", "secret-201", phonetest.Options{})
	if res, err := alice.Register(ctx, 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", res, err)
	}
	lamp, _, err := alice.Subscribe(ctx, presence.EventMWI, "200", 600)
	if err != nil {
		t.Fatal(err)
	}
	mwi := func(newMsgs, old int) {
		t.Helper()
		n, err := lamp.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s, _, err := phonetest.MWI(n); err != nil || s.New != newMsgs || s.Old != old {
			t.Fatalf("MWI %+v %v, want %d/%d", s, err, newMsgs, old)
		}
	}
	mwi(0, 0)

	// Bob leaves a message.
	call, err := bob.Dial(ctx, "200")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)        // the greeting has started
	if err := call.SendDTMF(11); err != nil { // '#': skip to the tone
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond) // the beep (400 ms) and the recording starts
	call.Received()
	if err := call.SendTone(ctx, 1000, 2500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := call.SendDTMF(11); err != nil { // '#': done
		t.Fatal(err)
	}
	select {
	case <-call.Done(): // "goodbye", then the switch hangs up
	case <-ctx.Done():
		t.Fatal("the switch did not hang up after the message")
	}
	msgs, err := sw.Store.Messages("200")
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages: %+v %v", msgs, err)
	}
	if m := msgs[0]; m.Caller != "201" || m.Read || m.Duration < 2*time.Second || m.Duration > 4*time.Second ||
		m.CallID != call.Response().CallID().Value() {
		t.Fatalf("stored %+v", m)
	}
	audio, _ := sw.Store.MessageAudio("200", msgs[0].ID)
	if heard := tonetest.Heard(ulawSamples(audio), 1000); heard < 2*time.Second {
		t.Fatalf("the recording holds %v of Bob's tone", heard)
	}
	mwi(1, 0)

	// Alice listens from her phone.
	call, err = alice.Dial(ctx, "*97")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := call.SendDTMF(1); err != nil { // during "your mailbox has no PIN…": listen
		t.Fatal(err)
	}
	// "First message", then the message: listen until the tone was heard.
	var frames [][]byte
	for deadline := time.Now().Add(10 * time.Second); ; {
		time.Sleep(250 * time.Millisecond)
		frames = append(frames, call.Received()...)
		heard := tonetest.Heard(tonetest.Decode(frames, call.Codec()), 1000)
		if heard >= 1500*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alice heard %v of the message's tone in %d packets", heard, len(frames))
		}
	}
	mwi(0, 1)
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := sw.Store.Message("200", msgs[0].ID); !m.Read {
		t.Fatal("the message heard is not marked read")
	}
}

func ulawSamples(ulaw []byte) []int16 {
	var frames [][]byte
	for ; len(ulaw) >= 160; ulaw = ulaw[160:] {
		frames = append(frames, ulaw[:160])
	}
	return tonetest.Decode(frames, media.PCMU)
}
