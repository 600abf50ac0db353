package call_test

import (
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"switchboard/store"
	"switchboard/switch/call"
	"switchboard/switch/event"
	"switchboard/switch/phonetest"
)

// addCarol adds user 202 with a registered phone that rings briefly, then answers.
func (o *office) addCarol(t *testing.T) *phonetest.Phone {
	t.Helper()
	o.sw.AddUser(t, "202", "secret-202")
	carol := o.sw.Phone(t, "202", "secret-202", phonetest.Options{LocalIP: "127.0.0.3"})
	if res, err := carol.Register(ctx(t), 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register 202: %v %v", res, err)
	}
	carol.SetBehavior(phonetest.Behavior{Delay: 200 * time.Millisecond})
	return carol
}

// connect has 200 call 201 and both talk.
func (o *office) connect(t *testing.T) (a, b *phonetest.Call) {
	t.Helper()
	a, err := o.alice.Dial(ctx(t), "201")
	if err != nil {
		t.Fatal(err)
	}
	b = answered(t, o.bob)
	talk(t, a, b)
	return a, b
}

// expectSipfrag waits for the next NOTIFY of a transferor's call and checks its status.
func expectSipfrag(t *testing.T, c *phonetest.Call, code int, final bool) {
	t.Helper()
	n, err := c.NextNotify(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	got, reason, fin, err := phonetest.Sipfrag(n)
	if err != nil {
		t.Fatal(err)
	}
	if got != code || fin != final {
		t.Fatalf("NOTIFY says %d %s (final %v, %q), want %d (final %v)", got, reason, fin,
			phonetest.SubscriptionState(n), code, final)
	}
}

func hungUp(t *testing.T, c *phonetest.Call, who string) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("%s was not hung up", who)
	}
}

// oneStream checks that what a phone received is one RTP stream: one SSRC,
// sequence numbers that never jump back or far ahead, and timestamps that
// move on by a packet's samples except where the marker bit says a new
// source began (music, another party).
func oneStream(t *testing.T, hs []rtp.Header) (sources int) {
	t.Helper()
	if len(hs) < 50 {
		t.Fatalf("only %d audio packets received", len(hs))
	}
	sources = 1
	for i := 1; i < len(hs); i++ {
		p, h := hs[i-1], hs[i]
		if h.SSRC != hs[0].SSRC {
			t.Fatalf("packet %d has SSRC %08x, the stream began with %08x", i, h.SSRC, hs[0].SSRC)
		}
		// Loopback does not lose or reorder these few packets.
		if h.SequenceNumber != p.SequenceNumber+1 {
			t.Fatalf("packet %d: sequence %d after %d", i, h.SequenceNumber, p.SequenceNumber)
		}
		dts := int32(h.Timestamp - p.Timestamp)
		switch {
		case h.Marker:
			sources++
			if dts < 160 {
				t.Fatalf("packet %d starts a source with timestamp +%d (want ≥ 160)", i, dts)
			}
		case dts != 160:
			t.Fatalf("packet %d: timestamp +%d within a source (want 160)", i, dts)
		}
	}
	return sources
}

// callKinds returns the call events published so far: those that arrive
// before events has been quiet for 200 ms.
func callKinds(events <-chan event.Event) []event.Event {
	var out []event.Event
	for {
		select {
		case e := <-events:
			if e.CallID != "" {
				out = append(out, e)
			}
		case <-time.After(200 * time.Millisecond):
			return out
		}
	}
}

// 200 calls 201; 201 transfers 200 to 202 (REFER in its dialog), 202
// answers: 200 and 202 talk, 201's leg ends, and the record says so.
func TestBlindTransferByCallee(t *testing.T) {
	o := newOffice(t, call.Config{})
	carol := o.addCarol(t)
	events, stop := o.sw.Bus.Subscribe(64)
	defer stop()
	a, b := o.connect(t)

	res, err := b.Refer(ctx(t), "202")
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	expectSipfrag(t, b, 100, false)
	expectSipfrag(t, b, 200, true)
	offer := offered(t, carol, "202")
	if from := offer.From(); from.Address.User != "200" || from.DisplayName != "Phone 200" {
		t.Errorf("202 is shown the call from %q %q, want the transferee 200", from.DisplayName, from.Address.User)
	}
	c := answered(t, carol)
	hungUp(t, b, "the transferor 201")
	talk(t, a, c)
	if n := oneStream(t, a.Headers()); n < 3 {
		t.Errorf("the transferee heard %d sources, want 201, the music, then 202", n)
	}
	if err := a.Hangup(ctx(t)); err != nil {
		t.Fatal(err)
	}
	hungUp(t, c, "202")

	rec := o.lastCall(t)
	want := store.Transfer{By: "201", To: "202", AnsweredBy: "202", Result: store.Answered}
	if rec.Disposition != store.Answered || rec.AnsweredBy != "201" || len(rec.Transfers) != 1 || rec.Cause != "200 hung up" {
		t.Fatalf("record = %+v", rec)
	}
	got := rec.Transfers[0]
	if got.At.IsZero() || got.At.Before(rec.Answer) {
		t.Errorf("transfer time %v, answered at %v", got.At, rec.Answer)
	}
	if got.At = (time.Time{}); got != want {
		t.Errorf("transfer = %+v, want %+v", got, want)
	}
	o.noLeaks(t)

	type ev struct {
		kind             event.Kind
		from, to, device string
	}
	wantEvents := []ev{{event.CallStarted, "200", "201", ""}, {event.CallRinging, "200", "201", "201"},
		{event.CallAnswered, "200", "201", "201"}, {event.CallTransferred, "200", "202", "201"},
		{event.CallRinging, "200", "202", "202"}, {event.CallAnswered, "200", "202", "202"},
		{event.CallEnded, "200", "202", "202"}}
	evs := callKinds(events)
	if len(evs) != len(wantEvents) {
		t.Fatalf("events %v, want %v", evs, wantEvents)
	}
	for i, e := range evs {
		if w := wantEvents[i]; e.Kind != w.kind || e.From != w.from || e.To != w.to || e.Device != w.device {
			t.Errorf("event %d = %s from %q to %q device %q, want %+v", i, e.Kind, e.From, e.To, e.Device, w)
		}
	}
}

// The caller transfers: it holds 201 first, as desk phones do, then refers
// it to 202. 201 (a leg the switch called) stays and talks to 202.
func TestBlindTransferByCaller(t *testing.T) {
	o := newOffice(t, call.Config{})
	carol := o.addCarol(t)
	a, b := o.connect(t)
	if res, err := a.Hold(ctx(t)); err != nil || res.StatusCode != 200 {
		t.Fatalf("hold: %v %v", res, err)
	}
	res, err := a.Refer(ctx(t), "202")
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	expectSipfrag(t, a, 100, false)
	expectSipfrag(t, a, 200, true)
	offer := offered(t, carol, "202")
	if from := offer.From(); from.Address.User != "201" || from.DisplayName != "User 201" {
		t.Errorf("202 is shown the call from %q %q, want the transferee 201", from.DisplayName, from.Address.User)
	}
	c := answered(t, carol)
	hungUp(t, a, "the transferor 200")
	talk(t, b, c)
	oneStream(t, b.Headers())
	if err := c.Hangup(ctx(t)); err != nil {
		t.Fatal(err)
	}
	hungUp(t, b, "201")
	rec := o.lastCall(t)
	if len(rec.Transfers) != 1 || rec.Transfers[0].By != "200" || rec.Transfers[0].AnsweredBy != "202" ||
		rec.Cause != "202 hung up" || rec.AnsweredBy != "201" {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}

// A target that is busy reaches its voicemail, as a call to it would: the
// transferee is the one who leaves the message.
func TestBlindTransferTargetBusyGoesToVoicemail(t *testing.T) {
	app := &scriptApp{got: make(chan scriptResult, 1)}
	o := newOfficeWith(t, phonetest.SwitchOptions{Voicemail: app})
	carol := o.addCarol(t)
	carol.SetBehavior(phonetest.Behavior{Reject: 486})
	a, b := o.connect(t)
	if res, err := b.Refer(ctx(t), "202"); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	hungUp(t, b, "the transferor 201")
	time.Sleep(300 * time.Millisecond) // the busy phone, then voicemail answers
	for _, d := range []uint8{4, 2} {
		if err := a.SendDTMF(d); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(600 * time.Millisecond) // voicemail's tone
	if err := a.HearsTone(1500); err != nil {
		t.Errorf("the transferee does not hear voicemail: %v", err)
	}
	if err := a.SendDTMF(11); err != nil {
		t.Fatal(err)
	}
	var r scriptResult
	select {
	case r = <-app.got:
	case <-time.After(10 * time.Second):
		t.Fatal("voicemail did not finish")
	}
	if r.err != nil || r.ext != "202" || r.digits != "42" || r.caller.Number != "200" || r.caller.Dialed != "202" {
		t.Fatalf("voicemail saw %+v", r)
	}
	hungUp(t, a, "the transferee")
	rec := o.lastCall(t)
	if rec.Disposition != store.Answered || len(rec.Transfers) != 1 || rec.Transfers[0].Result != store.Voicemail ||
		rec.Transfers[0].AnsweredBy != "voicemail" || rec.Cause != "voicemail finished" {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}

// A target nobody answers, with no voicemail: the transferee hears "not
// available" and is hung up.
func TestBlindTransferTargetNoAnswer(t *testing.T) {
	o := newOffice(t, call.Config{})
	carol := o.addCarol(t)
	carol.SetBehavior(phonetest.Behavior{Silent: true})
	o.setRules(t, "202", store.AnsweringRule{Name: "short", First: step(store.ActRingMyPhones, "", 1),
		IfNoAnswer: store.RuleStep{Action: store.ActDisconnect}})
	a, b := o.connect(t)
	if res, err := b.Refer(ctx(t), "202"); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	offered(t, carol, "202")
	hungUp(t, a, "the transferee")
	if heard := a.Received(); len(heard) < 10 {
		t.Errorf("the transferee heard %d packets of music and message", len(heard))
	}
	rec := o.lastCall(t)
	if rec.Disposition != store.Answered || len(rec.Transfers) != 1 || rec.Transfers[0].Result != store.Missed ||
		rec.Transfers[0].AnsweredBy != "" {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}

// A REFER to an extension nobody has: the NOTIFY says 404 and the call
// goes on as before.
func TestBlindTransferToUnknownExtension(t *testing.T) {
	o := newOffice(t, call.Config{})
	a, b := o.connect(t)
	if res, err := b.Refer(ctx(t), "999"); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	expectSipfrag(t, b, 100, false)
	expectSipfrag(t, b, 404, true)
	talk(t, a, b)
	if err := b.Hangup(ctx(t)); err != nil {
		t.Fatal(err)
	}
	hungUp(t, a, "the caller")
	if rec := o.lastCall(t); len(rec.Transfers) != 0 || rec.Cause != "callee hung up" {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}

// REFERs the switch turns down: outside any call, in a dialog it does not
// know, attended transfer (Replaces), a Refer-To that is no SIP URI.
func TestReferRefused(t *testing.T) {
	o := newOffice(t, call.Config{})
	host := o.sw.Addr()
	outside := func(toTag string) *sip.Request {
		req := sip.NewRequest(sip.REFER, sip.Uri{Scheme: "sip", User: "201", Host: "127.0.0.1", Port: portOf(t, host)})
		req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "200", Host: "127.0.0.1"},
			Params: sip.HeaderParams{{K: "tag", V: "f1"}}})
		to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "201", Host: "127.0.0.1"}}
		if toTag != "" {
			to.Params = sip.HeaderParams{{K: "tag", V: toTag}}
		}
		req.AppendHeader(to)
		req.AppendHeader(sip.NewHeader("Refer-To", "<sip:202@"+host+">"))
		return req
	}
	for _, tag := range []string{"", "no-such-dialog"} {
		res, err := o.alice.Send(ctx(t), outside(tag))
		if err != nil || res.StatusCode != 481 {
			t.Errorf("REFER outside a call (to-tag %q) = %v %v, want 481", tag, res, err)
		}
	}

	a, b := o.connect(t)
	for _, tt := range []struct {
		referTo string
		want    int
	}{
		{"<sip:202@" + host + "?Replaces=abc%40x%3Bto-tag%3D1%3Bfrom-tag%3D2>", 501},
		{"<tel:202>", 400},
		{"<sip:" + host + ">", 400},
		{"<sip:202@" + host + ";method=BYE>", 400},
	} {
		res, err := b.ReferTo(ctx(t), tt.referTo)
		if err != nil || res.StatusCode != tt.want {
			t.Errorf("REFER to %s = %v %v, want %d", tt.referTo, res, err, tt.want)
		}
	}
	talk(t, a, b) // none of them touched the call
	a.Hangup(ctx(t))
	hungUp(t, b, "the callee")
	o.noLeaks(t)
}

// "Refer-Sub: false" (RFC 4488): no NOTIFYs, the transfer happens all the same.
func TestBlindTransferWithoutSubscription(t *testing.T) {
	o := newOffice(t, call.Config{})
	carol := o.addCarol(t)
	a, b := o.connect(t)
	res, err := b.ReferTo(ctx(t), "<sip:202@"+o.sw.Addr()+">", sip.NewHeader("Refer-Sub", "false"))
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	if h := res.GetHeader("Refer-Sub"); h == nil || h.Value() != "false" {
		t.Errorf("202 without Refer-Sub: false")
	}
	c := answered(t, carol)
	hungUp(t, b, "the transferor")
	select {
	case n := <-b.Notifies():
		t.Errorf("NOTIFY without a subscription: %s", n.Body())
	default:
	}
	talk(t, a, c)
	a.Hangup(ctx(t))
	hungUp(t, c, "202")
	o.noLeaks(t)
}

// The web UI's transfer: the same, asked for through the Manager.
func TestManagerTransfer(t *testing.T) {
	o := newOffice(t, call.Config{})
	carol := o.addCarol(t)
	a, b := o.connect(t)
	calls := o.sw.Server.Calls()
	id := calls.Active()[0].ID
	for _, tt := range []struct {
		id, device, target string
		want               error
	}{
		{"no-such-call", "201", "202", call.ErrNoCall},
		{id, "202", "202", call.ErrNotParty},
		{id, "201", "999", call.ErrTargetNotFound},
		{id, "201", "*97", call.ErrTargetFeature},
	} {
		if err := calls.Transfer(tt.id, tt.device, tt.target); !errors.Is(err, tt.want) {
			t.Errorf("Transfer(%q, %q, %q) = %v, want %v", tt.id, tt.device, tt.target, err, tt.want)
		}
	}
	if err := calls.Transfer(id, "201", "202"); err != nil {
		t.Fatal(err)
	}
	hungUp(t, b, "the transferor")
	c := answered(t, carol)
	// The phone has its ACK a moment before the call's goroutine updates the snapshot.
	deadline := time.Now().Add(5 * time.Second)
	for live := calls.Active(); len(live) != 1 || live[0].From != "200" || live[0].To != "202" || live[0].AnsweredBy != "202"; live = calls.Active() {
		if time.Now().After(deadline) {
			t.Fatalf("live call after the transfer = %+v", live)
		}
		time.Sleep(10 * time.Millisecond)
	}
	talk(t, a, c)
	c.Hangup(ctx(t))
	hungUp(t, a, "the transferee")
	if rec := o.lastCall(t); len(rec.Transfers) != 1 || rec.Transfers[0].By != "201" || rec.Transfers[0].AnsweredBy != "202" {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}

func portOf(t *testing.T, hostport string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The transferee hangs up while the target rings: the target's phone stops
// ringing and the transfer is recorded as cancelled.
func TestBlindTransferTransfereeHangsUpWhileTargetRings(t *testing.T) {
	o := newOffice(t, call.Config{})
	carol := o.addCarol(t)
	carol.SetBehavior(phonetest.Behavior{Silent: true})
	a, b := o.connect(t)
	if res, err := b.Refer(ctx(t), "202"); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	offered(t, carol, "202")
	hungUp(t, b, "the transferor")
	if err := a.Hangup(ctx(t)); err != nil {
		t.Fatal(err)
	}
	rec := o.lastCall(t)
	if rec.Disposition != store.Answered || len(rec.Transfers) != 1 || rec.Transfers[0].Result != store.Cancelled ||
		rec.Cause != "200 hung up" {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t) // the ringing branch was cancelled and its endpoint freed
}

// A call transferred twice: 201 sends 200 to 202, who sends it back to 201.
func TestBlindTransferTwice(t *testing.T) {
	o := newOffice(t, call.Config{})
	carol := o.addCarol(t)
	a, b := o.connect(t)
	if res, err := b.Refer(ctx(t), "202"); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	c := answered(t, carol)
	hungUp(t, b, "201 after the first transfer")
	talk(t, a, c)
	if res, err := c.Refer(ctx(t), "201"); err != nil || res.StatusCode != 202 {
		t.Fatalf("second REFER: %v %v", res, err)
	}
	b2 := answered(t, o.bob)
	hungUp(t, c, "202 after the second transfer")
	talk(t, a, b2)
	oneStream(t, a.Headers())
	b2.Hangup(ctx(t))
	hungUp(t, a, "the transferee")
	rec := o.lastCall(t)
	if len(rec.Transfers) != 2 || rec.Transfers[0].By != "201" || rec.Transfers[0].To != "202" ||
		rec.Transfers[1].By != "202" || rec.Transfers[1].To != "201" || rec.Transfers[1].AnsweredBy != "201" ||
		rec.Cause != "201 hung up" {
		t.Fatalf("record = %+v", rec)
	}
	o.noLeaks(t)
}
