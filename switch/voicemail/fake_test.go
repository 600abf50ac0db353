package voicemail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/media"
	"switchboard/media/prompts"
	"switchboard/media/tonetest"
	"switchboard/store"
	"switchboard/switch/ivr"
)

// fakeSession is a scripted caller. The script is a list of tokens:
//
//	"1" … "9", "0", "*", "#"  a key, read by the next ReadDigit
//	"!1" …                    a key pressed during the next interruptible Play
//	                          (stops it), or read by ReadDigit
//	"t"                       ReadDigit waits in vain (timeout)
//	"H"                       the caller hangs up at the next call
//
// When the script runs out, the caller hangs up at the next ReadDigit.
// Record returns the next of recs. Everything played is logged by name
// (an interrupted Play logs its first clip with a trailing "!").
type fakeSession struct {
	t      *testing.T
	caller ivr.Caller
	script []string
	recs   []fakeRec
	names  map[string]string // audio → name
	played []string
	hungUp bool
}

type fakeRec struct {
	audio  []byte
	hangup bool // the caller hangs up at the end of it instead of pressing #
}

func newSession(t *testing.T, script string, recs ...fakeRec) *fakeSession {
	s := &fakeSession{t: t, caller: ivr.Caller{Device: "201", Number: "201", Name: "Bob Jones", Dialed: "200"},
		script: strings.Fields(script), recs: recs, names: map[string]string{}}
	for _, n := range prompts.Names() {
		b, _ := prompts.Get(n)
		s.names[string(b)] = n
	}
	return s
}

// name gives audio a name in the log.
func (s *fakeSession) name(audio []byte, name string) { s.names[string(audio)] = name }

func (s *fakeSession) nameOf(b []byte) string {
	if n, ok := s.names[string(b)]; ok {
		return n
	}
	return fmt.Sprintf("audio(%d)", len(b))
}

func (s *fakeSession) next() (string, bool) {
	if len(s.script) == 0 {
		return "", false
	}
	tok := s.script[0]
	s.script = s.script[1:]
	return tok, true
}

func (s *fakeSession) Caller() ivr.Caller { return s.caller }

func (s *fakeSession) Play(ctx context.Context, interrupt bool, clips ...[]byte) (byte, error) {
	if s.hungUp {
		return 0, ivr.ErrHangup
	}
	if len(s.script) > 0 && s.script[0] == "H" {
		s.next()
		s.hungUp = true
		return 0, ivr.ErrHangup
	}
	if interrupt && len(s.script) > 0 && strings.HasPrefix(s.script[0], "!") {
		tok, _ := s.next()
		s.played = append(s.played, s.nameOf(clips[0])+"!")
		return tok[1], nil
	}
	for _, c := range clips {
		s.played = append(s.played, s.nameOf(c))
	}
	return 0, nil
}

func (s *fakeSession) ReadDigit(ctx context.Context, timeout time.Duration) (byte, error) {
	if s.hungUp {
		return 0, ivr.ErrHangup
	}
	tok, ok := s.next()
	switch {
	case !ok || tok == "H":
		s.hungUp = true
		return 0, ivr.ErrHangup
	case tok == "t":
		return 0, nil
	}
	return tok[len(tok)-1], nil
}

func (s *fakeSession) Record(ctx context.Context, max time.Duration, stop string) ([]byte, error) {
	if s.hungUp {
		return nil, ivr.ErrHangup
	}
	if stop != "#" {
		s.t.Errorf("record stops at %q, want #", stop)
	}
	s.played = append(s.played, "[record]")
	if len(s.recs) == 0 {
		s.hungUp = true
		return nil, ivr.ErrHangup
	}
	r := s.recs[0]
	s.recs = s.recs[1:]
	audio := r.audio
	if limit := int(max / (time.Second / media.SampleRate)); len(audio) > limit {
		audio = audio[:limit]
	}
	if r.hangup {
		s.hungUp = true
		return audio, ivr.ErrHangup
	}
	return audio, nil
}

// tone is ms of a loud 440 Hz tone as μ-law: a caller speaking.
func tone(ms int) []byte {
	pcm := tonetest.Sine(440, ms)
	out := make([]byte, len(pcm))
	for i, v := range pcm {
		out[i] = media.PCMU.Encode(v)
	}
	return out
}

// silence is ms of μ-law silence.
func silence(ms int) []byte { return bytes.Repeat([]byte{0xff}, ms*media.SampleRate/1000) }

// fakeMWI records the boxes it is told about.
type fakeMWI struct {
	mu      sync.Mutex
	changed []string
}

func (f *fakeMWI) Changed(ext string) {
	f.mu.Lock()
	f.changed = append(f.changed, ext)
	f.mu.Unlock()
}

func (f *fakeMWI) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.changed)
}

// fakeMailer records deliveries and fails when told to.
type fakeMailer struct {
	mu   sync.Mutex
	sent []sentMail
	fail error
}

type sentMail struct {
	to    string
	msg   store.VoiceMessage
	audio []byte
}

func (f *fakeMailer) Deliver(ctx context.Context, to string, msg store.VoiceMessage, audio []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.sent = append(f.sent, sentMail{to, msg, audio})
	return nil
}

// env is a voicemail system on a real store with users 200 and 201.
type env struct {
	st   *store.Store
	vm   *Voicemail
	mwi  *fakeMWI
	mail *fakeMailer
	now  time.Time
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, ext := range []string{"200", "201"} {
		d := store.Device{ID: ext, Ext: ext}
		d.SetSIPPassword("switchboard", "pw")
		if err := st.CreateUser(store.User{Ext: ext, FirstName: "User", LastName: ext, Role: store.RoleUser}, d); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{st: st, mwi: &fakeMWI{}, mail: &fakeMailer{}, now: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return e.now }
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e.vm = New(Deps{Store: st, MWI: e.mwi, Mail: e.mail, Log: log}, cfg)
	t.Cleanup(e.vm.Close)
	return e
}

// message stores a message for ext at minute m after 9:00, read or not, with
// a tone as its audio, and names it in the session log as "msg:NAME".
func (e *env) message(t *testing.T, ext string, minute int, read bool) store.VoiceMessage {
	t.Helper()
	m, err := e.st.SaveMessage(store.VoiceMessage{Ext: ext, Caller: "201",
		Time: time.Date(2026, 3, 1, 9, minute, 0, 0, time.UTC), Duration: 2 * time.Second}, tone(2000+minute))
	if err != nil {
		t.Fatal(err)
	}
	if read {
		if err := e.st.SetMessageRead(ext, m.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func msgName(minute int) string { return fmt.Sprintf("msg@%d", minute) }

func (s *fakeSession) nameMessages(minutes ...int) {
	for _, m := range minutes {
		s.name(tone(2000+m), msgName(m))
	}
}

func checkPlayed(t *testing.T, s *fakeSession, want ...string) {
	t.Helper()
	if strings.Join(s.played, " ") != strings.Join(want, " ") {
		t.Fatalf("played:\n  %s\nwant:\n  %s", strings.Join(s.played, " "), strings.Join(want, " "))
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ivr.ErrHangup) {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatalf("application returned %v; hang-ups are a normal end", err)
	}
}
