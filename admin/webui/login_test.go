package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/store"
)

func TestLoginPageAndSession(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.browser()

	// Without a session every page sends you to the login page, and back after.
	r := b.get("/me/password?x=1")
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/login?next=%2Fme%2Fpassword%3Fx%3D1" {
		t.Fatalf("no session: %d %q", r.code, r.hdr.Get("Location"))
	}
	r = b.get("/login")
	contains(t, r, "Extension or email", `name="password"`)
	r = b.post("/login", url.Values{"login": {"200"}, "password": {e.pw["200"]}, "next": {"/me/password?x=1"}})
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/me/password?x=1" {
		t.Fatalf("login: %d %q\n%s", r.code, r.hdr.Get("Location"), r.body)
	}
	cookie := r.hdr.Get("Set-Cookie")
	for _, attr := range []string{"switchboard_session=", "HttpOnly", "Secure", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	r = b.get("/me/password")
	contains(t, r, "Alice Smith", "Change password", "Log out")
	lacks(t, r, "Manage Organization") // not an office manager

	// Logout ends the session in the store, not just the cookie.
	token := ""
	for _, c := range b.c.Jar.Cookies(mustURL(e.srv.URL)) {
		if c.Name == "switchboard_session" {
			token = c.Value
		}
	}
	r = b.post("/logout", nil)
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/login?done=out" {
		t.Fatalf("logout: %d %q", r.code, r.hdr.Get("Location"))
	}
	if _, err := e.st.Session(token, e.auth.Now()); err == nil {
		t.Fatal("session still in the store after logout")
	}
	contains(t, b.get("/login?done=out"), "You are logged out.")

	// An open redirect is refused: next must be a path here.
	b = e.browser()
	b.get("/login")
	r = b.post("/login", url.Values{"login": {"200"}, "password": {e.pw["200"]}, "next": {"//evil.example/x"}})
	if loc := r.hdr.Get("Location"); loc != "/" {
		t.Fatalf("next=//evil.example: redirected to %q", loc)
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	try := func(login, pw string) resp {
		b := e.browser()
		b.get("/login")
		return b.post("/login", url.Values{"login": {login}, "password": {pw}})
	}
	wrong, unknown := try("200", "not-the-password"), try("299", "not-the-password")
	if wrong.code != http.StatusUnauthorized || unknown.code != wrong.code {
		t.Fatalf("codes: wrong password %d, unknown account %d", wrong.code, unknown.code)
	}
	msg := "The extension or email and password do not match an account."
	contains(t, wrong, msg, `value="200"`)
	contains(t, unknown, msg)
	lacks(t, wrong, "not-the-password")
	contains(t, try("", ""), "Enter your extension or email and your password.")

	// The login form itself needs its token and the same origin.
	b := e.browser()
	b.get("/login")
	r := b.post("/login", url.Values{"login": {"200"}, "password": {e.pw["200"]}, "csrf": {"forged"}})
	if r.code != http.StatusForbidden || r.hdr.Get("Set-Cookie") != "" && strings.Contains(r.hdr.Get("Set-Cookie"), "switchboard_session") {
		t.Fatalf("login with a forged token: %d", r.code)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(url.Values{"login": {"200"}, "password": {e.pw["200"]}, "csrf": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if r := b.do(req); r.code != http.StatusForbidden {
		t.Fatalf("login posted from another site: %d", r.code)
	}
}

func TestLoginThrottledPage(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	var last resp
	for range 7 {
		b := e.browser()
		b.get("/login")
		last = b.post("/login", url.Values{"login": {"200"}, "password": {"guess-guess"}})
	}
	if last.code != http.StatusTooManyRequests {
		t.Fatalf("7th quick failure: %d", last.code)
	}
	contains(t, last, "Too many failed attempts: wait")
	// The right password is refused too while throttled.
	b := e.browser()
	b.get("/login")
	if r := b.post("/login", url.Values{"login": {"200"}, "password": {e.pw["200"]}}); r.code != http.StatusTooManyRequests {
		t.Fatalf("right password while throttled: %d", r.code)
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b, other := e.login("200"), e.login("200")

	r := b.post("/me/password", url.Values{"current": {"wrong-one"}, "new": {"short"}, "confirm": {"x"}})
	if r.code != http.StatusBadRequest {
		t.Fatalf("bad form: %d\n%s", r.code, r.body)
	}
	contains(t, r, "Passwords need at least 8 characters.", `aria-invalid="true"`)
	r = b.post("/me/password", url.Values{"current": {"wrong-one"}, "new": {"new-password-1"}, "confirm": {"new-password-2"}})
	contains(t, r, "This is not the same as the new password.")
	r = b.post("/me/password", url.Values{"current": {"wrong-one"}, "new": {"new-password-1"}, "confirm": {"new-password-1"}})
	contains(t, r, "This is not your current password.")
	r = b.post("/me/password", url.Values{"current": {e.pw["200"]}, "new": {"new-password-1"}, "confirm": {"new-password-1"}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("change: %d\n%s", r.code, r.body)
	}
	contains(t, b.get("/me/password?done=1"), "Your password is changed.")
	if r := other.get("/me/password"); r.code != http.StatusSeeOther {
		t.Fatalf("the other session survived the password change: %d", r.code)
	}
	if u, _ := e.st.User("200"); !u.CheckPassword("new-password-1") {
		t.Fatal("password not changed in the store")
	}
}

func TestWritesNeedCSRFAndSameOrigin(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.login("200")
	form := url.Values{"current": {e.pw["200"]}, "new": {"new-password-1"}, "confirm": {"new-password-1"}}

	r := b.post("/me/password", url.Values{"csrf": {"stale"}, "current": form["current"], "new": form["new"], "confirm": form["confirm"]})
	if r.code != http.StatusForbidden {
		t.Fatalf("no CSRF token: %d", r.code)
	}
	contains(t, r, "The form has expired: reload the page and try again.")
	req, _ := http.NewRequest("POST", e.srv.URL+"/me/password", strings.NewReader(url.Values{"csrf": {b.csrf}, "current": form["current"],
		"new": form["new"], "confirm": form["confirm"]}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if r := b.do(req); r.code != http.StatusForbidden {
		t.Fatalf("cross-origin write with the right token: %d", r.code)
	}
	// API: the header, not a form field.
	r = b.api("POST", "/api/me/password", map[string]string{"current": e.pw["200"], "new": "new-password-1"})
	if r.code != 200 {
		t.Fatalf("API write with the header: %d %s", r.code, r.body)
	}
	b.csrf = ""
	r = b.api("POST", "/api/me/password", map[string]string{"current": "new-password-1", "new": "new-password-2"})
	if r.code != http.StatusForbidden || decode[apiError](t, r).Error == "" {
		t.Fatalf("API write without the header: %d %s", r.code, r.body)
	}
	if u, _ := e.st.User("200"); !u.CheckPassword("new-password-1") {
		t.Fatal("a refused write changed the password")
	}
}

func TestAPILoginAndMe(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	anon := e.browser()
	if r := anon.api("GET", "/api/me", nil); r.code != http.StatusUnauthorized || decode[apiError](t, r).Error != "Log in first." {
		t.Fatalf("anonymous /api/me: %d %s", r.code, r.body)
	}
	r := anon.api("POST", "/api/login", map[string]string{"login": "200", "password": "wrong-pass"})
	if r.code != http.StatusUnauthorized || !strings.Contains(r.body, "do not match an account") {
		t.Fatalf("bad API login: %d %s", r.code, r.body)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/login", strings.NewReader("login=200&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := anon.do(req); r.code != http.StatusUnsupportedMediaType {
		t.Fatalf("API login as a form: %d", r.code)
	}
	b := e.apiLogin("200")
	m := decode[meJSON](t, b.api("GET", "/api/me", nil))
	if m.Ext != "200" || m.Name != "Alice Smith" || m.Role != "user" || m.CSRF != b.csrf {
		t.Fatalf("/api/me = %+v", m)
	}
	if r := b.api("GET", "/api/nope", nil); r.code != 404 || decode[apiError](t, r).Error == "" {
		t.Fatalf("unknown endpoint: %d %s", r.code, r.body)
	}
	if r := b.api("POST", "/api/logout", struct{}{}); r.code != 200 {
		t.Fatalf("API logout: %d %s", r.code, r.body)
	}
	if r := b.api("GET", "/api/me", nil); r.code != http.StatusUnauthorized {
		t.Fatalf("after API logout: %d", r.code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.browser().get("/login")
	for h, want := range map[string]string{
		"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
	} {
		if got := r.hdr.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := r.hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	css := e.browser().get("/static/app.css?v=" + staticVersion())
	if css.code != 200 || !strings.HasPrefix(css.hdr.Get("Content-Type"), "text/css") || !strings.Contains(css.hdr.Get("Cache-Control"), "immutable") {
		t.Errorf("static CSS: %d %q %q", css.code, css.hdr.Get("Content-Type"), css.hdr.Get("Cache-Control"))
	}
	for _, p := range []string{"/static/../app.go", "/static/%2e%2e/app.go", "/static/templates/layout.html", "/static/vendor", "/static/vendor/", "/static/"} {
		if r := e.browser().get(p); r.code == 200 || strings.Contains(r.body, "package webui") {
			t.Errorf("static %s: %d", p, r.code)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	b := e.apiLogin("100")
	r := b.api("PUT", "/api/users", map[string]string{})
	if r.code != http.StatusMethodNotAllowed || decode[apiError](t, r).Error == "" || r.hdr.Get("Allow") == "" {
		t.Fatalf("PUT /api/users: %d %v %s", r.code, r.hdr, r.body)
	}
	p := e.login("100")
	req, _ := http.NewRequest("DELETE", e.srv.URL+"/admin/users", nil)
	req.Header.Set("X-CSRF-Token", p.csrf)
	if r := p.do(req); r.code != http.StatusMethodNotAllowed || !strings.Contains(r.body, "does not take that kind of request") {
		t.Fatalf("DELETE /admin/users: %d %q", r.code, r.body)
	}
}
