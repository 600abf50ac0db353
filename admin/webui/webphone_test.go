package webui

import (
	"net/http"
	"strings"
	"testing"

	"switchboard/store"
)

// The webphone and the console are in both views: a user's My Account and
// an office manager's Manage Organization; the API hands each user their
// own webphone's secret only.
func TestWebphonePagesAndCredentials(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	user, admin := e.login("200"), e.login("100")
	for _, c := range []struct {
		b     *browser
		path  string
		code  int
		texts []string
	}{
		{user, "/me/phone", http.StatusOK, []string{`id="webphone"`, `id="wp-keypad"`, "phone.js", `href="/me/console"`}},
		{user, "/me/console", http.StatusOK, []string{`id="console-grid"`, `id="webphone"`}},
		{user, "/admin/phone", http.StatusForbidden, nil},
		{admin, "/admin/phone", http.StatusOK, []string{`id="webphone"`, `href="/admin/users"`, `href="/admin/console"`}},
		{admin, "/admin/console", http.StatusOK, []string{`id="console-grid"`}},
	} {
		r := c.b.get(c.path)
		if r.code != c.code {
			t.Errorf("%s: %d, want %d", c.path, r.code, c.code)
			continue
		}
		contains(t, r, c.texts...)
	}

	wp := decode[webphoneConfig](t, e.apiLogin("200").api("GET", "/api/me/webphone", nil))
	if wp.Device != "200w" || len(wp.HA1) != 32 || !strings.HasPrefix(wp.Server, "wss://") || !strings.HasSuffix(wp.Server, "/ws") ||
		!strings.HasPrefix(wp.AOR, "sip:200w@") {
		t.Fatalf("webphone config %+v", wp)
	}
	d, err := e.st.Device("200w")
	if err != nil || d.Kind != store.KindWebphone || d.HA1MD5 != wp.HA1 {
		t.Fatalf("device 200w: %+v %v", d, err)
	}
	// Asked again: the same device, not another one.
	again := decode[webphoneConfig](t, e.apiLogin("200").api("GET", "/api/me/webphone", nil))
	if again.HA1 != wp.HA1 {
		t.Errorf("the webphone's secret changed between sessions")
	}
	if mgr := decode[webphoneConfig](t, e.apiLogin("100").api("GET", "/api/me/webphone", nil)); mgr.Device != "100w" || mgr.HA1 == wp.HA1 {
		t.Errorf("the office manager's webphone %+v", mgr)
	}
	// SIP.js writes the display name between the From header's quotes as it
	// is, so it comes escaped.
	if wp.DisplayName != "Alice Smith" {
		t.Errorf("display name %q", wp.DisplayName)
	}
	e.addUser("210", `Dan "The Man" Brown \o/`, store.RoleUser)
	if dan := decode[webphoneConfig](t, e.apiLogin("210").api("GET", "/api/me/webphone", nil)); dan.DisplayName != `Dan \"The Man\" Brown \\o/` {
		t.Errorf("display name %q", dan.DisplayName)
	}
}
