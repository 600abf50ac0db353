package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/store"
)

func TestSMTPSettings(t *testing.T) {
	e := newEnv(t)
	b := e.login("100")
	lacks(t, b.get("/admin/preferences"), `id="smtp-form"`)
	r := b.post("/admin/preferences/smtp", url.Values{"host": {"smtp.example.com"}, "from": {"vm@example.com"}})
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/preferences?reauth=1" {
		t.Fatalf("SMTP without re-authentication: %d %q", r.code, r.hdr.Get("Location"))
	}
	if _, err := e.st.SMTP(); err == nil {
		t.Fatal("SMTP settings stored without re-authentication")
	}
	b.post("/admin/preferences/reauth", url.Values{"password": {e.pw["100"]}})
	contains(t, b.get("/admin/preferences"), `id="smtp-form"`, "Not set up yet")

	for _, tc := range []struct {
		form url.Values
		want []string
	}{
		{url.Values{}, []string{"Enter the mail server", "Enter the sender address"}},
		{url.Values{"host": {"smtp.example.com:587"}, "port": {"abc"}, "from": {"vm@example.com"}}, []string{"the port goes in its own field", "A port is a number"}},
		{url.Values{"host": {"smtp.example.com"}, "port": {"70000"}, "from": {"vm@example.com"}}, []string{"A port is a number from 1 to 65535"}},
		{url.Values{"host": {"smtp.example.com"}, "port": {"25x"}, "from": {"vm@example.com"}}, []string{"A port is a number from 1 to 65535", `value="25x"`}},
		{url.Values{"host": {"smtp.example.com"}, "from": {"not-an-address"}}, []string{"Sender: email &#34;not-an-address&#34; is not an email address."}},
		{url.Values{"host": {"smtp.example.com"}, "from": {"vm@example.com"}, "password": {"secret"}}, []string{"A password needs a user name."}},
		{url.Values{"host": {"smtp.example.com"}, "from": {"vm@example.com"}, "username": {"a\r\nRCPT TO:<x@y>"}}, []string{"This cannot contain line breaks."}},
		{url.Values{"host": {"smtp.example.com"}, "from": {"vm@example.com"}, "tls": {"sometimes"}}, []string{"Choose how the connection is protected."}},
		{url.Values{"host": {`<script>alert(1)</script>`}, "from": {"vm@example.com"}}, []string{"Enter the mail server", "&lt;script&gt;"}},
	} {
		r := b.post("/admin/preferences/smtp", tc.form)
		if r.code != http.StatusBadRequest {
			t.Errorf("%v: %d", tc.form, r.code)
		}
		contains(t, r, tc.want...)
		lacks(t, r, "<script>alert(1)")
		if _, err := e.st.SMTP(); err == nil {
			t.Fatalf("%v: stored", tc.form)
		}
	}

	r = b.post("/admin/preferences/smtp", url.Values{"host": {"smtp.example.com"}, "port": {"465"}, "tls": {"implicit"},
		"username": {"vm"}, "password": {"s3cret-pass"}, "from": {"vm@example.com"}})
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/preferences?done=smtp" {
		t.Fatalf("save: %d %s", r.code, r.body)
	}
	c, err := e.st.SMTP()
	if err != nil || c.Host != "smtp.example.com" || c.Port != 465 || c.TLS != store.TLSImplicit || c.Username != "vm" || c.Password != "s3cret-pass" {
		t.Fatalf("stored: %+v, %v", c, err)
	}
	r = b.get("/admin/preferences?done=smtp")
	contains(t, r, "The email settings are saved.", `value="smtp.example.com"`, `value="465"`, `value="implicit" selected`, "stored: leave empty to keep it")
	lacks(t, r, "s3cret-pass")
	// An empty password keeps it; clearing the user removes it.
	b.post("/admin/preferences/smtp", url.Values{"host": {"mail.example.com"}, "tls": {""}, "username": {"vm"}, "from": {"vm@example.com"}})
	if c, _ := e.st.SMTP(); c.Host != "mail.example.com" || c.Password != "s3cret-pass" || c.Port != 0 {
		t.Fatalf("after saving without a password: %+v", c)
	}
	b.post("/admin/preferences/smtp", url.Values{"host": {"mail.example.com"}, "username": {""}, "from": {"vm@example.com"}})
	if c, _ := e.st.SMTP(); c.Username != "" || c.Password != "" {
		t.Fatalf("after clearing the user: %+v", c)
	}

	api := e.apiLogin("100")
	if r := api.api("GET", "/api/smtp", nil); r.code != http.StatusForbidden {
		t.Fatalf("API SMTP without re-authentication: %d", r.code)
	}
	api.api("POST", "/api/reauth", map[string]string{"password": e.pw["100"]})
	r = api.api("PATCH", "/api/smtp", map[string]any{"username": "u2", "password": "p2-secret"})
	if r.code != 200 || !strings.Contains(r.body, `"password_set": true`) || strings.Contains(r.body, "p2-secret") {
		t.Fatalf("API patch: %d %s", r.code, r.body)
	}
	if r := api.api("PATCH", "/api/smtp", map[string]any{"port": 99999}); r.code != 400 || decode[apiError](t, r).Fields["port"] == "" {
		t.Fatalf("API bad port: %d %s", r.code, r.body)
	}
	if r := api.api("GET", "/api/smtp", nil); r.code != 200 || strings.Contains(r.body, "p2-secret") || !strings.Contains(r.body, `"username": "u2"`) {
		t.Fatalf("API get: %d %s", r.code, r.body)
	}
	e.addUser("200", "Alice Smith", store.RoleUser)
	if r := e.apiLogin("200").api("GET", "/api/smtp", nil); r.code != http.StatusForbidden {
		t.Fatalf("user reading SMTP: %d", r.code)
	}
}
