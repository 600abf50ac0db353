package webui_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"switchboard/admin/control"
	"switchboard/admin/web"
	"switchboard/admin/webauth"
	"switchboard/admin/webui"
	"switchboard/store"
	"switchboard/switch/call"
	"switchboard/switch/phonetest"
)

// The browser tests drive the real UI in headless Chromium (apt package
// chromium) against a real switch on loopback. They skip when Chromium is
// missing, unless SWITCHBOARD_INTEROP=required. Screenshots go to the
// test's artifact directory (keep them with
// `go test ./admin/webui -run Browser -artifacts -outputdir DIR`), and with
// SWITCHBOARD_SCREENSHOTS=1 the main views are also written to
// docs/screenshots/.

// ui is one browser test: a switch, the web app on HTTPS, and a browser tab.
type ui struct {
	t    *testing.T
	sw   *phonetest.Switch
	base string
	ctx  context.Context
	shot string // artifact directory
	docs string // docs/screenshots, when SWITCHBOARD_SCREENSHOTS=1
}

// liveCalls adapts the B2BUA's snapshots, as main does.
type liveCalls struct{ m *call.Manager }

func (c liveCalls) Active() []webui.LiveCall {
	var out []webui.LiveCall
	for _, s := range c.m.Active() {
		out = append(out, webui.LiveCall{ID: s.ID, From: s.From, To: s.To, AnsweredBy: s.AnsweredBy, Start: s.Start, Answer: s.Answer})
	}
	return out
}

func startUI(t *testing.T) *ui {
	t.Helper()
	chromium := phonetest.RequireTool(t, "chromium", "apt-get install chromium")
	sw := phonetest.StartSwitch(t, phonetest.SwitchOptions{})
	cert, err := web.Certificate(sw.Store)
	if err != nil {
		t.Fatal(err)
	}
	ops := &control.Local{Store: sw.Store, Reg: sw.Registrar()}
	app, err := webui.New(webui.Config{Store: sw.Store, Ops: ops, Auth: webauth.New(sw.Store, webauth.Config{}),
		Reg: sw.Registrar(), Calls: liveCalls{sw.Server.Calls()}, Events: sw.Bus, SIPServer: sw.Addr(),
		Log:             slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		CertFingerprint: web.Fingerprint(cert), CertExpires: time.Now().AddDate(10, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(app) // listens on 127.0.0.1
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.IgnoreCertErrors,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 800))...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc() }) // stops the browser process it started
	if err := chromedp.Do(ctx); err != nil {         // start the browser without a deadline
		t.Fatalf("start chromium: %v", err)
	}
	// Destructive buttons ask "are you sure?": say yes.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	u := &ui{t: t, sw: sw, base: srv.URL, ctx: ctx, shot: t.ArtifactDir()}
	if os.Getenv("SWITCHBOARD_SCREENSHOTS") == "1" {
		u.docs = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(u.docs, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// do runs browser actions with a deadline, failing the test with a
// screenshot of where it stood.
func (u *ui) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		u.screenshot("failed-"+safeName(what), false)
		u.t.Fatalf("%s: %v (screenshot in %s)", what, err, u.shot)
	}
}

func run[T any](u *ui, what string, a chromedp.Action[T]) T {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		u.screenshot("failed-"+safeName(what), false)
		u.t.Fatalf("%s: %v", what, err)
	}
	return v
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}

// open navigates to a path and waits until sel shows.
func (u *ui) open(path, sel string) {
	u.t.Helper()
	u.do("open "+path, chromedp.Navigate(u.base+path), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// login logs in through the login form and waits for the landing page
// (its path ends with landing).
func (u *ui) login(ext, password, landing string) {
	u.t.Helper()
	u.open("/login", "#login")
	u.do("log in as "+ext,
		chromedp.SendKeys(chromedp.ID("login"), ext),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("logout")))
	if loc := run(u, "location", chromedp.Evaluate[string](`location.pathname`)); loc != landing {
		u.t.Fatalf("logged in as %s at %s, want %s", ext, loc, landing)
	}
}

func (u *ui) logout() {
	u.t.Helper()
	u.do("log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login")))
}

// views are the sizes every main view is checked and photographed at.
var views = []struct {
	name          string
	width, height int64
	mobile        bool
}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}}

// capture checks the current page at laptop and phone width (no
// horizontal scrolling) and takes a screenshot of each; forDocs also
// writes them to docs/screenshots.
func (u *ui) capture(name string, forDocs bool) {
	u.t.Helper()
	for _, v := range views {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if v.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		u.do("viewport "+v.name, chromedp.EmulateViewport(v.width, v.height, opts...))
		over := run(u, "measure "+name, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
		if over > 0 {
			u.t.Errorf("%s at %s: %d px of horizontal scrolling", name, v.name, over)
		}
		u.screenshot(name+"-"+v.name, forDocs)
	}
	u.do("viewport back", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
}

func (u *ui) screenshot(name string, forDocs bool) {
	ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		u.t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.WriteFile(filepath.Join(u.shot, name+".png"), png, 0o644)
	if forDocs && u.docs != "" {
		os.WriteFile(filepath.Join(u.docs, name+".png"), png, 0o644)
	}
}

func (u *ui) text(sel string) string {
	u.t.Helper()
	return run(u, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// addAdmin creates the office manager as the first run does.
func (u *ui) addUser(ext, name string, role store.Role, password string) {
	u.t.Helper()
	ops := &control.Local{Store: u.sw.Store, Reg: u.sw.Registrar()}
	if _, err := ops.AddUser(context.Background(), control.UserSpec{Ext: ext, Name: name, Role: role, Password: password,
		SIPPassword: "sip-" + ext + "-password"}); err != nil {
		u.t.Fatal(err)
	}
}

func TestBrowserAdminAndUser(t *testing.T) {
	u := startUI(t)
	u.addUser("100", "Olivia Manager", store.RoleAdmin, "office-pass-1")
	u.addUser("202", "Carol King", store.RoleUser, "carol-pass-1")

	u.open("/login", "#login")
	u.capture("login", true)
	u.login("100", "office-pass-1", "/admin")

	// Create a user through the form; the generated passwords are shown once.
	u.open("/admin/users", "#users-table")
	u.do("add user", chromedp.Click(chromedp.ID("add-user")), chromedp.WaitVisible(chromedp.ID("new-user")))
	u.do("submit empty form", chromedp.Click(chromedp.CSS("#new-user button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".field-error")))
	u.capture("user-new-errors", false)
	u.do("fill the form",
		chromedp.SendKeys(chromedp.ID("ext"), "201"),
		chromedp.SendKeys(chromedp.ID("name"), "Bob Jones"),
		chromedp.SendKeys(chromedp.ID("email"), "bob@example.com"),
		chromedp.Click(chromedp.CSS("#new-user button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("secret")))
	u.capture("user-created", true)
	pws := run(u, "read passwords", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("[data-secret]")).map(e => e.textContent)`))
	if len(pws) != 2 {
		t.Fatalf("generated passwords shown: %v", pws)
	}
	webPw, sipPw := pws[0], pws[1]

	u.open("/admin/users", "#users-table")
	if got := u.text("#users-table"); !strings.Contains(got, "Bob Jones") || !strings.Contains(got, "bob@example.com") {
		t.Fatalf("users list lacks the new user:\n%s", got)
	}
	u.capture("users", true)
	u.do("search", chromedp.SendKeys(chromedp.ID("q"), "carol"))
	if n := run(u, "visible rows", chromedp.Evaluate[int](`document.querySelectorAll("#users-table tbody tr:not([hidden])").length`)); n != 1 {
		t.Errorf("search for carol shows %d rows", n)
	}
	u.open("/admin/users/201", "#edit-user")
	u.capture("user", true)
	u.logout()

	// The new user logs in with the password they were given.
	u.login("201", webPw, "/me")
	_ = sipPw
	fmt.Fprintln(os.Stderr, "screenshots in", u.shot)
}
