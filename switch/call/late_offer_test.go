package call_test

import (
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"switchboard/store"
	"switchboard/switch/call"
	"switchboard/switch/phonetest"
)

// An INVITE without SDP (late offer): the switch offers in its 200, the
// caller answers in the ACK, and the call carries audio both ways.
func TestLateOfferCall(t *testing.T) {
	o := newOffice(t, call.Config{})
	a, err := o.alice.DialLateOffer(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	b := answered(t, o.bob)
	talk(t, a, b)
	b.Hangup(ctx(t))
	if rec := o.lastCall(t); rec.Disposition != store.Answered {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}

// A late-offer call nobody takes ends with its status and no early media
// (a 183 would have to carry the switch's offer).
func TestLateOfferUnanswered(t *testing.T) {
	o := newOffice(t, call.Config{})
	o.bob.SetBehavior(phonetest.Behavior{Reject: 486})
	_, err := o.alice.DialLateOffer(ctx(t), "201")
	var res *sipgo.ErrDialogResponse
	if !errors.As(err, &res) || res.Res.StatusCode != 486 {
		t.Fatalf("dial: %v, want 486", err)
	}
	var failed *phonetest.FailedDial
	if errors.As(err, &failed) {
		t.Errorf("early media sent to a late-offer caller: %d packets", len(failed.EarlyMedia))
	}
	time.Sleep(50 * time.Millisecond)
	o.noLeaks(t)
}
