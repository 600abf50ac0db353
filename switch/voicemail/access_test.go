package voicemail

import (
	"bytes"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/media/prompts"
	"switchboard/store"
)

// The box of 200 in the menu tests: new messages from 9:01 and 9:05, a
// saved one from 9:03. They play in the order 9:01, 9:05, 9:03.
func menuEnv(t *testing.T) (*env, map[int]store.VoiceMessage) {
	e := newEnv(t, Config{})
	if err := e.st.SetMailboxPIN("200", "1234"); err != nil {
		t.Fatal(err)
	}
	msgs := map[int]store.VoiceMessage{1: e.message(t, "200", 1, false), 3: e.message(t, "200", 3, true), 5: e.message(t, "200", 5, false)}
	return e, msgs
}

var intro = []string{"vm_you_have", "num_2", "vm_new_messages", "vm_and", "num_1", "vm_saved_message", "vm_main_menu"}

func seq(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			out = append(out, strings.Fields(p)...)
		case []string:
			out = append(out, p...)
		}
	}
	return out
}

func TestMenus(t *testing.T) {
	for _, tc := range []struct {
		name    string
		script  string
		played  []string
		deleted []int // minutes of messages gone afterwards
		unread  []int // minutes of messages still new
		mwi     int
	}{
		{name: "listen to all: save, next, next", script: "1 2 6 6",
			played: seq(intro, "vm_first_message", msgName(1), "vm_message_menu vm_message_saved",
				"vm_next_message", msgName(5), "vm_message_menu",
				"vm_next_message", msgName(3), "vm_message_menu vm_no_more_messages vm_main_menu"),
			mwi: 2},
		{name: "delete while it plays, then leave", script: "1 !3 #",
			played:  seq(intro, "vm_first_message! vm_message_deleted vm_next_message", msgName(5), "vm_message_menu goodbye"),
			deleted: []int{1}, mwi: 3},
		{name: "delete after it played", script: "1 3 *",
			played:  seq(intro, "vm_first_message", msgName(1), "vm_message_menu vm_message_deleted vm_next_message", msgName(5), "vm_message_menu vm_main_menu"),
			deleted: []int{1}, mwi: 3},
		{name: "replay", script: "1 1 !6 #",
			played: seq(intro, "vm_first_message", msgName(1), "vm_message_menu", msgName(1)+"!",
				"vm_next_message", msgName(5), "vm_message_menu goodbye"),
			mwi: 2},
		{name: "previous", script: "1 4 6 4 *",
			played: seq(intro, "vm_first_message", msgName(1), "vm_message_menu vm_no_previous_message vm_message_menu",
				"vm_next_message", msgName(5), "vm_message_menu", msgName(1), "vm_message_menu vm_main_menu"),
			mwi: 2},
		{name: "back to the main menu leaves the rest new", script: "1 * #",
			played: seq(intro, "vm_first_message", msgName(1), "vm_message_menu vm_main_menu goodbye"),
			unread: []int{5}, mwi: 1},
		{name: "invalid keys", script: "5 1 9 6 6 6 #",
			played: seq(intro, "invalid_option vm_main_menu vm_first_message", msgName(1), "vm_message_menu invalid_option vm_message_menu",
				"vm_next_message", msgName(5), "vm_message_menu vm_next_message", msgName(3), "vm_message_menu vm_no_more_messages vm_main_menu goodbye"),
			mwi: 2},
		{name: "silence three times", script: "t t t",
			played: seq(intro, intro, intro, "goodbye"), unread: []int{1, 5}},
		{name: "silence in the message menu", script: "1 t t t",
			played: seq(intro, "vm_first_message", msgName(1), "vm_message_menu vm_message_menu vm_message_menu goodbye"),
			unread: []int{5}, mwi: 1},
		{name: "leave with star", script: "*", played: seq(intro, "goodbye"), unread: []int{1, 5}},
		{name: "hang up while a message plays", script: "1 H",
			played: seq(intro), unread: []int{1, 5}},
		{name: "options: back", script: "0 * #",
			played: seq(intro, "vm_options_menu vm_main_menu goodbye"), unread: []int{1, 5}},
		{name: "options: invalid, leave", script: "0 7 #",
			played: seq(intro, "vm_options_menu invalid_option vm_options_menu goodbye"), unread: []int{1, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, msgs := menuEnv(t)
			s := newSession(t, tc.script)
			s.nameMessages(1, 3, 5)
			noErr(t, e.vm.Access(t.Context(), s, "200", false))
			checkPlayed(t, s, tc.played...)
			for minute, m := range msgs {
				got, err := e.st.Message("200", m.ID)
				gone := errors.Is(err, store.ErrNotFound)
				if gone != slices.Contains(tc.deleted, minute) {
					t.Errorf("message %d: deleted=%v (%v)", minute, gone, err)
				}
				if !gone && !got.Read != slices.Contains(tc.unread, minute) {
					t.Errorf("message %d: read=%v", minute, got.Read)
				}
			}
			if e.mwi.count() != tc.mwi {
				t.Errorf("MWI told %d times, want %d", e.mwi.count(), tc.mwi)
			}
		})
	}
}

func TestMenuEmptyBoxAndNoPIN(t *testing.T) {
	e := newEnv(t, Config{})
	s := newSession(t, "1 #")
	noErr(t, e.vm.Access(t.Context(), s, "201", false))
	// 201 has no PIN: the menu says how to get one.
	checkPlayed(t, s, "vm_no_pin", "vm_no_messages", "vm_main_menu", "vm_no_messages", "vm_main_menu", "goodbye")

	s = newSession(t, "")
	noErr(t, e.vm.Access(t.Context(), s, "299", false))
	checkPlayed(t, s, "no_mailbox", "goodbye")

	// One new message only: "you have one new message".
	e.message(t, "201", 7, false)
	s = newSession(t, "#")
	noErr(t, e.vm.Access(t.Context(), s, "201", false))
	checkPlayed(t, s, "vm_no_pin", "vm_you_have", "num_1", "vm_new_message", "vm_main_menu", "goodbye")
}

func TestMenuOptionsGreeting(t *testing.T) {
	e, _ := menuEnv(t)
	if err := e.st.PutGreeting("200", tone(1500)); err != nil {
		t.Fatal(err)
	}
	s := newSession(t, "0 2 * #")
	noErr(t, e.vm.Access(t.Context(), s, "200", false))
	checkPlayed(t, s, seq(intro, "vm_options_menu vm_greeting_deleted vm_options_menu vm_main_menu goodbye")...)
	if _, err := e.st.Greeting("200"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("greeting not deleted: %v", err)
	}

	// 0 1 records one from the menu.
	greeting := tone(2500)
	s = newSession(t, "0 1 1 * #", fakeRec{audio: greeting})
	s.name(greeting, "new-greeting")
	noErr(t, e.vm.Access(t.Context(), s, "200", false))
	checkPlayed(t, s, seq(intro, "vm_options_menu vm_record_greeting beep [record] new-greeting vm_greeting_review",
		"vm_greeting_saved vm_options_menu vm_main_menu goodbye")...)
	if g, _ := e.st.Greeting("200"); !bytes.Equal(g, greeting) {
		t.Fatal("greeting not stored")
	}
}

// login is the *98 start: box, PIN.
func login(box, pin string) string {
	return strings.Join(strings.Split(box, ""), " ") + " # " + strings.Join(strings.Split(pin, ""), " ") + " #"
}

func TestPINLogin(t *testing.T) {
	e, _ := menuEnv(t)
	if err := e.st.SetMailboxPIN("201", "5678"); err != nil {
		t.Fatal(err)
	}
	e.message(t, "201", 9, false)

	// The right PIN for the right box, typed over the prompt.
	s := newSession(t, "!"+login("200", "1234")+" #")
	noErr(t, e.vm.Access(t.Context(), s, "", true))
	checkPlayed(t, s, seq("vm_enter_mailbox! vm_enter_pin", intro, "goodbye")...)

	// Another box with its own PIN from the same phone.
	s = newSession(t, login("201", "5678")+" #")
	noErr(t, e.vm.Access(t.Context(), s, "", true))
	checkPlayed(t, s, "vm_enter_mailbox", "vm_enter_pin", "vm_you_have", "num_1", "vm_new_message", "vm_main_menu", "goodbye")

	// A known box: only the PIN.
	s = newSession(t, "1 2 3 4 # #")
	noErr(t, e.vm.Access(t.Context(), s, "200", true))
	checkPlayed(t, s, seq("vm_enter_pin", intro, "goodbye")...)

	wrong := seq("vm_enter_mailbox vm_enter_pin vm_pin_wrong", "vm_enter_mailbox vm_enter_pin vm_pin_wrong",
		"vm_enter_mailbox vm_enter_pin vm_pin_wrong goodbye")
	for _, box := range []string{"200", "299", "12345", "0"} {
		e.now = e.now.Add(time.Hour) // no lock from the round before
		s = newSession(t, login(box, "9999")+" "+login(box, "9999")+" "+login(box, "9999"))
		noErr(t, e.vm.Access(t.Context(), s, "", true))
		checkPlayed(t, s, wrong...)
	}
	// Silence at the PIN prompt counts as a try, without touching the box.
	e.now = e.now.Add(time.Hour)
	if err := e.st.SetMailboxPIN("200", "1234"); err != nil { // a clean count
		t.Fatal(err)
	}
	s = newSession(t, "2 0 0 # t")
	noErr(t, e.vm.Access(t.Context(), s, "", true))
	checkPlayed(t, s, seq("vm_enter_mailbox vm_enter_pin vm_pin_wrong vm_enter_mailbox")...)
	if m, _ := e.st.Mailbox("200"); m.FailedPINs != 0 {
		t.Fatalf("an empty PIN counted: %d failures", m.FailedPINs)
	}
}

// A box without a PIN and a box that does not exist behave exactly like a
// box with a PIN typed wrong — the lockout included.
func TestPINLockoutSameForEveryBox(t *testing.T) {
	e, _ := menuEnv(t)
	var transcripts [][]string
	for _, box := range []string{"200", "201", "299"} { // PIN 1234, no PIN, no such box
		var all []string
		// Three wrong in one call, two in the next: locked.
		s := newSession(t, login(box, "9999")+" "+login(box, "9999")+" "+login(box, "9999"))
		noErr(t, e.vm.Access(t.Context(), s, "", true))
		all = append(all, s.played...)
		s = newSession(t, login(box, "9999")+" "+login(box, "9999")+" "+login(box, "9999"))
		noErr(t, e.vm.Access(t.Context(), s, "", true))
		all = append(all, s.played...)
		// Locked: even the right PIN is refused.
		s = newSession(t, login(box, "1234"))
		noErr(t, e.vm.Access(t.Context(), s, "", true))
		all = append(all, s.played...)
		transcripts = append(transcripts, all)
	}
	want := seq(slices.Repeat([]string{"vm_enter_mailbox", "vm_enter_pin", "vm_pin_wrong"}, 3), "goodbye",
		"vm_enter_mailbox vm_enter_pin vm_pin_wrong vm_enter_mailbox vm_enter_pin vm_locked goodbye",
		"vm_enter_mailbox vm_enter_pin vm_locked goodbye")
	for i, tr := range transcripts {
		if strings.Join(tr, " ") != strings.Join(want, " ") {
			t.Errorf("box %d heard:\n  %s\nwant:\n  %s", i, strings.Join(tr, " "), strings.Join(want, " "))
		}
	}
	// After the lockout, the right PIN works again.
	e.now = e.now.Add(store.PINLockout)
	s := newSession(t, login("200", "1234")+" #")
	noErr(t, e.vm.Access(t.Context(), s, "", true))
	checkPlayed(t, s, seq("vm_enter_mailbox vm_enter_pin", intro, "goodbye")...)
}

func TestRecordGreeting(t *testing.T) {
	a, b := tone(2100), tone(2200)
	for _, tc := range []struct {
		name   string
		script string
		recs   []fakeRec
		played string
		stored []byte
	}{
		{"keep", "1", []fakeRec{{audio: a}},
			"vm_record_greeting beep [record] A vm_greeting_review vm_greeting_saved goodbye", a},
		{"keep while it plays back", "!1", []fakeRec{{audio: a}},
			"vm_record_greeting beep [record] A! vm_greeting_saved goodbye", a},
		{"again, then keep", "2 1", []fakeRec{{audio: a}, {audio: b}},
			"vm_record_greeting beep [record] A vm_greeting_review vm_record_greeting beep [record] B vm_greeting_review vm_greeting_saved goodbye", b},
		{"cancel", "3", []fakeRec{{audio: a}},
			"vm_record_greeting beep [record] A vm_greeting_review vm_greeting_unchanged goodbye", nil},
		{"invalid, then keep", "8 1", []fakeRec{{audio: a}},
			"vm_record_greeting beep [record] A vm_greeting_review invalid_option A vm_greeting_review vm_greeting_saved goodbye", a},
		{"too short, then keep", "1", []fakeRec{{audio: silence(3000)}, {audio: a}},
			"vm_record_greeting beep [record] vm_greeting_too_short vm_record_greeting beep [record] A vm_greeting_review vm_greeting_saved goodbye", a},
		{"hang-up while recording", "", []fakeRec{{audio: a, hangup: true}},
			"vm_record_greeting beep [record]", nil},
		{"hang-up before choosing", "", []fakeRec{{audio: a}},
			"vm_record_greeting beep [record] A vm_greeting_review", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			s := newSession(t, tc.script, tc.recs...)
			s.name(a, "A")
			s.name(b, "B")
			noErr(t, e.vm.RecordGreeting(t.Context(), s, "200"))
			checkPlayed(t, s, strings.Fields(tc.played)...)
			g, err := e.st.Greeting("200")
			if tc.stored == nil {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("greeting stored: %d bytes %v", len(g), err)
				}
				return
			}
			if !bytes.Equal(g, tc.stored) {
				t.Fatal("wrong greeting stored")
			}
			// And callers hear it.
			s = newSession(t, "", fakeRec{hangup: true})
			s.name(tc.stored, "mine")
			noErr(t, e.vm.Deposit(t.Context(), s, "200"))
			checkPlayed(t, s, "mine", "beep", "[record]")
		})
	}
	e := newEnv(t, Config{})
	s := newSession(t, "")
	noErr(t, e.vm.RecordGreeting(t.Context(), s, "299"))
	checkPlayed(t, s, "no_mailbox", "goodbye")
}

// Every prompt the package names exists in the binary.
func TestPromptsExist(t *testing.T) {
	names := prompts.Names()
	quoted := regexp.MustCompile(`clips?\(([^)]*)\)`)
	word := regexp.MustCompile(`"([a-z0-9_]*[a-z0-9])"`)
	for _, f := range []string{"voicemail.go", "deposit.go", "access.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, call := range quoted.FindAllSubmatch(src, -1) {
			for _, w := range word.FindAllSubmatch(call[1], -1) {
				n++
				if !slices.Contains(names, string(w[1])) {
					t.Errorf("%s: prompt %q is not embedded", f, w[1])
				}
			}
		}
		if n == 0 && f != "voicemail.go" {
			t.Errorf("%s: found no prompt names: the test's pattern is out of date", f)
		}
	}
}

// FuzzMenus presses random keys (and hangs up, waits, types over prompts)
// in the voicemail menus: whatever a caller does, the menus neither panic
// nor loop without reading keys, and only what the caller asked for
// changes.
func FuzzMenus(f *testing.F) {
	for _, s := range []string{"1266", "1!3#", "14 64*", "0 2*#", "01 1*#", "ttt", "5 19666#", "1H", "!!!!"} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("01"), true)
	tokens := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#", "t", "H", "!1", "!3", "!6", "!#", "!*", "!2"}
	f.Fuzz(func(t *testing.T, keys []byte, greeting bool) {
		if len(keys) > 200 {
			return
		}
		e, _ := menuEnv(t)
		var script []string
		for _, k := range keys {
			script = append(script, tokens[int(k)%len(tokens)])
		}
		s := newSession(t, strings.Join(script, " "), fakeRec{audio: tone(2000)}, fakeRec{audio: silence(2000)}, fakeRec{audio: tone(1500)})
		var err error
		if greeting {
			err = e.vm.RecordGreeting(t.Context(), s, "200")
		} else {
			err = e.vm.Access(t.Context(), s, "200", false)
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(s.played) > 20*(len(keys)+3) {
			t.Fatalf("%d prompts for %d keys", len(s.played), len(keys))
		}
		msgs, err := e.st.Messages("200")
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 3 {
			t.Fatalf("%d messages", len(msgs))
		}
	})
}

func TestKeyDuringNoPINNotice(t *testing.T) {
	e := newEnv(t, Config{})
	e.message(t, "201", 4, false)
	s := newSession(t, "!1 #")
	s.nameMessages(4)
	noErr(t, e.vm.Access(t.Context(), s, "201", false))
	checkPlayed(t, s, "vm_no_pin!", "vm_first_message", msgName(4), "vm_message_menu", "goodbye")
}
