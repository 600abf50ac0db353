package webui

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/store"
	"switchboard/switch/event"
)

func TestDashboard(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	e.addUser("201", "Bob Jones", store.RoleUser)
	e.st.CreateUser(store.User{Ext: "8001", FirstName: "Queue", Role: store.RoleUser, System: true}, store.Device{ID: "8001", Ext: "8001"})
	e.reg.set("200", store.Binding{Contact: "sip:200@192.0.2.1", Source: "192.0.2.1:5060", Transport: "UDP", Updated: time.Now(), Expires: time.Now().Add(time.Hour)})
	e.calls.set(LiveCall{ID: "x", From: "200", To: "201", AnsweredBy: "201b", Start: time.Now().Add(-time.Minute), Answer: time.Now().Add(-50 * time.Second)},
		LiveCall{ID: "y", From: "202", To: "200", Start: time.Now()})
	e.seedCall("a", "200", "201", "201", 30*time.Minute, store.Answered, "caller bye")
	e.seedCall("b", "200", "201", "201", 90*time.Minute, store.Answered, "caller bye")
	e.seedCall("c", "201", "200", "", 5*time.Hour, store.Missed, "no answer")
	e.seedCall("old", "201", "200", "", 30*time.Hour, store.Missed, "no answer")
	b := e.login("100")

	r := b.get("/")
	if r.hdr.Get("Location") != "/admin" {
		t.Fatalf("an office manager's start page: %q", r.hdr.Get("Location"))
	}
	r = b.get("/admin")
	contains(t, r, `data-count="active_calls">2<`, `data-count="users">3<`, `data-count="registered_devices">1<`, `data-count="devices">3<`,
		"200 ↔ 201b", "dialled 201", ">talking<", ">ringing<", "3 calls in 24 hours, 2 answered", `data-events="/admin/events"`)
	if n := strings.Count(r.body, "<g><title>"); n != 24 {
		t.Errorf("%d hour bars, want 24", n)
	}
	part := b.get("/admin/graph")
	contains(t, part, "<svg", "3 calls in 24 hours")
	lacks(t, part, "<html")

	var d struct {
		dashState
		Hours []hourBucket `json:"calls_per_hour"`
	}
	if err := json.Unmarshal([]byte(e.apiLogin("100").api("GET", "/api/dashboard", nil).body), &d); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, h := range d.Hours {
		total += h.Calls
	}
	if d.ActiveCalls != 2 || d.Users != 3 || len(d.Hours) != 24 || total != 3 || d.Calls[0].State != "talking" {
		t.Fatalf("/api/dashboard: %+v", d)
	}

	// A user has no dashboard, by page, stream or API.
	u := e.login("200")
	for _, p := range []string{"/admin", "/admin/events", "/admin/graph"} {
		if r := u.get(p); r.code != http.StatusForbidden {
			t.Errorf("user GET %s: %d", p, r.code)
		}
	}
	if r := u.api("GET", "/api/events", nil); r.code != http.StatusForbidden {
		t.Errorf("user GET /api/events: %d", r.code)
	}
}

func TestDashboardEventStream(t *testing.T) {
	e := newEnv(t)
	b := e.login("100")
	events, stop := b.sse("/admin/events")
	defer stop()
	read := func(what string) dashState {
		t.Helper()
		ev, ok := next(t, events, 3*time.Second)
		if !ok || ev.name != "dashboard" {
			t.Fatalf("%s: %+v %v", what, ev, ok)
		}
		var s dashState
		if err := json.Unmarshal([]byte(ev.data), &s); err != nil {
			t.Fatalf("%s: %v in %s", what, err, ev.data)
		}
		return s
	}
	if s := read("first state"); s.ActiveCalls != 0 || s.Users != 1 || s.Calls == nil {
		t.Fatalf("first state: %+v", s)
	}
	e.calls.set(LiveCall{ID: "c1", From: "100", To: "200", Start: time.Now()})
	e.bus.Publish(event.Event{Kind: event.CallStarted, CallID: "c1", From: "100", To: "200"})
	e.bus.Publish(event.Event{Kind: event.CallRinging, CallID: "c1"})
	s := read("call started")
	if s.ActiveCalls != 1 || s.Calls[0].From != "100" || s.Calls[0].State != "ringing" || s.GraphChanged {
		t.Fatalf("call started: %+v", s)
	}
	e.calls.set()
	e.bus.Publish(event.Event{Kind: event.CallEnded, CallID: "c1"})
	if s := read("call ended"); s.ActiveCalls != 0 || !s.GraphChanged {
		t.Fatalf("call ended: %+v", s)
	}
	e.reg.set("100", store.Binding{Source: "192.0.2.1:5060", Expires: time.Now().Add(time.Hour)})
	e.bus.Publish(event.Event{Kind: event.Registered, Device: "100"})
	if s := read("registered"); s.RegisteredDevices != 1 || s.GraphChanged {
		t.Fatalf("registered: %+v", s)
	}
}
