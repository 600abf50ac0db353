package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/admin/control"
	"switchboard/store"
	"switchboard/switch/voicemail"
	"switchboard/switch/voicemail/smtpfake"
)

func TestSMTPTestEmail(t *testing.T) {
	e := newEnv(t)
	e.ops.Mail = &voicemail.SMTP{Settings: e.st, Hostname: "switchboard.test"}
	boss := "boss@example.com"
	if _, err := e.ops.SetUser(t.Context(), "100", control.UserPatch{Email: &boss}); err != nil {
		t.Fatal(err)
	}
	srv := smtpfake.Start(t, smtpfake.Options{RejectTo: "nobody@example.com"})
	b := e.login("100")
	if r := b.post("/admin/preferences/smtp/test", url.Values{"to": {"boss@example.com"}}); r.code != http.StatusSeeOther ||
		r.hdr.Get("Location") != "/admin/preferences?reauth=1" {
		t.Fatalf("without re-authentication: %d %q", r.code, r.hdr.Get("Location"))
	}
	b.post("/admin/preferences/reauth", url.Values{"password": {e.pw["100"]}})
	lacks(t, b.get("/admin/preferences"), `id="smtp-test"`) // nothing to test yet
	if err := e.st.PutSMTP(store.SMTPSettings{Host: "127.0.0.1", Port: srv.Port(), From: "pbx@example.com", TLS: store.TLSOff}); err != nil {
		t.Fatal(err)
	}
	contains(t, b.get("/admin/preferences"), `id="smtp-test"`, `id="smtp-test-to" name="to" type="email" value="boss@example.com"`)

	r := b.post("/admin/preferences/smtp/test", url.Values{"to": {"boss@example.com"}})
	if r.code != 200 {
		t.Fatalf("send: %d %s", r.code, r.body)
	}
	contains(t, r, "A test email went to boss@example.com through 127.0.0.1:")
	if m := srv.Messages(); len(m) != 1 || m[0].To != "boss@example.com" || !strings.Contains(m[0].Data, "Switchboard test email") {
		t.Fatalf("sent: %+v", m)
	}
	r = b.post("/admin/preferences/smtp/test", url.Values{"to": {"nobody@example.com"}})
	if r.code != http.StatusBadGateway {
		t.Fatalf("refused: %d", r.code)
	}
	contains(t, r, "The mail server at 127.0.0.1:", "refused", "550", "no such user", `value="nobody@example.com"`)
	r = b.post("/admin/preferences/smtp/test", url.Values{"to": {`<script>x</script>`}})
	if r.code != http.StatusBadRequest {
		t.Fatalf("bad address: %d", r.code)
	}
	contains(t, r, "is not an email address")
	lacks(t, r, "<script>x")

	api := e.apiLogin("100")
	if r := api.api("POST", "/api/smtp/test", map[string]string{"to": "boss@example.com"}); r.code != http.StatusForbidden {
		t.Fatalf("API without re-authentication: %d", r.code)
	}
	api.api("POST", "/api/reauth", map[string]string{"password": e.pw["100"]})
	if r := api.api("POST", "/api/smtp/test", map[string]string{"to": "boss@example.com"}); r.code != 200 || !strings.Contains(r.body, `"to": "boss@example.com"`) {
		t.Fatalf("API send: %d %s", r.code, r.body)
	}
	if r := api.api("POST", "/api/smtp/test", map[string]string{"to": "nobody@example.com"}); r.code != http.StatusBadGateway || !strings.Contains(r.body, "550") {
		t.Fatalf("API refused: %d %s", r.code, r.body)
	}
	if n := len(srv.Messages()); n != 2 {
		t.Fatalf("%d test emails, want 2", n)
	}
}
