package webui

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/store"
)

func TestPreferencesNeedReauthForBackup(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.login("100")

	r := b.get("/admin/preferences")
	contains(t, r, "SHA-256 fingerprint", "AA:<wbr>BB", "Valid until", `id="reauth"`)
	lacks(t, r, `id="download-backup"`)
	r = b.get("/admin/backup")
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/preferences?reauth=1" {
		t.Fatalf("backup without re-authentication: %d %q", r.code, r.hdr.Get("Location"))
	}
	contains(t, b.get("/admin/preferences?reauth=1"), "Enter your password again to open the sensitive settings.")
	contains(t, b.post("/admin/preferences/reauth", url.Values{"password": {""}}), "Enter your password.")
	r = b.post("/admin/preferences/reauth", url.Values{"password": {"wrong-password"}})
	if r.code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.code)
	}
	contains(t, r, "This is not your password.")
	if r := b.post("/admin/preferences/reauth", url.Values{"password": {e.pw["100"]}}); r.code != http.StatusSeeOther {
		t.Fatalf("re-authenticate: %d %s", r.code, r.body)
	}
	contains(t, b.get("/admin/preferences"), `id="download-backup"`, "Sensitive settings stay open until")
	r = b.get("/admin/backup")
	if r.code != 200 || r.hdr.Get("Content-Type") != "application/octet-stream" ||
		!strings.Contains(r.hdr.Get("Content-Disposition"), `filename="switchboard-backup-`) {
		t.Fatalf("backup: %d %v", r.code, r.hdr)
	}
	file := filepath.Join(t.TempDir(), "backup.db")
	os.WriteFile(file, []byte(r.body), 0o600)
	if info, err := store.Validate(file); err != nil || info.Users != 2 {
		t.Fatalf("downloaded backup: %+v, %v", info, err)
	}

	// Re-authentication ends after its minutes.
	token := ""
	for _, c := range b.c.Jar.Cookies(mustURL(e.srv.URL)) {
		if c.Name == "switchboard_session" {
			token = c.Value
		}
	}
	e.st.UpdateSession(token, func(s *store.Session) { s.ReauthUntil = time.Now().Add(-time.Second) })
	if r := b.get("/admin/backup"); r.code != http.StatusSeeOther {
		t.Fatalf("backup after the re-authentication ran out: %d", r.code)
	}

	// API: 403 until POST /api/reauth.
	api := e.apiLogin("100")
	if r := api.api("GET", "/api/backup", nil); r.code != http.StatusForbidden || !strings.Contains(r.body, "POST /api/reauth") {
		t.Fatalf("API backup without re-authentication: %d %s", r.code, r.body)
	}
	if r := api.api("POST", "/api/reauth", map[string]string{"password": "nope-nope"}); r.code != http.StatusUnauthorized {
		t.Fatalf("API reauth, wrong password: %d %s", r.code, r.body)
	}
	if r := api.api("POST", "/api/reauth", map[string]string{"password": e.pw["100"]}); r.code != 200 || !strings.Contains(r.body, "reauth_until") {
		t.Fatalf("API reauth: %d %s", r.code, r.body)
	}
	if r := api.api("GET", "/api/backup", nil); r.code != 200 || len(r.body) < 4096 {
		t.Fatalf("API backup: %d, %d bytes", r.code, len(r.body))
	}
	// Users have no preferences page.
	if r := e.login("200").get("/admin/preferences"); r.code != http.StatusForbidden {
		t.Fatalf("user on preferences: %d", r.code)
	}
}
