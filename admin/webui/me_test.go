package webui

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/store"
	"switchboard/switch/event"
)

func TestMyAccountPages(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	e.addUser("201", "Bob Jones", store.RoleUser)
	e.ops.AddDevice(context.Background(), "200", "")
	e.reg.set("200b", store.Binding{Contact: "sip:200b@192.0.2.7:5060", Source: "192.0.2.7:5060", Transport: "UDP",
		UserAgent: "Grandstream GXP2170", Updated: time.Now(), Expires: time.Now().Add(time.Hour)})
	e.reg.set("201", store.Binding{Contact: "sip:201@192.0.2.8:5060", Source: "192.0.2.8:5060", Transport: "UDP",
		UserAgent: "Bob's phone", Updated: time.Now(), Expires: time.Now().Add(time.Hour)})
	e.seedCall("in", "201", "200", "200b", time.Hour, store.Answered, "caller bye")
	e.seedCall("out", "200", "202", "", 2*time.Hour, store.Missed, "no answer")
	e.seedCall("other", "201", "202", "202", 3*time.Hour, store.Answered, "secret of bob")
	b := e.login("200")

	r := b.get("/")
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/me" {
		t.Fatalf("a user's start page: %d %q", r.code, r.hdr.Get("Location"))
	}
	r = b.get("/me")
	contains(t, r, "1 <span class=\"muted\">of 2</span>", "phones online", "from 201", "to 202", "calls in the last 30 days",
		"No rule of yours applies", "A call now: <span class=\"mono\">ring 200")
	lacks(t, r, "secret of bob", "Bob&#39;s phone")

	r = b.get("/me/phones")
	contains(t, r, `id="phones-live"`, "1 of 2 online", "Grandstream GXP2170", "192.0.2.7", "✓ online", "✗ offline")
	lacks(t, r, "Bob&#39;s phone", "192.0.2.8")
	part := b.get("/me/phones?partial=1")
	contains(t, part, `id="phones-table"`, "Grandstream GXP2170")
	lacks(t, part, "<html", "Log out")

	r = b.get("/me/calls")
	contains(t, r, "Calls 1–2 of 2", `href="/me/calls.csv?`)
	lacks(t, r, "secret of bob", `id="ext"`) // no extension filter on one's own history
	r = b.get("/me/calls?ext=201")           // ignored: always one's own
	lacks(t, r, "secret of bob")
	csvBody := b.get("/me/calls.csv?ext=201").body
	if strings.Count(csvBody, "\n") != 3 || strings.Contains(csvBody, "secret of bob") {
		t.Fatalf("own CSV:\n%s", csvBody)
	}

	devs := decode[[]deviceJSON](t, e.apiLogin("200").api("GET", "/api/me/devices", nil))
	if len(devs) != 2 || devs[0].Online || !devs[1].Online || devs[1].Registrations[0].UserAgent != "Grandstream GXP2170" {
		t.Fatalf("/api/me/devices: %+v", devs)
	}
	// An office manager sees the section switch and can open My Account.
	m := e.login("100")
	contains(t, m.get("/me"), "Manage Organization", "My Account")
}

// sse reads a Server-Sent Events stream: each event's name and data.
type sseEvent struct{ name, data string }

func (b *browser) sse(path string) (<-chan sseEvent, func()) {
	b.e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", b.e.srv.URL+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		b.e.t.Fatalf("SSE %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.name != "":
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	return out, func() { cancel(); res.Body.Close() }
}

func next(t *testing.T, ch <-chan sseEvent, within time.Duration) (sseEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		return ev, ok
	case <-time.After(within):
		return sseEvent{}, false
	}
}

func TestPhonesEventStream(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.login("200")
	events, stop := b.sse("/me/events")
	defer stop()
	if ev, ok := next(t, events, 2*time.Second); !ok || ev.name != "devices" {
		t.Fatalf("first event: %+v %v", ev, ok)
	}
	e.bus.Publish(event.Event{Kind: event.Registered, Device: "201"}) // someone else's phone: nothing
	if ev, ok := next(t, events, 3*coalesce); ok {
		t.Fatalf("an event for another user's phone reached the stream: %+v", ev)
	}
	for range 5 { // a burst is one update
		e.bus.Publish(event.Event{Kind: event.Registered, Device: "200b"})
	}
	if ev, ok := next(t, events, 2*time.Second); !ok || ev.name != "devices" || ev.data != `{"ext":"200"}` {
		t.Fatalf("after a registration: %+v %v", ev, ok)
	}
	if ev, ok := next(t, events, 3*coalesce); ok {
		t.Fatalf("a burst gave a second update: %+v", ev)
	}
	e.bus.Publish(event.Event{Kind: event.Expired, Device: "200"})
	if ev, ok := next(t, events, 2*time.Second); !ok || ev.name != "devices" {
		t.Fatalf("after an expiry: %+v %v", ev, ok)
	}
}

// One login keeps at most maxStreams live-update streams: a new one ends
// its oldest (perhaps a tab whose network went away), not itself.
func TestLiveStreamsPerLogin(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.login("200")
	var streams []<-chan sseEvent
	for range maxStreams + 1 {
		events, stop := b.sse("/me/events")
		defer stop()
		if ev, ok := next(t, events, 2*time.Second); !ok || ev.name != "devices" {
			t.Fatalf("stream %d: first event %+v %v", len(streams)+1, ev, ok)
		}
		streams = append(streams, events)
	}
	deadline := time.After(3 * time.Second)
	for ended := false; !ended; {
		select {
		case _, ok := <-streams[0]:
			ended = !ok
		case <-deadline:
			t.Fatal("the oldest stream did not end")
		}
	}
	e.bus.Publish(event.Event{Kind: event.Registered, Device: "200"})
	for i, events := range streams[1:] {
		if ev, ok := next(t, events, 2*time.Second); !ok || ev.name != "devices" {
			t.Fatalf("stream %d after an event: %+v %v", i+2, ev, ok)
		}
	}
	e.app.streamsMu.Lock()
	defer e.app.streamsMu.Unlock()
	for _, open := range e.app.streams { // the one login's
		if len(open) != maxStreams {
			t.Errorf("%d streams counted, want %d", len(open), maxStreams)
		}
	}
}
