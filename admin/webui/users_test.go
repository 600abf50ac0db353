package webui

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"switchboard/admin/control"
	"switchboard/store"
)

func TestUsersListSearchAndSystemUsers(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	e.addUser("201", "Bob Jones", store.RoleUser)
	e.st.CreateUser(store.User{Ext: "8001", FirstName: "Sales", LastName: "Queue", Role: store.RoleUser, System: true},
		store.Device{ID: "8001", Ext: "8001"})
	b := e.login("100")

	r := b.get("/admin/users")
	contains(t, r, "Alice Smith", "Bob Jones", "Office Manager", `id="hide_system" name="hide_system" type="checkbox" value="1" checked`,
		"(1 system user hidden)")
	lacks(t, r, "Sales Queue")
	r = b.get("/admin/users?filtered=1&q=") // the box unticked
	contains(t, r, "Sales Queue", `<span class="badge">system</span>`)
	r = b.get("/admin/users?filtered=1&hide_system=1&q=alice")
	contains(t, r, "Alice Smith")
	lacks(t, r, "Bob Jones")
	contains(t, b.get("/admin/users?filtered=1&hide_system=1&q=nobody"), "No users match “nobody”.")

	// A basic user may not see it, by page or API.
	u := e.login("200")
	if r := u.get("/admin/users"); r.code != http.StatusForbidden || !strings.Contains(r.body, "This is for office managers only.") {
		t.Fatalf("user on the admin users page: %d", r.code)
	}
	if r := u.api("GET", "/api/users", nil); r.code != http.StatusForbidden {
		t.Fatalf("user on /api/users: %d", r.code)
	}
	list := decode[[]control.UserView](t, e.apiLogin("100").api("GET", "/api/users?system=1", nil))
	if len(list) != 4 {
		t.Fatalf("API list with system users: %+v", list)
	}
}

var secretPw = regexp.MustCompile(`<dd class="pw" data-secret>([^<]+)</dd>`)

func TestCreateUserValidatesAndShowsPasswordsOnce(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.login("100")
	contains(t, b.get("/admin/users/new"), "Add a user")

	r := b.post("/admin/users", url.Values{"ext": {"2a"}, "name": {""}, "email": {"not-an-email"}, "role": {"boss"},
		"password": {"short"}, "sip_password": {`has"quote`}})
	if r.code != http.StatusBadRequest {
		t.Fatalf("bad form: %d", r.code)
	}
	contains(t, r, "Extension &#34;2a&#34; must be 2 to 7 digits, not starting with 0.", "Enter the person&#39;s name.",
		"Email &#34;not-an-email&#34; is not an email address.", "Role &#34;boss&#34; must be admin or user.",
		"Passwords need at least 8 characters.", "Passwords cannot contain quotes, backslashes or line breaks.")
	lacks(t, r, "has&#34;quote", "short") // passwords are not sent back
	contains(t, b.post("/admin/users", url.Values{"ext": {"200"}, "name": {"Again"}, "role": {"user"}}), "Extension 200 is already taken.")

	r = b.post("/admin/users", url.Values{"ext": {"205"}, "name": {"Carol King"}, "email": {"carol@example.com"}, "role": {"user"}})
	if r.code != http.StatusOK {
		t.Fatalf("create: %d\n%s", r.code, r.body)
	}
	contains(t, r, "User 205 created", "Shown only this once", "192.0.2.10:5060")
	pws := secretPw.FindAllStringSubmatch(r.body, -1)
	if len(pws) != 2 {
		t.Fatalf("want the web and SIP passwords shown: %v", pws)
	}
	u, err := e.st.User("205")
	if err != nil || !u.CheckPassword(pws[0][1]) || u.Name() != "Carol King" || u.Emails[0] != "carol@example.com" {
		t.Fatalf("stored user %+v, %v", u, err)
	}
	realm, _ := e.st.SIPRealm()
	d := store.Device{ID: "205"}
	d.SetSIPPassword(realm, pws[1][1])
	if got, _ := e.st.Device("205"); got.HA1MD5 != d.HA1MD5 {
		t.Fatal("the SIP password shown is not the device's")
	}
	r = b.get("/admin/users/205")
	contains(t, r, "Carol King", "205", "✗ offline")
	lacks(t, r, pws[0][1], pws[1][1]) // never shown again
	e.pw["205"] = pws[0][1]
	if c := e.login("205"); c.get("/me/password").code != 200 {
		t.Fatal("the new user cannot log in with the shown password")
	}
}

func TestEditUserAndDevices(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.login("100")
	alice := e.login("200")

	r := b.post("/admin/users/200", url.Values{"name": {""}, "email": {"x@"}, "role": {"user"}})
	contains(t, r, "Enter the person&#39;s name.", "Email &#34;x@&#34; is not an email address.")
	r = b.post("/admin/users/200", url.Values{"name": {"Alice Jones"}, "email": {"alice@example.com"}, "role": {"admin"}})
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/users/200?done=saved" {
		t.Fatalf("save: %d %s", r.code, r.body)
	}
	contains(t, b.get("/admin/users/200?done=saved"), "Changes saved.", `value="Alice Jones"`, `value="alice@example.com"`)
	if u, _ := e.st.User("200"); u.Role != store.RoleAdmin || u.Name() != "Alice Jones" {
		t.Fatalf("stored: %+v", u)
	}
	// An office manager cannot lock themselves out.
	r = b.post("/admin/users/100", url.Values{"name": {"Office Manager"}, "role": {"user"}, "disabled": {"1"}})
	contains(t, r, "You cannot take away your own office-manager role", "You cannot disable your own account.")
	if r := b.post("/admin/users/100/delete", nil); r.code != http.StatusBadRequest {
		t.Fatalf("deleting oneself: %d", r.code)
	}

	// Devices: add one (its SIP password shown once), see the live state, remove it.
	r = b.post("/admin/users/200/devices", nil)
	contains(t, r, "Phone 200b added", "SIP user and auth user", "200b")
	e.reg.set("200b", store.Binding{Contact: "sip:200b@192.0.2.50:5062", Source: "192.0.2.50:5062", Transport: "UDP",
		UserAgent: "Yealink SIP-T46U", Updated: time.Now(), Expires: time.Now().Add(time.Hour)})
	r = b.get("/admin/users/200")
	contains(t, r, "1 of 2 online", "Yealink SIP-T46U", "192.0.2.50:5062/UDP", "✓ online", "✗ offline")
	r = b.post("/admin/devices/200b/sip-password", nil)
	contains(t, r, "New SIP password for 200b")
	if len(secretPw.FindAllString(r.body, -1)) != 1 {
		t.Fatal("no new SIP password shown")
	}
	if r := b.post("/admin/devices/200/delete", nil); r.code != http.StatusBadRequest ||
		!strings.Contains(r.body, "primary device") {
		t.Fatalf("removing the primary device: %d", r.code)
	}
	r = b.post("/admin/devices/200b/delete", nil)
	if r.code != http.StatusSeeOther || e.reg.Lookup("200b") != nil {
		t.Fatalf("remove device: %d, registrations %v", r.code, e.reg.Lookup("200b"))
	}
	if _, err := e.st.Device("200b"); err == nil {
		t.Fatal("device still stored")
	}

	// Disabling ends the user's sessions; resetting the web password shows a new one.
	b.post("/admin/users/200", url.Values{"name": {"Alice Jones"}, "role": {"user"}, "disabled": {"1"}})
	if r := alice.get("/me/password"); r.code != http.StatusSeeOther {
		t.Fatalf("disabled user's session: %d", r.code)
	}
	r = b.post("/admin/users/200/password", nil)
	m := secretPw.FindStringSubmatch(r.body)
	if u, _ := e.st.User("200"); m == nil || !u.CheckPassword(m[1]) {
		t.Fatalf("reset password: %s", r.body)
	}
	r = b.post("/admin/users/200/delete", nil)
	if r.code != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.code)
	}
	if _, err := e.st.User("200"); err == nil {
		t.Fatal("user still stored")
	}
	if r := b.get("/admin/users/200"); r.code != http.StatusNotFound || !strings.Contains(r.body, "There is no user with extension 200.") {
		t.Fatalf("deleted user's page: %d", r.code)
	}
}

func TestUsersAPI(t *testing.T) {
	e := newEnv(t)
	b := e.apiLogin("100")
	r := b.api("POST", "/api/users", map[string]string{"ext": "1", "name": ""})
	if r.code != 400 {
		t.Fatalf("bad user: %d %s", r.code, r.body)
	}
	if f := decode[apiError](t, r).Fields; f["ext"] == "" || f["name"] != "Enter the person's name." {
		t.Fatalf("fields: %+v", f)
	}
	r = b.api("POST", "/api/users", map[string]string{"ext": "210", "name": "Dan\r\nX-Injected: 1"})
	if f := decode[apiError](t, r).Fields; r.code != 400 || !strings.Contains(f["name"], "line breaks") {
		t.Fatalf("name with a line break: %d %+v", r.code, f)
	}
	r = b.api("POST", "/api/users", map[string]string{"ext": "210", "name": "Dan Brown", "role": "user", "password": "dans-password"})
	nu := decode[control.NewUser](t, r)
	if r.code != http.StatusCreated || nu.User.Ext != "210" || nu.Password != "" || len(nu.SIPPassword) != 16 {
		t.Fatalf("create: %d %+v", r.code, nu)
	}
	r = b.api("PATCH", "/api/users/210", map[string]any{"email": "dan@example.com", "disabled": true})
	if v := decode[control.UserView](t, r); r.code != 200 || v.Email != "dan@example.com" || !v.Disabled || v.Name != "Dan Brown" {
		t.Fatalf("patch: %d %+v", r.code, v)
	}
	r = b.api("POST", "/api/users/210/devices", nil)
	if r.code != http.StatusCreated || !strings.Contains(r.body, `"sip_user": "210b"`) || !strings.Contains(r.body, `"sip_password"`) {
		t.Fatalf("add device: %d %s", r.code, r.body)
	}
	u := decode[userJSON](t, b.api("GET", "/api/users/210", nil))
	if len(u.Devices) != 2 || u.Devices[1].ID != "210b" || u.Devices[0].Online {
		t.Fatalf("user: %+v", u)
	}
	if r := b.api("POST", "/api/devices/210b/sip-password", map[string]string{"sip_password": "x"}); r.code != 400 {
		t.Fatalf("short SIP password: %d %s", r.code, r.body)
	}
	if r := b.api("DELETE", "/api/devices/210b", nil); r.code != 200 {
		t.Fatalf("remove device: %d %s", r.code, r.body)
	}
	if r := b.api("POST", "/api/users/210/password", nil); r.code != 200 || len(decode[map[string]string](t, r)["password"]) != 12 {
		t.Fatalf("reset password: %d %s", r.code, r.body)
	}
	if r := b.api("DELETE", "/api/users/210", nil); r.code != 200 {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
	if r := b.api("GET", "/api/users/210", nil); r.code != 404 || decode[apiError](t, r).Error != "There is no user with extension 210." {
		t.Fatalf("deleted: %d %s", r.code, r.body)
	}
	if r := b.api("PATCH", "/api/users/100", map[string]any{"bogus": 1}); r.code != 400 {
		t.Fatalf("unknown field: %d %s", r.code, r.body)
	}
}

// Text a user typed is shown as text, never run as markup.
func TestXSSInertInUserFields(t *testing.T) {
	e := newEnv(t)
	b := e.login("100")
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	r := b.post("/admin/users", url.Values{"ext": {"230"}, "name": {evil}, "role": {"user"}})
	if r.code != 200 {
		t.Fatalf("create: %d", r.code)
	}
	for _, page := range []string{"/admin/users", "/admin/users/230"} {
		r := b.get(page)
		lacks(t, r, "<script>alert", "<img src=x")
		contains(t, r, "&lt;script&gt;alert(1)&lt;/script&gt;")
	}
	r = b.post("/admin/users", url.Values{"ext": {`"><script>x</script>`}, "name": {"n"}, "role": {"user"}})
	lacks(t, r, "<script>x")

	// What phones send (a caller's display name, a user agent) is text too.
	start := time.Now().Add(-time.Minute)
	e.st.SaveCall(store.CallRecord{ID: "x", Caller: "230", CallerName: evil, Callee: `<b>201</b>`, Start: start, End: start,
		Disposition: store.Missed, Cause: evil})
	e.reg.set("230", store.Binding{Source: "192.0.2.1:5060", Transport: "UDP", UserAgent: evil, Updated: time.Now(), Expires: time.Now().Add(time.Hour)})
	for _, page := range []string{"/admin/calls", "/admin/users/230"} {
		r := b.get(page)
		lacks(t, r, "<script>alert", "<img src=x", "<b>201</b>")
	}
	pw := "pass-230-word"
	e.ops.SetUser(context.Background(), "230", control.UserPatch{Password: &pw})
	e.pw["230"] = pw
	own := e.login("230")
	for _, page := range []string{"/me", "/me/phones", "/me/calls"} {
		r := own.get(page)
		if r.code != 200 {
			t.Errorf("%s: %d", page, r.code)
		}
		lacks(t, r, "<script>alert", "<img src=x", "<b>201</b>")
	}
}
