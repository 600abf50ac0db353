package presence_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/store"
	"switchboard/switch/phonetest"
	"switchboard/switch/presence"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// mwi waits for the next NOTIFY on sub and checks its counts and state.
func expectMWI(t *testing.T, ctx context.Context, sub *phonetest.Subscription, newMsgs, old int, state string) *sip.Request {
	t.Helper()
	n, err := sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkMWI(t, n, newMsgs, old)
	if got := phonetest.SubscriptionState(n); !strings.HasPrefix(got, state) {
		t.Fatalf("Subscription-State = %q, want %s…", got, state)
	}
	return n
}

func checkMWI(t *testing.T, n *sip.Request, newMsgs, old int) {
	t.Helper()
	s, waiting, err := phonetest.MWI(n)
	if err != nil {
		t.Fatalf("NOTIFY: %v\n%s", err, n)
	}
	if s.New != newMsgs || s.Old != old || waiting != (newMsgs > 0) {
		t.Fatalf("MWI = %d/%d waiting=%v, want %d/%d", s.New, s.Old, waiting, newMsgs, old)
	}
	if !strings.HasPrefix(s.Account, "sip:") || !strings.HasSuffix(s.Account, "@127.0.0.1") {
		t.Fatalf("Message-Account = %q", s.Account)
	}
}

func saveMessage(t *testing.T, st *store.Store, ext string) store.VoiceMessage {
	t.Helper()
	m, err := st.SaveMessage(store.VoiceMessage{Ext: ext, Caller: "201", Duration: time.Second}, make([]byte, 8000))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSubscribeMWI(t *testing.T) {
	for _, transport := range []string{"UDP", "TCP"} {
		t.Run(transport, func(t *testing.T) {
			sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{NoMedia: true})
			sw.AddUser(t, "200", "secret-200")
			ph := sw.Phone(t, "200", "secret-200", phonetest.Options{Transport: transport})
			ctx := ctxFor(t, 10*time.Second)

			sub, res, err := ph.Subscribe(ctx, presence.EventMWI, "200", 600)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("subscribe: %v %v", res, err)
			}
			if h := res.GetHeader("Expires"); h == nil || h.Value() != "600" {
				t.Fatalf("200 OK Expires = %v", h)
			}
			if res.Contact() == nil {
				t.Fatal("200 OK without Contact")
			}
			n := expectMWI(t, ctx, sub, 0, 0, "active;expires=")
			if s, _, _ := phonetest.MWI(n); s.Account != "sip:200@127.0.0.1" {
				t.Fatalf("Message-Account = %q", s.Account)
			}

			m := saveMessage(t, sw.Store, "200")
			sw.Server.Presence().Changed("200")
			expectMWI(t, ctx, sub, 1, 0, "active")
			if err := sw.Store.SetMessageRead("200", m.ID, true); err != nil {
				t.Fatal(err)
			}
			sw.Server.Presence().Changed("200")
			expectMWI(t, ctx, sub, 0, 1, "active")

			// A refresh gets a NOTIFY too, with the new expiry.
			res, err = sub.Refresh(ctx, 1200)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("refresh: %v %v", res, err)
			}
			expectMWI(t, ctx, sub, 0, 1, "active;expires=")
			if got := sw.Server.Presence().Count(); got != 1 {
				t.Fatalf("%d subscriptions, want 1", got)
			}

			// Unsubscribe: 200, then a final NOTIFY, then no subscription.
			res, err = sub.Unsubscribe(ctx)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("unsubscribe: %v %v", res, err)
			}
			expectMWI(t, ctx, sub, 0, 1, "terminated")
			if got := sw.Server.Presence().Count(); got != 0 {
				t.Fatalf("%d subscriptions after unsubscribe", got)
			}
			if res, _ := sub.Refresh(ctx, 600); res == nil || res.StatusCode != 481 {
				t.Fatalf("refresh after unsubscribe: %v", res)
			}
		})
	}
}

func TestSubscribeRefused(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{NoMedia: true})
	sw.AddUser(t, "200", "secret-200")
	sw.AddUser(t, "201", "secret-201")
	sw.AddDevice(t, "200", "200b", "secret-200b")
	ctx := ctxFor(t, 10*time.Second)
	ph := sw.Phone(t, "200", "secret-200", phonetest.Options{})

	for _, tc := range []struct {
		name    string
		phone   *phonetest.Phone
		event   string
		user    string
		expires int
		code    int
	}{
		{"other event", ph, "conference", "200", 600, 489},
		{"someone else's box", ph, presence.EventMWI, "201", 600, 403},
		{"unknown box", ph, presence.EventMWI, "299", 600, 403},
		{"unknown extension's BLF", ph, presence.EventDialog, "299", 600, 404},
		{"unknown extension's presence", ph, presence.EventPresence, "299", 600, 404},
		{"too brief", ph, presence.EventMWI, "200", 10, 423},
		{"wrong password", sw.Phone(t, "200", "wrong-password", phonetest.Options{}), presence.EventMWI, "200", 600, 403},
		{"unknown device", sw.Phone(t, "299", "secret-299", phonetest.Options{}), presence.EventMWI, "299", 600, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub, res, err := tc.phone.Subscribe(ctx, tc.event, tc.user, tc.expires)
			if err != nil {
				t.Fatal(err)
			}
			if sub != nil || res.StatusCode != tc.code {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.code)
			}
			switch tc.code {
			case 489:
				if h := res.GetHeader("Allow-Events"); h == nil || h.Value() != presence.AllowEvents {
					t.Fatalf("489 Allow-Events = %v", h)
				}
			case 423:
				if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
					t.Fatalf("423 Min-Expires = %v", h)
				}
			}
		})
	}
	if n := sw.Server.Presence().Count(); n != 0 {
		t.Fatalf("%d subscriptions after refusals", n)
	}

	// Another device of the same extension, and no user in the URI, both watch 200.
	other := sw.Phone(t, "200b", "secret-200b", phonetest.Options{})
	for _, user := range []string{"200", "200b", ""} {
		sub, res, err := other.Subscribe(ctx, presence.EventMWI, user, 600)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("200b watching %q: %v %v", user, res, err)
		}
		expectMWI(t, ctx, sub, 0, 0, "active")
	}

	// A challenge first: a SUBSCRIBE without credentials gets 401.
	req := sip.NewRequest(sip.SUBSCRIBE, sip.Uri{Scheme: "sip", User: "200", Host: "127.0.0.1"})
	req.AppendHeader(sip.NewHeader("Event", presence.EventMWI))
	req.AppendHeader(&sip.ContactHeader{Address: ph.Contact()})
	req.SetDestination(sw.Addr())
	res, err := ph.Send(ctx, req)
	if err != nil || res.StatusCode != 401 || res.GetHeader("WWW-Authenticate") == nil {
		t.Fatalf("unauthenticated SUBSCRIBE: %v %v", res, err)
	}
}

func TestUnsubscribedPhoneGetsUnsolicitedMWI(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{NoMedia: true})
	sw.AddUser(t, "200", "secret-200")
	sw.AddDevice(t, "200", "200b", "secret-200b")
	sw.AddUser(t, "201", "secret-201")
	ctx := ctxFor(t, 10*time.Second)

	watcher := sw.Phone(t, "200", "secret-200", phonetest.Options{})
	plain := sw.Phone(t, "200b", "secret-200b", phonetest.Options{Transport: "TCP"})
	stranger := sw.Phone(t, "201", "secret-201", phonetest.Options{})
	for _, p := range []*phonetest.Phone{watcher, plain, stranger} {
		if res, err := p.Register(ctx, 600); err != nil || res.StatusCode != 200 {
			t.Fatalf("register: %v %v", res, err)
		}
	}
	sub, _, err := watcher.Subscribe(ctx, presence.EventMWI, "200", 600)
	if err != nil {
		t.Fatal(err)
	}
	expectMWI(t, ctx, sub, 0, 0, "active")

	saveMessage(t, sw.Store, "200")
	sw.Server.Presence().Changed("200")

	// The phone that did not subscribe is told out of dialog...
	select {
	case n := <-plain.Unsolicited():
		checkMWI(t, n, 1, 0)
		if n.To().Params.Has("tag") || phonetest.SubscriptionState(n) != "" {
			t.Fatalf("unsolicited NOTIFY looks like a dialog's: %s", n)
		}
	case <-ctx.Done():
		t.Fatal("no unsolicited NOTIFY")
	}
	// ...the subscribed one only in its dialog.
	expectMWI(t, ctx, sub, 1, 0, "active")
	select {
	case n := <-watcher.Unsolicited():
		t.Fatalf("subscribed phone got an unsolicited NOTIFY too: %s", n)
	default:
	}
	// 201's phone hears nothing about 200's box.
	sw.Server.Presence().Changed("201")
	select {
	case n := <-stranger.Unsolicited():
		checkMWI(t, n, 0, 0) // its own (empty) box
	case <-ctx.Done():
		t.Fatal("no NOTIFY for 201's own box")
	}
}

func TestRegisteringPhoneLearnsWaitingMessages(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{NoMedia: true})
	sw.AddUser(t, "200", "secret-200")
	sw.AddUser(t, "201", "secret-201")
	saveMessage(t, sw.Store, "200")
	ctx := ctxFor(t, 10*time.Second)

	ph := sw.Phone(t, "200", "secret-200", phonetest.Options{})
	empty := sw.Phone(t, "201", "secret-201", phonetest.Options{})
	for _, p := range []*phonetest.Phone{ph, empty} {
		if res, err := p.Register(ctx, 600); err != nil || res.StatusCode != 200 {
			t.Fatalf("register: %v %v", res, err)
		}
	}
	select {
	case n := <-ph.Unsolicited():
		checkMWI(t, n, 1, 0)
	case <-ctx.Done():
		t.Fatal("a phone registering with messages waiting was not told")
	}
	// A phone with nothing waiting is left alone (SIPp load tests would choke on NOTIFYs).
	res, err := empty.Register(ctx, 600)
	if err != nil || res.StatusCode != 200 {
		t.Fatal(res, err)
	}
	select {
	case n := <-empty.Unsolicited():
		t.Fatalf("NOTIFY to a phone with an empty box: %s", n)
	default:
	}
}

func TestSubscriptionExpiresAndDropsOnFailure(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{NoMedia: true})
	sw.AddUser(t, "200", "secret-200")
	ctx := ctxFor(t, 10*time.Second)
	ph := sw.Phone(t, "200", "secret-200", phonetest.Options{})
	pres := sw.Server.Presence()

	sub, _, err := ph.Subscribe(ctx, presence.EventMWI, "200", 60)
	if err != nil {
		t.Fatal(err)
	}
	expectMWI(t, ctx, sub, 0, 0, "active;expires=60")
	pres.Expire(time.Now().Add(30 * time.Second))
	if pres.Count() != 1 {
		t.Fatal("expired early")
	}
	pres.Expire(time.Now().Add(61 * time.Second))
	expectMWI(t, ctx, sub, 0, 0, "terminated;reason=timeout")
	if pres.Count() != 0 {
		t.Fatal("expired subscription kept")
	}

	// A phone that answers 481 has forgotten the subscription: it is dropped.
	sub, _, err = ph.Subscribe(ctx, presence.EventMWI, "200", 600)
	if err != nil {
		t.Fatal(err)
	}
	expectMWI(t, ctx, sub, 0, 0, "active")
	ph.RejectNotifies(481)
	pres.Changed("200")
	for pres.Count() != 0 {
		if ctx.Err() != nil {
			t.Fatal("subscription kept after 481")
		}
		time.Sleep(5 * time.Millisecond)
	}

	// A fetch (Expires: 0) gets one NOTIFY and keeps nothing.
	ph.RejectNotifies(0)
	sub, res, err := ph.Subscribe(ctx, presence.EventMWI, "200", 0)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("fetch: %v %v", res, err)
	}
	expectMWI(t, ctx, sub, 0, 0, "terminated")
	if pres.Count() != 0 {
		t.Fatal("a fetch left a subscription")
	}
}

func TestDeletedUserEndsSubscription(t *testing.T) {
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{NoMedia: true})
	sw.AddUser(t, "200", "secret-200")
	ctx := ctxFor(t, 10*time.Second)
	ph := sw.Phone(t, "200", "secret-200", phonetest.Options{})
	sub, _, err := ph.Subscribe(ctx, presence.EventMWI, "", 600)
	if err != nil {
		t.Fatal(err)
	}
	expectMWI(t, ctx, sub, 0, 0, "active")
	if err := sw.Store.DeleteUser("200"); err != nil {
		t.Fatal(err)
	}
	sw.Server.Presence().Changed("200")
	expectMWI(t, ctx, sub, 0, 0, "terminated;reason=noresource")
	if sw.Server.Presence().Count() != 0 {
		t.Fatal("subscription of a deleted user kept")
	}
}
