package call_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard/media"
	"switchboard/media/tonetest"
	"switchboard/store"
	"switchboard/switch/call"
	"switchboard/switch/phonetest"
)

// setRules gives ext these answering rules.
func (o *office) setRules(t *testing.T, ext string, rules ...store.AnsweringRule) {
	t.Helper()
	if _, err := o.sw.Store.UpdateCallHandling(ext, func(h *store.CallHandling) error {
		h.Rules = rules
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// offered waits for an INVITE at p and returns it.
func offered(t *testing.T, p *phonetest.Phone, what string) *sip.Request {
	t.Helper()
	select {
	case req := <-p.Offers():
		return req
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never rang", what)
		return nil
	}
}

func notOffered(t *testing.T, p *phonetest.Phone, what string) {
	t.Helper()
	select {
	case req := <-p.Offers():
		t.Fatalf("%s rang: %s", what, req.StartLine())
	default:
	}
}

// dialFails dials ext and checks the final status.
func dialFails(t *testing.T, p *phonetest.Phone, ext string, want int) {
	t.Helper()
	_, err := p.Dial(ctx(t), ext)
	var e *sipgo.ErrDialogResponse
	if !errors.As(err, &e) || e.Res.StatusCode != want {
		t.Fatalf("dial %s = %v, want %d", ext, err, want)
	}
}

func step(a store.Action, target string, secs int) store.RuleStep {
	return store.RuleStep{Action: a, Target: target, RingSeconds: secs}
}

// Ring one named phone; if no answer, forward to another user, who answers
// and talks.
func TestRuleRingOnePhoneThenForwardToUser(t *testing.T) {
	o := newOffice(t, call.Config{})
	o.sw.AddDevice(t, "201", "201b", "secret-201b")
	bobDesk := o.sw.Phone(t, "201b", "secret-201b", phonetest.Options{LocalIP: "127.0.0.3"})
	o.sw.AddUser(t, "202", "secret-202")
	carol := o.sw.Phone(t, "202", "secret-202", phonetest.Options{LocalIP: "127.0.0.4"})
	for _, p := range []*phonetest.Phone{bobDesk, carol} {
		if res, err := p.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
			t.Fatalf("register: %v %v", res, err)
		}
	}
	bobDesk.SetBehavior(phonetest.Behavior{Silent: true})
	o.setRules(t, "201", store.AnsweringRule{Name: "desk first",
		First: step(store.ActRingPhone, "201b", 1), IfNoAnswer: step(store.ActForwardUser, "202", 0)})

	c, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	offered(t, bobDesk, "the named phone 201b")
	notOffered(t, o.bob, "phone 201 (not named in the rule)")
	talk(t, c, answered(t, carol))
	c.Hangup(ctx(t))
	if rec := o.lastCall(t); rec.Disposition != store.Answered || rec.AnsweredBy != "202" || rec.Callee != "201" {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}

// "Ring all my phones" rings a disabled phone too; "ring my phones" and
// "ring my IP phones" do not.
func TestRuleRingAllPhonesIncludesDisabled(t *testing.T) {
	o := newOffice(t, call.Config{})
	o.sw.AddDevice(t, "201", "201b", "secret-201b")
	spare := o.sw.Phone(t, "201b", "secret-201b", phonetest.Options{LocalIP: "127.0.0.3"})
	if res, err := spare.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", res, err)
	}
	if _, err := o.sw.Store.UpdateDevice("201b", func(d *store.Device) error { d.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	o.bob.SetBehavior(phonetest.Behavior{Silent: true})
	spare.SetBehavior(phonetest.Behavior{Silent: true})

	o.setRules(t, "201", store.AnsweringRule{Name: "mine", First: step(store.ActRingMyPhones, "", 1)})
	dialFails(t, o.alice, "201", 480)
	offered(t, o.bob, "the enabled phone")
	notOffered(t, spare, "the disabled phone")

	// IP phones only: the enabled SIP phones (external phones, once they exist, stay silent).
	o.setRules(t, "201", store.AnsweringRule{Name: "desk", First: step(store.ActRingIPPhones, "", 1)})
	dialFails(t, o.alice, "201", 480)
	offered(t, o.bob, "the enabled phone")
	notOffered(t, spare, "the disabled phone")

	o.setRules(t, "201", store.AnsweringRule{Name: "all", First: step(store.ActRingAllPhones, "", 1)})
	dialFails(t, o.alice, "201", 480)
	offered(t, o.bob, "the enabled phone")
	offered(t, spare, "the disabled phone")
	o.noLeaks(t)
}

// Forward to a SIP address and to an outside number through the gateway;
// "show the number they called" puts the dialled extension in From.
func TestRuleForwardToSIPAddressAndOutsideNumber(t *testing.T) {
	far := phonetest.New(t, phonetest.Options{User: "help", LocalIP: "127.0.0.6"})
	gateway := phonetest.New(t, phonetest.Options{User: "gw", LocalIP: "127.0.0.7"})
	o := newOffice(t, call.Config{Gateway: gateway.Addr()})

	o.setRules(t, "201", store.AnsweringRule{Name: "to the help desk",
		First: store.RuleStep{Action: store.ActForwardSIP, Target: "sip:help@" + far.Addr(), RingSeconds: 5}})
	c, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	inv := offered(t, far, "the SIP address")
	if inv.Recipient.User != "help" || inv.From().Address.User != "200" {
		t.Fatalf("INVITE %s from %s", inv.Recipient.String(), inv.From().Address.String())
	}
	talk(t, c, answered(t, far))
	c.Hangup(ctx(t))
	if rec := o.lastCall(t); rec.AnsweredBy != "sip:help@"+far.Addr() {
		t.Fatalf("record = %+v", rec)
	}

	o.setRules(t, "201", store.AnsweringRule{Name: "to my mobile",
		First: store.RuleStep{Action: store.ActForwardNumber, Target: "0761234567", ShowCalled: true}})
	c, err = o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	inv = offered(t, gateway, "the gateway")
	if inv.Recipient.User != "0761234567" || inv.From().Address.User != "201" {
		t.Fatalf("INVITE %s from %s, want the number and the dialled extension", inv.Recipient.String(), inv.From().Address.String())
	}
	talk(t, c, answered(t, gateway))
	c.Hangup(ctx(t))
	o.noLeaks(t)
}

// "Disconnect with a message" never rings; the caller hears the message
// and gets 480.
func TestRuleDisconnect(t *testing.T) {
	msg := tonetest.Generate(700, 400, media.PCMU)
	o := newOffice(t, call.Config{NotAvailable: bytes.Join(msg, nil)})
	o.setRules(t, "201", store.AnsweringRule{Name: "closed", First: step(store.ActDisconnect, "", 0)})
	_, err := o.alice.Dial(ctx(t), "201")
	var e *sipgo.ErrDialogResponse
	if !errors.As(err, &e) || e.Res.StatusCode != 480 {
		t.Fatalf("dial = %v, want 480", err)
	}
	var early *phonetest.FailedDial
	if !errors.As(err, &early) {
		t.Fatal("no early media before the 480")
	}
	if err := tonetest.Check(early.EarlyMedia, media.PCMU, 700); err != nil {
		t.Errorf("the caller did not hear the not-available message: %v", err)
	}
	notOffered(t, o.bob, "bob's phone")
	if rec := o.lastCall(t); rec.Disposition != store.Missed {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}

// A rule limited to a time frame applies inside it only.
func TestRuleTimeFrame(t *testing.T) {
	o := newOffice(t, call.Config{})
	always := store.TimeFrame{ID: "always", Name: "Always", Weekly: []store.WeeklyRange{{Days: []int{0, 1, 2, 3, 4, 5, 6}, Start: "00:00", End: "24:00"}}}
	never := store.TimeFrame{ID: "never", Name: "Never", Dates: []store.DateRange{{From: "2001-01-01"}}}
	for _, tf := range []store.TimeFrame{always, never} {
		if err := o.sw.Store.PutTimeFrame(tf); err != nil {
			t.Fatal(err)
		}
	}
	o.setRules(t, "201",
		store.AnsweringRule{Name: "old holiday", TimeFrame: "never", First: step(store.ActRingMyPhones, "", 5)},
		store.AnsweringRule{Name: "closed", TimeFrame: "always", First: step(store.ActDisconnect, "", 0)})
	dialFails(t, o.alice, "201", 480)
	notOffered(t, o.bob, "bob's phone")
	o.noLeaks(t)
}

// playedFeature dials a feature code: the switch answers, says something
// and hangs up.
func playedFeature(t *testing.T, p *phonetest.Phone, code string) {
	t.Helper()
	c, err := p.Dial(ctx(t), code)
	if err != nil {
		t.Fatalf("dial %s: %v", code, err)
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the switch did not hang up after its message", code)
	}
	if loud := voicedFrames(c.Received()); loud < 10 {
		t.Fatalf("%s: heard %d voiced frames, want the spoken confirmation", code, loud)
	}
}

// voicedFrames counts μ-law frames that are not near silence.
func voicedFrames(frames [][]byte) int {
	n := 0
	for _, f := range frames {
		for _, b := range f {
			if b&0x7f < 0x60 { // μ-law magnitude well above the silence codes
				n++
				break
			}
		}
	}
	return n
}

// Feature codes switch DND and forwarding for the caller's own extension.
func TestFeatureCodesDNDAndForward(t *testing.T) {
	o := newOffice(t, call.Config{})
	handling := func() store.CallHandling {
		h, err := o.sw.Store.CallHandling("201")
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	playedFeature(t, o.bob, "*78")
	if !handling().DND {
		t.Fatal("*78 did not turn DND on")
	}
	dialFails(t, o.alice, "201", 480) // DND, and this switch has no voicemail
	notOffered(t, o.bob, "bob's phone on DND")
	playedFeature(t, o.bob, "*79")
	if handling().DND {
		t.Fatal("*79 did not turn DND off")
	}

	o.sw.AddUser(t, "202", "secret-202")
	carol := o.sw.Phone(t, "202", "secret-202", phonetest.Options{LocalIP: "127.0.0.4"})
	if res, err := carol.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", res, err)
	}
	playedFeature(t, o.bob, "*72202")
	if got := handling().ForwardTo; got != "202" {
		t.Fatalf("forward = %q", got)
	}
	c, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	talk(t, c, answered(t, carol))
	c.Hangup(ctx(t))
	notOffered(t, o.bob, "bob's forwarded phone")
	playedFeature(t, o.bob, "*73")
	if got := handling().ForwardTo; got != "" {
		t.Fatalf("forward after *73 = %q", got)
	}
	dialFails(t, o.alice, "*55", 404)
	o.noLeaks(t)
}

// An outside party (a forward to a SIP address) transferred to one of our
// phones is shown there by its SIP user, not by its whole address.
func TestTransferOfOutsideParty(t *testing.T) {
	far := phonetest.New(t, phonetest.Options{User: "help", LocalIP: "127.0.0.6"})
	o := newOffice(t, call.Config{})
	carol := o.addCarol(t)
	o.setRules(t, "201", store.AnsweringRule{Name: "to the help desk",
		First: store.RuleStep{Action: store.ActForwardSIP, Target: "sip:help@" + far.Addr(), RingSeconds: 5}})
	a, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	offered(t, far, "the SIP address")
	talk(t, a, answered(t, far))
	if res, err := a.Hold(ctx(t)); err != nil || res.StatusCode != 200 {
		t.Fatalf("hold: %v %v", res, err)
	}
	if res, err := a.Refer(ctx(t), "202"); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	if from := offered(t, carol, "202").From(); from.Address.User != "help" {
		t.Errorf("202 is shown the call from %q", from.Value())
	}
	answered(t, carol).Hangup(ctx(t))
	o.noLeaks(t)
}
