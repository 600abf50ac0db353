package webui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/admin/control"
	"switchboard/store"
)

// frameForm values for a frame with one weekly range and one date row.
func frameValues(name string, days []string, start, end string, extra url.Values) url.Values {
	v := url.Values{"name": {name}, "weekly_rows": {"2"}, "date_rows": {"2"}, "w0_days": days, "w0_start": {start}, "w0_end": {end}}
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

func TestAdminTimeFrames(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.login("100")

	r := b.get("/admin/timeframes")
	contains(t, r, "No time frames yet.", `id="zone-form"`, "Not set: the box&#39;s own zone (UTC")
	contains(t, b.get("/admin/timeframes/new"), `name="w0_days" value="1" checked`, `value="09:00"`)

	// Every row is checked on its own; messages go next to them.
	r = b.post("/admin/timeframes", frameValues("", nil, "09:00", "17:00", url.Values{
		"d0_from": {"2026-12-26"}, "d0_to": {"2026-12-24"}, "d1_start": {"10:00"}}))
	if r.code != http.StatusBadRequest {
		t.Fatalf("bad frame: %d", r.code)
	}
	contains(t, r, "Give the time frame a name", "Tick at least one day.", "2026-12-24 is before 2026-12-26",
		"Enter the date (or the first date of the range).", `value="2026-12-26"`)
	contains(t, b.post("/admin/timeframes", frameValues("Night", []string{"1"}, "25:00", "", nil)), "Enter the times as hours and minutes")
	contains(t, b.post("/admin/timeframes", frameValues("Nothing", nil, "", "", nil)), "Add at least one weekly range or one date.")
	// More rows: the form again with room, nothing saved.
	r = b.post("/admin/timeframes", frameValues("Office hours", []string{"1", "2"}, "09:00", "17:00", url.Values{"more": {"1"}}))
	contains(t, r, `name="w2_start"`, `value="Office hours"`)
	if frames, _ := e.st.TimeFrames("*"); len(frames) != 0 {
		t.Fatalf("frames stored by refused forms: %+v", frames)
	}

	r = b.post("/admin/timeframes", frameValues("Office hours", []string{"1", "2", "3", "4", "5"}, "09:00", "17:00",
		url.Values{"w1_days": {"6"}, "w1_start": {""}, "w1_end": {""}, "d0_from": {"2026-12-24"}, "d0_to": {"2026-12-26"}}))
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/timeframes?done=added" {
		t.Fatalf("add: %d %s", r.code, r.body)
	}
	tf, err := e.st.TimeFrame("office-hours")
	if err != nil || tf.Owner != "" || len(tf.Weekly) != 2 || tf.Weekly[1].Start != "00:00" || tf.Weekly[1].End != "24:00" ||
		len(tf.Dates) != 1 || tf.Dates[0].To != "2026-12-26" {
		t.Fatalf("stored frame: %+v, %v", tf, err)
	}
	r = b.get("/admin/timeframes?done=added")
	contains(t, r, "The time frame is added.", "Office hours", "Mon–Fri 09:00–17:00", "Sat all day",
		"Thu 24 Dec 2026 – Sat 26 Dec 2026, all day", "no rule")
	contains(t, b.post("/admin/timeframes", frameValues("office HOURS", []string{"1"}, "09:00", "10:00", nil)),
		"A time frame named &#34;Office hours&#34; already exists")

	// A rule uses it: the list says so, and it cannot be deleted.
	if _, err := e.ops.AddRule(context.Background(), "200", control.RuleSpec{Name: "Day", TimeFrame: "office-hours",
		First: store.RuleStep{Action: store.ActVoicemail}}); err != nil {
		t.Fatal(err)
	}
	contains(t, b.get("/admin/timeframes"), `href="/admin/users/200">200 Alice Smith</a>: “Day”`)
	r = b.post("/admin/timeframes/office-hours/delete", nil)
	if r.code != http.StatusConflict {
		t.Fatalf("delete a frame in use: %d", r.code)
	}
	contains(t, r, `is used by rule &#34;Day&#34; of 200: remove or change that first.`)

	// Edit: the form shows the frame; a change keeps the id the rule uses.
	r = b.get("/admin/timeframes/office-hours")
	contains(t, r, `value="Office hours"`, `name="w0_days" value="5" checked`, `name="d0_to" value="2026-12-26"`, "Used by", "Alice Smith")
	r = b.post("/admin/timeframes/office-hours", frameValues("Opening hours", []string{"1"}, "08:00", "00:00", nil))
	if r.code != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.code, r.body)
	}
	if tf, _ := e.st.TimeFrame("office-hours"); tf.Name != "Opening hours" || tf.Weekly[0].End != "24:00" || len(tf.Dates) != 0 {
		t.Fatalf("edited frame: %+v", tf)
	}
	contains(t, b.get("/admin/timeframes"), "Mon 08:00 to midnight")

	// The time zone.
	r = b.post("/admin/timezone", url.Values{"zone": {"Mars/Olympus"}})
	if r.code != http.StatusBadRequest {
		t.Fatalf("bad zone: %d", r.code)
	}
	contains(t, r, "&#34;Mars/Olympus&#34; is not a time zone this system knows", `value="Mars/Olympus"`)
	if r := b.post("/admin/timezone", url.Values{"zone": {"Europe/Berlin"}}); r.code != http.StatusSeeOther {
		t.Fatalf("set zone: %d %s", r.code, r.body)
	}
	if zone, _ := e.st.TimeZone(); zone != "Europe/Berlin" {
		t.Fatalf("stored zone %q", zone)
	}
	contains(t, b.get("/admin/timeframes?done=zone"), "Set to Europe/Berlin.", "<strong>Europe/Berlin</strong>")

	// A user cannot use the organisation's pages.
	u := e.login("200")
	for _, path := range []string{"/admin/timeframes", "/admin/timeframes/office-hours"} {
		if r := u.get(path); r.code != http.StatusForbidden {
			t.Errorf("user on %s: %d", path, r.code)
		}
	}
	if r := u.post("/admin/timeframes/office-hours/delete", nil); r.code != http.StatusForbidden {
		t.Errorf("user deleting an office frame: %d", r.code)
	}

	// Delete once no rule uses it.
	e.ops.RemoveRule(context.Background(), "200", "Day")
	if r := b.post("/admin/timeframes/office-hours/delete", nil); r.code != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
	if _, err := e.st.TimeFrame("office-hours"); err == nil {
		t.Fatal("the frame is still there")
	}
}

func TestMyTimeFrames(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	e.addUser("201", "Bob Jones", store.RoleUser)
	weekly := []store.WeeklyRange{{Days: []int{1}, Start: "12:00", End: "13:00"}}
	for _, tf := range []store.TimeFrame{{Name: "Office hours", Weekly: weekly}, {Name: "Bob's gym", Owner: "201", Weekly: weekly}} {
		if _, err := e.ops.AddTimeFrame(context.Background(), tf); err != nil {
			t.Fatal(err)
		}
	}
	e.ops.AddRule(context.Background(), "201", control.RuleSpec{Name: "Secret plan", TimeFrame: "office-hours", First: store.RuleStep{Action: store.ActVoicemail}})
	b := e.login("200")
	r := b.get("/me/timeframes")
	contains(t, r, "No time frames yet.", "The office's time frames", "Office hours", "no rule")
	lacks(t, r, "Bob&#39;s gym", "Secret plan", `action="/me/timeframes/office-hours/delete"`)

	r = b.post("/me/timeframes", frameValues("Lunch", []string{"1", "2", "3", "4", "5"}, "12:00", "13:00", nil))
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/me/timeframes?done=added" {
		t.Fatalf("add own: %d %s", r.code, r.body)
	}
	tf, err := e.st.TimeFrame("200-lunch")
	if err != nil || tf.Owner != "200" {
		t.Fatalf("own frame: %+v, %v", tf, err)
	}
	contains(t, b.get("/me/rules"), `<option value="200-lunch"`, `<option value="office-hours"`)
	e.ops.AddRule(context.Background(), "200", control.RuleSpec{Name: "Lunch break", TimeFrame: "200-lunch", First: store.RuleStep{Action: store.ActVoicemail}})
	contains(t, b.get("/me/timeframes"), "Your rule: “Lunch break”")
	contains(t, b.post("/me/timeframes/200-lunch/delete", nil), "is used by rule &#34;Lunch break&#34; of 200")

	// Another user's frame and the office's frames are not one's own to change.
	for _, id := range []string{"201-bob-s-gym", "office-hours", "..%2F201-bob-s-gym"} {
		if r := b.get("/me/timeframes/" + id); r.code != http.StatusNotFound {
			t.Errorf("GET %s: %d", id, r.code)
		}
		if r := b.post("/me/timeframes/"+id, frameValues("Mine now", []string{"1"}, "01:00", "02:00", nil)); r.code != http.StatusNotFound {
			t.Errorf("POST %s: %d", id, r.code)
		}
		if r := b.post("/me/timeframes/"+id+"/delete", nil); r.code != http.StatusNotFound {
			t.Errorf("delete %s: %d", id, r.code)
		}
	}
	if tf, _ := e.st.TimeFrame("201-bob-s-gym"); tf.Name != "Bob's gym" {
		t.Fatalf("bob's frame changed: %+v", tf)
	}
	// Names are shown as text.
	b.post("/me/timeframes", frameValues(`<img src=x onerror=alert(1)>`, []string{"6"}, "", "", nil))
	r = b.get("/me/timeframes")
	contains(t, r, "&lt;img src=x onerror=alert(1)&gt;")
	lacks(t, r, "<img src=x")
	// A user's own frame cannot take the office's name.
	contains(t, b.post("/me/timeframes", frameValues("office hours", []string{"1"}, "09:00", "10:00", nil)), "already exists")
}

func TestTimeFramesAPI(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	admin := e.apiLogin("100")
	r := admin.api("POST", "/api/timeframes", map[string]any{"name": "Office hours",
		"weekly": []map[string]any{{"days": []int{1, 2, 3, 4, 5}, "start": "09:00", "end": "17:00"}}})
	if r.code != http.StatusCreated || !strings.Contains(r.body, `"id": "office-hours"`) {
		t.Fatalf("add: %d %s", r.code, r.body)
	}
	r = admin.api("POST", "/api/timeframes", map[string]any{"name": "Bad", "weekly": []map[string]any{{"days": []int{9}, "start": "09:00", "end": "17:00"}}})
	if f := decode[apiError](t, r).Fields; r.code != 400 || !strings.Contains(f["times"], "day 9") {
		t.Fatalf("bad frame: %d %s", r.code, r.body)
	}
	r = admin.api("PUT", "/api/timeframes/office-hours", map[string]any{"name": "Opening hours", "dates": []map[string]any{{"from": "2026-12-24"}}})
	if r.code != 200 || !strings.Contains(r.body, `"name": "Opening hours"`) {
		t.Fatalf("update: %d %s", r.code, r.body)
	}
	if r := admin.api("PUT", "/api/timezone", map[string]string{"zone": "Nowhere/Land"}); r.code != 400 {
		t.Fatalf("bad zone: %d %s", r.code, r.body)
	}
	if r := admin.api("PUT", "/api/timezone", map[string]string{"zone": "Asia/Tokyo"}); r.code != 200 || !strings.Contains(r.body, `"effective": "Asia/Tokyo"`) {
		t.Fatalf("zone: %d %s", r.code, r.body)
	}

	user := e.apiLogin("200")
	if r := user.api("GET", "/api/timeframes", nil); r.code != http.StatusForbidden {
		t.Fatalf("user on the office's frames: %d", r.code)
	}
	if r := user.api("PUT", "/api/timezone", map[string]string{"zone": "UTC"}); r.code != http.StatusForbidden {
		t.Fatalf("user setting the zone: %d", r.code)
	}
	if r := user.api("GET", "/api/timezone", nil); r.code != 200 || !strings.Contains(r.body, "Asia/Tokyo") {
		t.Fatalf("user reading the zone: %d %s", r.code, r.body)
	}
	r = user.api("POST", "/api/me/timeframes", map[string]any{"name": "Gym", "weekly": []map[string]any{{"days": []int{2}, "start": "18:00", "end": "20:00"}}})
	if r.code != http.StatusCreated || !strings.Contains(r.body, `"owner": "200"`) {
		t.Fatalf("own add: %d %s", r.code, r.body)
	}
	if r := user.api("GET", "/api/me/timeframes", nil); !strings.Contains(r.body, "200-gym") || !strings.Contains(r.body, "office-hours") {
		t.Fatalf("own list: %s", r.body)
	}
	if r := user.api("DELETE", "/api/me/timeframes/office-hours", nil); r.code != 404 {
		t.Fatalf("user deleting the office's frame: %d %s", r.code, r.body)
	}
	if r := user.api("DELETE", "/api/me/timeframes/200-gym", nil); r.code != 200 {
		t.Fatalf("own delete: %d %s", r.code, r.body)
	}
}
