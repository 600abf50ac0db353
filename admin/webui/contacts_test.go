package webui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/store"
	"switchboard/switch/event"
)

// contactsEnv is an office: the manager (100), Alice (200, logged in), Bob (201, online),
// Carol (202, offline), Dan (203, disabled), a queue (800, system).
func contactsEnv(t *testing.T) *env {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	e.addUser("201", "Bob Jones", store.RoleUser)
	e.addUser("202", `Carol <b>King</b>`, store.RoleUser)
	e.addUser("203", "Dan Gone", store.RoleUser)
	e.st.UpdateUser("201", func(u *store.User) error { u.Department = "Sales"; return nil })
	e.st.UpdateUser("202", func(u *store.User) error { u.Department = `<i>Support</i>`; return nil })
	e.st.UpdateUser("203", func(u *store.User) error { u.Disabled = true; return nil })
	if err := e.st.CreateUser(store.User{Ext: "800", FirstName: "Sales queue", Role: store.RoleUser, System: true},
		store.Device{ID: "800", Ext: "800"}); err != nil {
		t.Fatal(err)
	}
	e.reg.set("201", store.Binding{Contact: "sip:201@192.0.2.8", Source: "192.0.2.8:5060", Transport: "UDP",
		Updated: time.Now(), Expires: time.Now().Add(time.Hour)})
	return e
}

func TestContactsPage(t *testing.T) {
	e := contactsEnv(t)
	b := e.login("200")
	r := b.get("/me/contacts")
	contains(t, r, `id="contact-201"`, "Bob Jones", "Sales", `class="status online" data-status-ext="201">✓ online`,
		`class="status offline" data-status-ext="202">✗ offline`, "Carol &lt;b&gt;King&lt;/b&gt;", "&lt;i&gt;Support&lt;/i&gt;",
		`<span class="badge">you</span>`, `contacts-table">4</span> of 4 people`)
	lacks(t, r, "Dan Gone", "Sales queue", "<b>King</b>", `action="/me/contacts/200/star"`)

	// Live calls: a caller and an answerer are on a call, a dialled colleague rings.
	e.calls.set(LiveCall{ID: "c1", From: "201b", To: "202", Start: time.Now()})
	contains(t, b.get("/me/contacts"), `class="status on_call" data-status-ext="201">on a call`,
		`class="status ringing" data-status-ext="202">ringing`)
	e.calls.set(LiveCall{ID: "c1", From: "202", To: "201", AnsweredBy: "201", Start: time.Now(), Answer: time.Now()})
	contains(t, b.get("/me/contacts"), `data-status-ext="201">on a call`, `data-status-ext="202">on a call`)
	e.calls.set()

	// Search and filters.
	r = b.get("/me/contacts?q=sales")
	contains(t, r, "Bob Jones", `contacts-table">1</span> of 4 people`)
	lacks(t, r, `id="contact-200"`)
	contains(t, b.get("/me/contacts?q=zzz"), "Nobody matches “zzz”.")
	r = b.get("/me/contacts?show=available")
	contains(t, r, "Bob Jones")
	lacks(t, r, `id="contact-202"`)
	contains(t, b.get("/me/contacts?show=favourites"), "No favourites.")

	// Stars: stored per user, favourites first.
	r = b.post("/me/contacts/202/star", url.Values{"q": {"c"}})
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/me/contacts?done=starred&q=c" {
		t.Fatalf("star: %d %q", r.code, r.hdr.Get("Location"))
	}
	if favs, _ := e.st.Favourites("200"); !slices.Equal(favs, []string{"202"}) {
		t.Fatalf("favourites: %v", favs)
	}
	r = b.get("/me/contacts")
	if strings.Index(r.body, `id="contact-202"`) > strings.Index(r.body, `id="contact-200"`) {
		t.Error("the favourite is not first")
	}
	contains(t, r, `action="/me/contacts/202/unstar"`, `aria-pressed="true"`, "1 ★ first")
	contains(t, b.get("/me/contacts?show=favourites"), `id="contact-202"`)
	for _, bad := range []string{"203", "800", "299", "abc"} {
		if r := b.post("/me/contacts/"+bad+"/star", nil); r.code != http.StatusNotFound {
			t.Errorf("starring %s: %d", bad, r.code)
		}
	}
	if r := b.post("/me/contacts/200/star", nil); r.code != http.StatusBadRequest {
		t.Errorf("starring oneself: %d", r.code)
	}
	if favs, _ := e.st.Favourites("201"); favs != nil {
		t.Errorf("201's favourites changed: %v", favs)
	}
	b.post("/me/contacts/202/unstar", nil)
	if favs, _ := e.st.Favourites("200"); len(favs) != 0 {
		t.Fatalf("after unstarring: %v", favs)
	}

	// The quick list of the header: a fragment, favourites first.
	b.post("/me/contacts/201/star", nil)
	part := b.get("/me/contacts?partial=1")
	contains(t, part, `id="quick-table"`, "Bob Jones")
	lacks(t, part, "<html", "Dan Gone")
	if strings.Index(part.body, "Bob Jones") > strings.Index(part.body, "Alice Smith") {
		t.Error("the quick list does not start with the favourite")
	}
	// Every page has the pop-up.
	contains(t, b.get("/me/phones"), `id="quick-contacts"`, `<dialog id="quick"`)
}

func TestContactsEventsAndAPI(t *testing.T) {
	e := contactsEnv(t)
	b := e.login("200")
	events, stop := b.sse("/me/contacts/events")
	defer stop()
	ev, ok := next(t, events, 2*time.Second)
	if !ok || ev.name != "contacts" || !strings.Contains(ev.data, `"201":"online"`) || !strings.Contains(ev.data, `"202":"offline"`) {
		t.Fatalf("first event: %+v %v", ev, ok)
	}
	if strings.Contains(ev.data, `"800"`) || strings.Contains(ev.data, `"203"`) {
		t.Errorf("system or disabled users in the statuses: %s", ev.data)
	}
	e.reg.set("202", store.Binding{Contact: "sip:202@192.0.2.9", Source: "192.0.2.9:5060", Updated: time.Now(), Expires: time.Now().Add(time.Hour)})
	e.bus.Publish(event.Event{Kind: event.Registered, Device: "202"})
	if ev, ok := next(t, events, 2*time.Second); !ok || !strings.Contains(ev.data, `"202":"online"`) {
		t.Fatalf("after 202 registered: %+v %v", ev, ok)
	}
	e.calls.set(LiveCall{ID: "c1", From: "202", To: "201", Start: time.Now()})
	e.bus.Publish(event.Event{Kind: event.CallRinging, From: "202", To: "201"})
	if ev, ok := next(t, events, 2*time.Second); !ok || !strings.Contains(ev.data, `"201":"ringing"`) || !strings.Contains(ev.data, `"202":"on_call"`) {
		t.Fatalf("after a call started: %+v %v", ev, ok)
	}

	api := e.apiLogin("200")
	if r := api.api("PUT", "/api/me/favourites/202", nil); r.code != 200 || !strings.Contains(r.body, `"202"`) {
		t.Fatalf("star: %d %s", r.code, r.body)
	}
	r := api.api("GET", "/api/me/contacts", nil)
	var list []contact
	if err := json.Unmarshal([]byte(r.body), &list); err != nil || len(list) != 4 || list[0].Ext != "202" || !list[0].Favourite ||
		list[0].Status != statusOnCall || !slices.ContainsFunc(list, func(c contact) bool { return c.Ext == "201" && c.Status == statusRinging }) {
		t.Fatalf("contacts: %v %s", err, r.body)
	}
	if r := api.api("GET", "/api/me/contacts?q=sales", nil); strings.Count(r.body, `"ext"`) != 1 {
		t.Fatalf("search: %s", r.body)
	}
	if r := api.api("PUT", "/api/me/favourites/800", nil); r.code != 404 {
		t.Fatalf("starring a queue: %d %s", r.code, r.body)
	}
	if r := api.api("DELETE", "/api/me/favourites/202", nil); r.code != 200 || !strings.Contains(r.body, `"favourites": []`) {
		t.Fatalf("unstar: %d %s", r.code, r.body)
	}
	if r := api.api("PUT", "/api/me/favourites/201", map[string]any{}); r.code != 200 {
		t.Fatalf("star with a body: %d", r.code)
	}
	api.csrf = ""
	if r := api.api("PUT", "/api/me/favourites/202", nil); r.code != http.StatusForbidden {
		t.Fatalf("star without CSRF: %d", r.code)
	}
}

func TestDepartmentFromUserPage(t *testing.T) {
	e := contactsEnv(t)
	m := e.login("100")
	contains(t, m.get("/admin/users/201"), `id="department"`, `value="Sales"`)
	r := m.post("/admin/users/200", url.Values{"name": {"Alice Smith"}, "role": {"user"}, "department": {strings.Repeat("x", 101)}})
	if r.code != http.StatusBadRequest {
		t.Fatalf("long department: %d", r.code)
	}
	contains(t, r, "A department is at most 100 characters")
	if r := m.post("/admin/users/200", url.Values{"name": {"Alice Smith"}, "role": {"user"}, "department": {" Accounts "}}); r.code != http.StatusSeeOther {
		t.Fatalf("set department: %d %s", r.code, r.body)
	}
	if u, _ := e.st.User("200"); u.Department != "Accounts" {
		t.Fatalf("stored department %q", u.Department)
	}
	contains(t, e.login("201").get("/me/contacts"), "Accounts")
	api := e.apiLogin("100")
	if r := api.api("PATCH", "/api/users/201", map[string]string{"department": ""}); r.code != 200 || strings.Contains(r.body, "Sales") {
		t.Fatalf("API clears the department: %d %s", r.code, r.body)
	}
}
