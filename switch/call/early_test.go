package call_test

import (
	"testing"
	"time"

	"switchboard/media"
	"switchboard/media/tonetest"
	"switchboard/store"
	"switchboard/switch/call"
	"switchboard/switch/phonetest"
)

// A callee that sends early media (183 with SDP, its own ringback or an
// announcement) is heard by the caller before the answer; after the
// answer the same bridge carries the conversation.
func TestCalleeEarlyMediaReachesTheCaller(t *testing.T) {
	o := newOffice(t, call.Config{})
	o.bob.SetBehavior(phonetest.Behavior{EarlyTone: 700, Delay: 1500 * time.Millisecond})
	a, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	early := a.Received() // everything heard before Dial returned: before the answer
	if len(early) < 40 {
		t.Fatalf("caller heard %d packets before the answer, want about 1.5 s of early media", len(early))
	}
	if r := tonetest.Detect(early[10:], media.PCMU, 700); r < 0.9 {
		t.Fatalf("early media holds %.0f%% at 700 Hz", 100*r)
	}
	b := answered(t, o.bob)
	talk(t, a, b)
	a.Hangup(ctx(t))
	if rec := o.lastCall(t); rec.Disposition != store.Answered {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}

// Two phones ring; the one playing early media does not answer, the other
// does: the caller then talks to the one that answered, not to the early
// media.
func TestEarlyMediaGivesWayToTheAnswer(t *testing.T) {
	o := newOffice(t, call.Config{})
	o.sw.AddDevice(t, "201", "201b", "secret-201b")
	o.bob.SetBehavior(phonetest.Behavior{EarlyTone: 700, Delay: time.Minute})
	mobile := o.sw.Phone(t, "201b", "secret-201b", phonetest.Options{LocalIP: "127.0.0.3"})
	mobile.SetBehavior(phonetest.Behavior{Delay: 800 * time.Millisecond})
	if res, err := mobile.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register 201b: %v %v", res, err)
	}
	a, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	if early := a.Received(); len(early) < 20 || tonetest.Detect(early[5:], media.PCMU, 700) < 0.9 {
		t.Fatalf("caller heard %d packets of early media before the answer", len(early))
	}
	b := answered(t, mobile)
	talk(t, a, b)
	a.Hangup(ctx(t))
	if rec := o.lastCall(t); rec.AnsweredBy != "201b" {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}
