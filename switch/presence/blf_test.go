package presence_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/switch/event"
	"switchboard/switch/phonetest"
	"switchboard/switch/presence"
)

// blfWatch reads a BLF subscription's NOTIFYs, checking that every
// document is full and its version one more than the last.
type blfWatch struct {
	t    *testing.T
	sub  *phonetest.Subscription
	next uint32
}

// until reads NOTIFYs until one's document satisfies ok, and returns it.
func (w *blfWatch) until(ctx context.Context, what string, ok func(presence.DialogInfo, string) bool) presence.DialogInfo {
	w.t.Helper()
	for {
		n, err := w.sub.Next(ctx)
		if err != nil {
			w.t.Fatalf("waiting for %s: %v", what, err)
		}
		d, err := phonetest.BLF(n)
		if err != nil {
			w.t.Fatalf("NOTIFY: %v\n%s", err, n)
		}
		if d.Version != w.next || d.State != "full" || d.Entity != "sip:201@127.0.0.1" {
			w.t.Fatalf("document version %d state %q entity %q, want version %d, full, sip:201@127.0.0.1", d.Version, d.State, d.Entity, w.next)
		}
		w.next++
		if ok(d, phonetest.SubscriptionState(n)) {
			return d
		}
	}
}

// one reports whether d holds exactly one dialog in state, a call from 200.
func one(state string) func(presence.DialogInfo, string) bool {
	return func(d presence.DialogInfo, _ string) bool {
		return len(d.Dialogs) == 1 && d.Dialogs[0].State == state
	}
}

func register(t *testing.T, ctx context.Context, phones ...*phonetest.Phone) {
	t.Helper()
	for _, p := range phones {
		if res, err := p.Register(ctx, 600); err != nil || res.StatusCode != 200 {
			t.Fatalf("register: %v %v", res, err)
		}
	}
}

// TestBLFFollowsACall: 202's BLF key on 201 sees 200's call ring (early),
// be answered (confirmed) and end (terminated, then gone).
func TestBLFFollowsACall(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	for _, ext := range []string{"200", "201", "202"} {
		sw.AddUser(t, ext, "secret-"+ext)
	}
	ctx := ctxFor(t, 20*time.Second)
	alice := sw.Phone(t, "200", "secret-200", phonetest.Options{})
	bob := sw.Phone(t, "201", "secret-201", phonetest.Options{LocalIP: "127.0.0.2"})
	watcher := sw.Phone(t, "202", "secret-202", phonetest.Options{Transport: "TCP"})
	register(t, ctx, alice, bob, watcher)
	bob.SetBehavior(phonetest.Behavior{Delay: 700 * time.Millisecond})
	states, stop := sw.Bus.Subscribe(256)
	defer stop()

	sub, res, err := watcher.Subscribe(ctx, presence.EventDialog, "201", 600)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("subscribe: %v %v", res, err)
	}
	w := &blfWatch{t: t, sub: sub}
	w.until(ctx, "idle", func(d presence.DialogInfo, state string) bool {
		if len(d.Dialogs) != 0 || !strings.HasPrefix(state, "active;expires=") {
			t.Fatalf("first NOTIFY: %+v %q", d, state)
		}
		return true
	})

	answered := make(chan *phonetest.Call, 1)
	go func() {
		c, err := alice.Dial(ctx, "201")
		if err != nil {
			t.Errorf("dial: %v", err)
		}
		answered <- c
	}()
	early := w.until(ctx, "ringing", one("early")).Dialogs[0]
	if early.Direction != "recipient" || early.Remote.URI != "sip:200@127.0.0.1" || early.Local.URI != "sip:201@127.0.0.1" || early.ID == "" {
		t.Fatalf("ringing dialog %+v", early)
	}
	if st := sw.Server.Presence().Status("201"); st.Activity() != presence.Ringing || !st.Online {
		t.Fatalf("Status(201) while ringing = %+v", st)
	}
	if st := sw.Server.Presence().Status("200"); st.Activity() != presence.OnCall {
		t.Fatalf("Status(200) while dialling = %+v", st)
	}
	talking := w.until(ctx, "answered", one("confirmed")).Dialogs[0]
	if talking.ID != early.ID || talking.Direction != "recipient" {
		t.Fatalf("answered dialog %+v, ringing was %+v", talking, early)
	}
	a := <-answered
	if a == nil {
		t.FailNow()
	}
	if err := a.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	ended := w.until(ctx, "the end", one("terminated")).Dialogs[0]
	if ended.ID != early.ID {
		t.Fatalf("terminated dialog %+v, the call was %+v", ended, early)
	}
	if st := sw.Server.Presence().Status("201"); st.Activity() != presence.Idle {
		t.Fatalf("Status(201) after the call = %+v", st)
	}

	// The web UI heard of each change on the bus.
	seen := map[string]bool{}
	for quiet := false; !quiet; {
		select {
		case e := <-states:
			if e.Kind == event.StatusChanged {
				seen[e.Ext] = true
			}
		case <-time.After(200 * time.Millisecond):
			quiet = true
		}
	}
	if !seen["200"] || !seen["201"] {
		t.Fatalf("StatusChanged for %v, want 200 and 201", seen)
	}

	// A refresh is answered with the state again (no dialogs now) and the next version.
	if res, err := sub.Refresh(ctx, 1200); err != nil || res.StatusCode != 200 {
		t.Fatalf("refresh: %v %v", res, err)
	}
	w.until(ctx, "refresh", func(d presence.DialogInfo, _ string) bool { return len(d.Dialogs) == 0 })
	// Running out ends it with a final document.
	sw.Server.Presence().Expire(time.Now().Add(1300 * time.Second))
	w.until(ctx, "expiry", func(d presence.DialogInfo, state string) bool { return state == "terminated;reason=timeout" })
	if n := sw.Server.Presence().Count(); n != 0 {
		t.Fatalf("%d subscriptions after expiry", n)
	}
}

// TestPresenceFollowsRegistration: open while a phone of 201 is
// registered, closed when none is.
func TestPresenceFollowsRegistration(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{NoMedia: true})
	for _, ext := range []string{"201", "202"} {
		sw.AddUser(t, ext, "secret-"+ext)
	}
	ctx := ctxFor(t, 10*time.Second)
	bob := sw.Phone(t, "201", "secret-201", phonetest.Options{})
	watcher := sw.Phone(t, "202", "secret-202", phonetest.Options{})
	sub, res, err := watcher.Subscribe(ctx, presence.EventPresence, "201", 600)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("subscribe: %v %v", res, err)
	}
	expect := func(open bool, note string) {
		t.Helper()
		for {
			n, err := sub.Next(ctx)
			if err != nil {
				t.Fatalf("waiting for open=%v: %v", open, err)
			}
			p, err := phonetest.Presence(n)
			if err != nil {
				t.Fatalf("NOTIFY: %v\n%s", err, n)
			}
			if p.Entity != "sip:201@127.0.0.1" {
				t.Fatalf("entity %q", p.Entity)
			}
			if p.Open == open && p.Note == note {
				return
			}
		}
	}
	expect(false, "Offline")
	register(t, ctx, bob)
	expect(true, "Ready")
	if res, err := bob.Unregister(ctx); err != nil || res.StatusCode != 200 {
		t.Fatalf("unregister: %v %v", res, err)
	}
	expect(false, "Offline")
	if st := sw.Server.Presence().Status("201"); st.Activity() != presence.Offline {
		t.Fatalf("Status(201) = %+v", st)
	}
}

// TestBLFUnauthenticatedLearnsNothing: without valid credentials a
// SUBSCRIBE gets the same answer for a busy extension and for one that
// does not exist, and no NOTIFY.
func TestBLFUnauthenticatedLearnsNothing(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{NoMedia: true})
	sw.AddUser(t, "201", "secret-201")
	ctx := ctxFor(t, 10*time.Second)
	bob := sw.Phone(t, "201", "secret-201", phonetest.Options{})
	register(t, ctx, bob)
	stranger := sw.Phone(t, "201", "guessed-password", phonetest.Options{})

	answers := map[string]string{}
	for _, target := range []string{"201", "299"} {
		for _, ev := range []string{presence.EventDialog, presence.EventPresence} {
			// No credentials at all: a challenge, nothing else.
			req := sip.NewRequest(sip.SUBSCRIBE, sip.Uri{Scheme: "sip", User: target, Host: "127.0.0.1"})
			req.AppendHeader(sip.NewHeader("Event", ev))
			req.AppendHeader(&sip.ContactHeader{Address: stranger.Contact()})
			req.SetDestination(sw.Addr())
			res, err := stranger.Send(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			// A wrong password: refused.
			_, res2, err := stranger.Subscribe(ctx, ev, target, 600)
			if err != nil {
				t.Fatal(err)
			}
			answers[target+" "+ev] = res.Short() + " / " + res2.Short()
			if res.StatusCode != 401 || res2.StatusCode != 403 || len(res.Body()) != 0 || len(res2.Body()) != 0 {
				t.Fatalf("%s for %s: %s", ev, target, answers[target+" "+ev])
			}
		}
	}
	for _, ev := range []string{presence.EventDialog, presence.EventPresence} {
		if a, b := answers["201 "+ev], answers["299 "+ev]; a != b {
			t.Errorf("%s: %q for an extension, %q for none", ev, a, b)
		}
	}
	if n := sw.Server.Presence().Count(); n != 0 {
		t.Fatalf("%d subscriptions", n)
	}
	select {
	case n := <-stranger.Unsolicited():
		t.Fatalf("a NOTIFY reached the unauthenticated phone: %s", n)
	case <-time.After(200 * time.Millisecond):
	}
}
