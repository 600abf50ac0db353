package voicemail

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"switchboard/store"
)

var defaultGreeting = []string{"vm_person_at_extension", "num_2", "num_0", "num_0", "vm_is_unavailable", "leave_message"}

func TestDeposit(t *testing.T) {
	speech := append(tone(2500), silence(500)...)
	for _, tc := range []struct {
		name     string
		script   string
		greeting []byte // the box's own greeting
		rec      fakeRec
		stored   bool
		played   []string
	}{
		{name: "default greeting, # ends", rec: fakeRec{audio: speech}, stored: true,
			played: append(defaultGreeting, "beep", "[record]", "goodbye")},
		{name: "caller hangs up after speaking", rec: fakeRec{audio: speech, hangup: true}, stored: true,
			played: append(defaultGreeting, "beep", "[record]")},
		{name: "own greeting", greeting: tone(1234), rec: fakeRec{audio: speech}, stored: true,
			played: []string{"greeting", "beep", "[record]", "goodbye"}},
		{name: "# skips the greeting", script: "!#", greeting: tone(1234), rec: fakeRec{audio: speech}, stored: true,
			played: []string{"greeting!", "beep", "[record]", "goodbye"}},
		{name: "# skips the default greeting", script: "!#", rec: fakeRec{audio: speech}, stored: true,
			played: []string{"vm_person_at_extension!", "beep", "[record]", "goodbye"}},
		{name: "silence is dropped", rec: fakeRec{audio: silence(5000)},
			played: append(defaultGreeting, "beep", "[record]", "goodbye")},
		{name: "too short is dropped", rec: fakeRec{audio: append(tone(600), silence(3000)...), hangup: true},
			played: append(defaultGreeting, "beep", "[record]")},
		{name: "hang-up during the greeting", script: "H",
			played: nil},
		{name: "nothing recorded", rec: fakeRec{hangup: true},
			played: append(defaultGreeting, "beep", "[record]")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			if tc.greeting != nil {
				if err := e.st.PutGreeting("200", tc.greeting); err != nil {
					t.Fatal(err)
				}
			}
			s := newSession(t, tc.script, tc.rec)
			s.name(tc.greeting, "greeting")
			noErr(t, e.vm.Deposit(t.Context(), s, "200"))
			checkPlayed(t, s, tc.played...)
			msgs, err := e.st.Messages("200")
			if err != nil {
				t.Fatal(err)
			}
			if !tc.stored {
				if len(msgs) != 0 || e.mwi.count() != 0 {
					t.Fatalf("%d messages stored, MWI told %d times", len(msgs), e.mwi.count())
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("%d messages stored", len(msgs))
			}
			m := msgs[0]
			want := store.VoiceMessage{ID: m.ID, Ext: "200", Caller: "201", CallerName: "Bob Jones", Time: e.now,
				Duration: 3 * time.Second}
			if m != want {
				t.Fatalf("stored %+v, want %+v", m, want)
			}
			audio, _ := e.st.MessageAudio("200", m.ID)
			if !bytes.Equal(audio, speech) {
				t.Fatal("stored audio is not the recording")
			}
			if e.mwi.changed[0] != "200" || e.mwi.count() != 1 {
				t.Fatalf("MWI told %v", e.mwi.changed)
			}
		})
	}
}

func TestDepositLimits(t *testing.T) {
	e := newEnv(t, Config{MaxMessages: 2, MaxMessage: 2 * time.Second})
	s := newSession(t, "", fakeRec{audio: tone(5000)})
	noErr(t, e.vm.Deposit(t.Context(), s, "200"))
	msgs, _ := e.st.Messages("200")
	if len(msgs) != 1 || msgs[0].Duration != 2*time.Second {
		t.Fatalf("messages %+v: want one cut at 2 s", msgs)
	}
	e.message(t, "200", 1, true)
	s = newSession(t, "")
	noErr(t, e.vm.Deposit(t.Context(), s, "200"))
	checkPlayed(t, s, "mailbox_full", "goodbye")

	s = newSession(t, "")
	noErr(t, e.vm.Deposit(t.Context(), s, "299"))
	checkPlayed(t, s, "no_mailbox", "goodbye")
}

func TestDepositEmail(t *testing.T) {
	speech := tone(3000)
	for _, tc := range []struct {
		name          string
		attach, keep  bool
		fail          error
		kept          bool
		mwi           int
		wantAttached  bool
		wantDelivered bool
	}{
		{name: "attach and keep", attach: true, keep: true, kept: true, mwi: 1, wantAttached: true, wantDelivered: true},
		{name: "no attachment", attach: false, keep: true, kept: true, mwi: 1, wantDelivered: true},
		{name: "email only", attach: true, keep: false, kept: false, mwi: 0, wantAttached: true, wantDelivered: true},
		{name: "email fails: kept anyway", attach: true, keep: false, fail: errors.New("smtp down"), kept: true, mwi: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			e.mail.fail = tc.fail
			if _, err := e.st.UpdateMailbox("200", func(m *store.Mailbox) error {
				m.Email, m.EmailAudio, m.KeepAfterEmail = "alice@example.com", tc.attach, tc.keep
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			noErr(t, e.vm.Deposit(t.Context(), newSession(t, "", fakeRec{audio: speech}), "200"))
			e.vm.Wait()
			msgs, _ := e.st.Messages("200")
			if (len(msgs) == 1) != tc.kept {
				t.Fatalf("%d messages in the box, want kept=%v", len(msgs), tc.kept)
			}
			if e.mwi.count() != tc.mwi {
				t.Fatalf("MWI told %d times, want %d", e.mwi.count(), tc.mwi)
			}
			if (len(e.mail.sent) == 1) != tc.wantDelivered {
				t.Fatalf("%d emails", len(e.mail.sent))
			}
			if !tc.wantDelivered {
				return
			}
			sent := e.mail.sent[0]
			if sent.to != "alice@example.com" || sent.msg.Caller != "201" || sent.msg.CallerName != "Bob Jones" {
				t.Fatalf("email %+v", sent)
			}
			if tc.wantAttached != bytes.Equal(sent.audio, speech) || (!tc.wantAttached && sent.audio != nil) {
				t.Fatalf("attached %d bytes, want attached=%v", len(sent.audio), tc.wantAttached)
			}
		})
	}
}
