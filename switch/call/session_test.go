package call_test

import (
	"context"
	"testing"
	"time"

	"switchboard/media"
	"switchboard/media/tonetest"
	"switchboard/store"
	"switchboard/switch/call"
	"switchboard/switch/ivr"
	"switchboard/switch/phonetest"
)

// scriptApp stands in for voicemail: it reads two digits, plays a tone,
// records until '#', and reports what it got.
type scriptApp struct {
	got chan scriptResult
}

type scriptResult struct {
	caller ivr.Caller
	ext    string
	digits string
	audio  []byte
	err    error
}

func (a *scriptApp) Deposit(ctx context.Context, s ivr.Session, ext string) error {
	r := scriptResult{caller: s.Caller(), ext: ext}
	defer func() { a.got <- r }()
	for range 2 {
		d, err := s.ReadDigit(ctx, 5*time.Second)
		if err != nil {
			r.err = err
			return err
		}
		r.digits += string(d)
	}
	tone := tonetest.Generate(1500, 400, media.PCMU)
	var clip []byte
	for _, f := range tone {
		clip = append(clip, f...)
	}
	if _, err := s.Play(ctx, false, clip); err != nil {
		r.err = err
		return err
	}
	r.audio, r.err = s.Record(ctx, 5*time.Second, "#")
	return r.err
}

func (a *scriptApp) Access(context.Context, ivr.Session, string, bool) error { return nil }

func (a *scriptApp) RecordGreeting(context.Context, ivr.Session, string) error { return nil }

// The switch answers a call itself and an application talks to the
// caller: digits by RFC 4733 and by SIP INFO, audio both ways.
func TestSessionDigitsPlayAndRecord(t *testing.T) {
	app := &scriptApp{got: make(chan scriptResult, 1)}
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{Voicemail: app})
	sw.AddUser(t, "200", "secret-200")
	sw.AddUser(t, "201", "secret-201")
	o := &office{sw: sw, alice: sw.Phone(t, "200", "secret-200", phonetest.Options{})}
	if res, err := o.alice.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", res, err)
	}
	o.setRules(t, "201", store.AnsweringRule{Name: "all to voicemail", First: store.RuleStep{Action: store.ActVoicemail}})

	c, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendDTMF(4); err != nil { // RFC 4733 event 4
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := c.SendInfoDigit(ctx(t), '7'); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond) // the app's tone
	if err := c.HearsTone(1500); err != nil {
		t.Errorf("the caller does not hear the application's tone: %v", err)
	}
	if err := c.SendTone(ctx(t), 1000, 600*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := c.SendDTMF(11); err != nil { // '#'
		t.Fatal(err)
	}
	var r scriptResult
	select {
	case r = <-app.got:
	case <-time.After(10 * time.Second):
		t.Fatal("the application did not finish")
	}
	if r.err != nil || r.digits != "47" || r.ext != "201" || r.caller.Device != "200" || r.caller.Dialed != "201" {
		t.Fatalf("application saw %+v", r)
	}
	var frames [][]byte
	for a := r.audio; len(a) >= 160; a = a[160:] {
		frames = append(frames, a[:160])
	}
	if err := tonetest.Check(frames, media.PCMU, 1000); err != nil {
		t.Errorf("recording (%d frames): %v", len(frames), err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the switch did not hang up when the application ended")
	}
	if rec := o.lastCall(t); rec.Disposition != store.Voicemail || rec.AnsweredBy != "voicemail" {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}

var _ call.Voicemail = (*scriptApp)(nil)
