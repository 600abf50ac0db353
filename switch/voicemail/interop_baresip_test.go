package voicemail_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"switchboard/media/tonetest"
	"switchboard/store"
	"switchboard/switch/call"
	"switchboard/switch/phonetest"
	"switchboard/switch/presence"
	"switchboard/switch/route"
)

// TestInteropBaresipLeavesMessages: a real softphone (baresip, its
// microphone a 440 Hz tone) calls Alice twice. First Alice's phone rings
// and nobody answers: the default rule sends the call to voicemail. Then
// Alice turns DND on with *78 and the call goes to voicemail without
// ringing. Each time baresip talks through the greeting and beep and hangs
// up; each message must hold baresip's tone, and Alice's lamp must count
// them.
//
// Run it alone with: go test ./switch/voicemail -run Interop -v
// (needs apt-get install baresip).
func TestInteropBaresipLeavesMessages(t *testing.T) {
	bin := phonetest.RequireTool(t, "baresip", "apt-get install baresip")
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{BuiltinVoicemail: true,
		Calls: call.Config{Routing: route.Settings{RingTime: time.Second}}})
	sw.AddUser(t, "200", "secret-200")
	sw.AddUser(t, "201", "secret-201")
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	alice := sw.Phone(t, "200", "secret-200", phonetest.Options{})
	alice.SetBehavior(phonetest.Behavior{Silent: true})
	if res, err := alice.Register(ctx, 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", res, err)
	}
	lamp, _, err := alice.Subscribe(ctx, presence.EventMWI, "200", 600)
	if err != nil {
		t.Fatal(err)
	}
	mwi := func(newMsgs int) {
		t.Helper()
		for {
			n, err := lamp.Next(ctx)
			if err != nil {
				t.Fatalf("waiting for MWI %d new: %v", newMsgs, err)
			}
			s, _, err := phonetest.MWI(n)
			if err != nil {
				t.Fatal(err)
			}
			if s.New == newMsgs {
				return
			}
		}
	}
	mwi(0)

	const tone = 440.0
	mic := filepath.Join(t.TempDir(), "mic.wav")
	if err := tonetest.WriteWAV(mic, tonetest.Sine(tone, 60_000)); err != nil {
		t.Fatal(err)
	}
	bob := phonetest.StartBaresip(t, bin, phonetest.BaresipOptions{User: "201", Password: "secret-201",
		Server: sw.Addr(), Microphone: mic})
	for deadline := time.Now().Add(10 * time.Second); len(sw.Registrar().Lookup("201")) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("baresip did not register")
		}
		time.Sleep(20 * time.Millisecond)
	}

	leaveMessage := func(n int) {
		t.Helper()
		if err := bob.Command("dial", "200"); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.WaitEvent("CALL_ESTABLISHED", 15*time.Second); err != nil {
			t.Fatal(err)
		}
		// The default greeting ("the person at extension 2 0 0 is unavailable, please leave a
		// message…") and the beep take about 15 s; then about 4 s of "speech".
		time.Sleep(19 * time.Second)
		if err := bob.Command("hangup", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		mwi(n)
		msgs, err := sw.Store.Messages("200")
		if err != nil || len(msgs) != n {
			t.Fatalf("messages: %d %v, want %d", len(msgs), err, n)
		}
		m := msgs[0] // newest first
		audio, err := sw.Store.MessageAudio("200", m.ID)
		if err != nil {
			t.Fatal(err)
		}
		heard := tonetest.Heard(ulawSamples(audio), tone)
		t.Logf("message %d: %v long, %v of baresip's %.0f Hz tone", n, m.Duration, heard, tone)
		if m.Caller != "201" || heard < 2*time.Second {
			t.Fatalf("message %+v holds %v of the caller's tone, want ≥ 2 s", m, heard)
		}
	}

	leaveMessage(1)
	select {
	case <-alice.Offers():
	default:
		t.Fatal("Alice's phone did not ring before voicemail")
	}

	// DND by feature code: the next call goes straight to voicemail.
	c, err := alice.Dial(ctx, "*78")
	if err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if h, _ := sw.Store.CallHandling("200"); !h.DND {
		t.Fatal("*78 did not turn DND on")
	}
	leaveMessage(2)
	select {
	case req := <-alice.Offers():
		t.Fatalf("Alice's phone rang on DND: %s", req.StartLine())
	default:
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) { // written as the call ends
		recs, _ := sw.Store.Calls(time.Time{}, time.Time{}, 3)
		if len(recs) == 3 && recs[0].Callee == "200" && recs[0].Disposition == store.Voicemail && recs[2].Disposition == store.Voicemail {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("call records %+v, want voicemail, *78, voicemail", recs)
		}
	}
}
