package voicemail_test

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/media"
	"switchboard/media/tonetest"
	"switchboard/switch/ivr"
	"switchboard/switch/phonetest"
	"switchboard/switch/presence"
)

// caller is the simplest caller: listens to everything, speaks for speech,
// then hangs up, or presses keys when asked.
type caller struct {
	speech []byte
	keys   []byte
}

func (c *caller) Caller() ivr.Caller {
	return ivr.Caller{Number: "201", Name: "Bob Jones", Device: "201"}
}
func (c *caller) Play(context.Context, bool, ...[]byte) (byte, error) {
	return 0, nil
}
func (c *caller) ReadDigit(context.Context, time.Duration) (byte, error) {
	if len(c.keys) == 0 {
		return 0, ivr.ErrHangup
	}
	k := c.keys[0]
	c.keys = c.keys[1:]
	return k, nil
}
func (c *caller) Record(context.Context, time.Duration, string) ([]byte, error) {
	return c.speech, ivr.ErrHangup
}

func speech(ms int) []byte {
	pcm := tonetest.Sine(300, ms)
	out := make([]byte, len(pcm))
	for i, v := range pcm {
		out[i] = media.PCMU.Encode(v)
	}
	return out
}

// A message left through the switch's voicemail lights the lamp of the
// phone that subscribed (in its dialog) and of the one that did not
// (unsolicited); listening to it turns both off.
func TestDepositLightsLamps(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{NoMedia: true})
	sw.AddUser(t, "200", "secret-200")
	sw.AddDevice(t, "200", "200b", "secret-200b")
	sw.AddUser(t, "201", "secret-201")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	subscriber := sw.Phone(t, "200", "secret-200", phonetest.Options{})
	plain := sw.Phone(t, "200b", "secret-200b", phonetest.Options{})
	for _, p := range []*phonetest.Phone{subscriber, plain} {
		if res, err := p.Register(ctx, 600); err != nil || res.StatusCode != 200 {
			t.Fatalf("register: %v %v", res, err)
		}
	}
	sub, _, err := subscriber.Subscribe(ctx, presence.EventMWI, "200", 600)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, next func() (*sip.Request, error), newMsgs, old int) {
		t.Helper()
		req, err := next()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		s, waiting, err := phonetest.MWI(req)
		if err != nil || s.New != newMsgs || s.Old != old || waiting != (newMsgs > 0) || s.Account != "sip:200@127.0.0.1" {
			t.Fatalf("%s: %+v waiting=%v %v; want %d/%d", what, s, waiting, err, newMsgs, old)
		}
	}
	fromSub := func() (*sip.Request, error) { return sub.Next(ctx) }
	fromPlain := func() (*sip.Request, error) {
		select {
		case n := <-plain.Unsolicited():
			return n, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	check("initial NOTIFY", fromSub, 0, 0)

	vm := sw.Server.Voicemail()
	if err := vm.Deposit(ctx, &caller{speech: speech(3000)}, "200"); err != nil {
		t.Fatal(err)
	}
	check("subscribed phone", fromSub, 1, 0)
	check("unsubscribed phone", fromPlain, 1, 0)

	// 200 listens (*97): 1, then hangs up after the message menu.
	if err := vm.Access(ctx, &caller{keys: []byte("1")}, "200", false); err != nil {
		t.Fatal(err)
	}
	check("subscribed phone after listening", fromSub, 0, 1)
	check("unsubscribed phone after listening", fromPlain, 0, 1)
}
