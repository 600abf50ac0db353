package webui_test

import (
	"context"
	"crypto/tls"
	"encoding/csv"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"switchboard/admin/control"
	"switchboard/admin/web"
	"switchboard/admin/webauth"
	"switchboard/admin/webui"
	"switchboard/store"
	"switchboard/switch/call"
	"switchboard/switch/phonetest"
)

// The browser tests drive the real UI in headless Chromium (Debian package
// chromium) against a real switch on loopback. They skip when Chromium is
// missing, unless SWITCHBOARD_INTEROP=required. Screenshots go to the
// test's artifact directory; keep them with
//
//	go test ./admin/webui -run Browser -artifacts -outputdir DIR
//
// and with SWITCHBOARD_SCREENSHOTS=1 the main views are also written to
// docs/screenshots/.

// ui is one browser test: a switch, the web app on HTTPS, and a browser.
type ui struct {
	t     *testing.T
	sw    *phonetest.Switch
	ops   *control.Local
	base  string
	root  context.Context // the browser; each tab has its own cookies
	shots string          // artifact directory
	docs  string          // docs/screenshots, when SWITCHBOARD_SCREENSHOTS=1
}

// tab is one browser tab with its own cookie jar (browser context), so two
// people can be logged in side by side.
type tab struct {
	u   *ui
	ctx context.Context
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

// uiOptions tune startUI: the webphone tests need a switch with a WebRTC
// gateway and Chromium with a fake microphone.
type uiOptions struct {
	sw     phonetest.SwitchOptions
	chrome []chromedp.ExecAllocatorOption
}

func startUI(t *testing.T, opts ...uiOptions) *ui {
	t.Helper()
	var o uiOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	chromium := phonetest.RequireTool(t, "chromium", "apt-get install chromium")
	sw := phonetest.StartSwitch(t, o.sw)
	cert, err := web.Certificate(sw.Store)
	if err != nil {
		t.Fatal(err)
	}
	ops := &control.Local{Store: sw.Store, Reg: sw.Registrar(), Music: sw.Server.Calls(), MWI: sw.Server.Presence()}
	app, err := webui.New(webui.Config{Store: sw.Store, Ops: ops, Auth: webauth.New(sw.Store, webauth.Config{}),
		Reg: sw.Registrar(), Calls: liveCalls{sw.Server.Calls()}, Events: sw.Bus, MWI: sw.Server.Presence(), SIPServer: sw.Addr(),
		Log:             slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		CertFingerprint: web.Fingerprint(cert), CertExpires: time.Now().AddDate(10, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", app)
	srv := httptest.NewUnstartedServer(mux) // listens on 127.0.0.1
	mux.Handle("/ws", sw.Server.WebSocket(srv.Listener.Addr(), app.WebphoneSession))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.EnableHTTP2 = true // as serve's HTTPS: the webphone's WebSocket must still get HTTP/1.1
	srv.StartTLS()
	t.Cleanup(srv.Close)

	flags := append(append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.IgnoreCertErrors,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"), chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(1280, 800)), o.chrome...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelRoot(); cancelAlloc() }) // stops the browser process it started
	if err := chromedp.Do(root); err != nil {         // start the browser, without a deadline
		t.Fatalf("start chromium: %v", err)
	}
	u := &ui{t: t, sw: sw, ops: ops, base: srv.URL, root: root, shots: t.ArtifactDir()}
	if os.Getenv("SWITCHBOARD_SCREENSHOTS") == "1" {
		u.docs = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(u.docs, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// newTab opens a tab in a fresh browser context (its own cookies).
func (u *ui) newTab() *tab {
	u.t.Helper()
	ctx, cancel := chromedp.NewContext(u.root, chromedp.WithNewBrowserContext())
	u.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		u.t.Fatalf("open a tab: %v", err)
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
	// SWITCHBOARD_BROWSER_LOG=1 shows the pages' console messages (the
	// webphone's SIP.js warnings) in the test log.
	if os.Getenv("SWITCHBOARD_BROWSER_LOG") == "1" {
		console := chromedp.Events(ctx, cdpruntime.ConsoleAPICalled)
		go func() {
			for ev, err := range console {
				if err != nil {
					return
				}
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				u.t.Logf("console.%s: %s", ev.Type, strings.Join(args, " "))
			}
		}()
	}
	return &tab{u: u, ctx: ctx}
}

// do runs actions with a deadline; a failure ends the test with a
// screenshot of where the tab stood.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.u.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.screenshot("failed-"+safeName(what), false)
		b.u.t.Fatalf("%s: %v (screenshot in %s)", what, err, b.u.shots)
	}
}

func run[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.u.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.screenshot("failed-"+safeName(what), false)
		b.u.t.Fatalf("%s: %v (screenshot in %s)", what, err, b.u.shots)
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

// open brings the tab to the front (a hidden tab's timers are throttled,
// as for a person looking at another window), navigates to a path and
// waits until sel shows.
func (b *tab) open(path, sel string) {
	b.u.t.Helper()
	if _, err := chromedp.Call(b.ctx, page.BringToFront, cdp.Empty{}); err != nil {
		b.u.t.Fatalf("bring tab to front: %v", err)
	}
	b.do("open "+path, chromedp.Navigate(b.u.base+path), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// login logs in through the login form and checks the landing page.
func (b *tab) login(ext, password, landing string) {
	b.u.t.Helper()
	b.open("/login", "#login")
	b.do("log in as "+ext,
		chromedp.SendKeys(chromedp.ID("login"), ext),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("logout")))
	if loc := run(b, "location", chromedp.Evaluate[string](`location.pathname`)); loc != landing {
		b.u.t.Fatalf("logged in as %s at %s, want %s", ext, loc, landing)
	}
}

// views are the sizes every main view is checked and photographed at.
var views = []struct {
	name          string
	width, height int64
	mobile        bool
}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}}

// capture checks the page at laptop and at phone width (no horizontal
// scrolling, no raw JSON or Go error text) and takes a screenshot of each;
// forDocs also writes them to docs/screenshots.
func (b *tab) capture(name string, forDocs bool) {
	b.u.t.Helper()
	body := run(b, "page text", chromedp.Evaluate[string](`document.body.innerText`))
	for _, bad := range []string{`{"`, "goroutine ", "panic:", "runtime error", "<nil>", "%!"} {
		if strings.Contains(body, bad) {
			b.u.t.Errorf("%s shows %q:\n%s", name, bad, body)
		}
	}
	for _, v := range views {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if v.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		b.do("viewport "+v.name, chromedp.EmulateViewport(v.width, v.height, opts...))
		over := run(b, "measure "+name, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
		if over > 0 {
			b.u.t.Errorf("%s at %s width: %d px of horizontal scrolling", name, v.name, over)
		}
		b.screenshot(name+"-"+v.name, forDocs)
	}
	b.do("viewport back", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
}

func (b *tab) screenshot(name string, forDocs bool) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.u.t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.WriteFile(filepath.Join(b.u.shots, name+".png"), png, 0o644)
	if forDocs && b.u.docs != "" {
		os.WriteFile(filepath.Join(b.u.docs, name+".png"), png, 0o644)
	}
}

func (b *tab) text(sel string) string {
	b.u.t.Helper()
	return run(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func (u *ui) addUser(ext, name string, role store.Role, password string) {
	u.t.Helper()
	if _, err := u.ops.AddUser(context.Background(), control.UserSpec{Ext: ext, Name: name, Role: role, Password: password,
		SIPPassword: "sip-" + ext + "-password"}); err != nil {
		u.t.Fatal(err)
	}
}

// seedHistory stores a day of calls between other extensions, so the
// dashboard's graph and the history have something to show.
func (u *ui) seedHistory() {
	now := time.Now()
	for i := range 40 {
		start := now.Add(-time.Duration(i*37+20) * time.Minute)
		c := store.CallRecord{ID: fmt.Sprintf("seed-%d", i), Direction: store.Internal, Caller: "202", CallerDevice: "202",
			Callee: "100", Start: start, End: start.Add(time.Duration(30+i*7) * time.Second)}
		switch i % 5 {
		case 3:
			c.Disposition, c.Cause = store.Missed, "no answer"
		case 4:
			c.Disposition, c.Cause = store.Busy, "486 busy"
		default:
			c.Disposition, c.Cause, c.AnsweredBy, c.Answer = store.Answered, "caller bye", "100", start.Add(4*time.Second)
		}
		if i%2 == 1 {
			c.Caller, c.CallerDevice, c.Callee = "100", "100", "202"
		}
		u.sw.Store.SaveCall(c)
	}
}

// TestBrowserAdminAndUser is the whole story in a real browser: the office
// manager logs in, creates a user and finds them in the list; the user logs
// in, sees their phone turn online when it registers, makes a call the
// manager watches live, exports their call history as CSV and adds an
// answering rule.
func TestBrowserAdminAndUser(t *testing.T) {
	u := startUI(t)
	u.addUser("100", "Olivia Manager", store.RoleAdmin, "office-pass-1")
	u.addUser("202", "Carol King", store.RoleUser, "carol-pass-1")
	u.seedHistory()

	admin := u.newTab()
	admin.open("/login", "#login")
	admin.capture("login", true)
	admin.login("100", "office-pass-1", "/admin")

	// Create a user through the form; the generated passwords are shown once.
	admin.open("/admin/users", "#users-table")
	admin.do("add user", chromedp.Click(chromedp.ID("add-user")), chromedp.WaitVisible(chromedp.ID("new-user")))
	admin.do("submit the empty form", chromedp.Click(chromedp.CSS("#new-user button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".field-error")))
	if got := admin.text("#new-user"); !strings.Contains(got, "Enter an extension.") || !strings.Contains(got, "Enter the person's name.") {
		t.Errorf("empty form's messages:\n%s", got)
	}
	admin.capture("user-new-errors", false)
	admin.do("fill the form",
		chromedp.SendKeys(chromedp.ID("ext"), "201"),
		chromedp.SendKeys(chromedp.ID("name"), "Bob Jones"),
		chromedp.SendKeys(chromedp.ID("email"), "bob@example.com"),
		chromedp.Click(chromedp.CSS("#new-user button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("secret")))
	admin.capture("user-created", true)
	pws := run(admin, "read passwords", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("[data-secret]")).map(e => e.textContent)`))
	if len(pws) != 2 {
		t.Fatalf("generated passwords shown: %v", pws)
	}
	webPw, sipPw := pws[0], pws[1]

	admin.open("/admin/users", "#users-table")
	if got := admin.text("#users-table"); !strings.Contains(got, "Bob Jones") || !strings.Contains(got, "bob@example.com") {
		t.Fatalf("users list lacks the new user:\n%s", got)
	}
	admin.capture("users", true)
	admin.do("search", chromedp.SendKeys(chromedp.ID("q"), "carol"))
	if n := run(admin, "visible rows", chromedp.Evaluate[int](`document.querySelectorAll("#users-table tbody tr:not([hidden])").length`)); n != 1 {
		t.Errorf("searching for carol shows %d rows", n)
	}

	// The new user logs in (in their own browser) with the password shown.
	bob := u.newTab()
	bob.login("201", webPw, "/me")
	bob.open("/me/phones", "#phones-table")
	// The page fetches its table again on each "devices" event (the first
	// comes as it connects), so the row is read by polling, not once.
	bob.do("phone 201 offline before it registers", waitText("#phone-201", "✗ offline"))
	desk := u.sw.Phone(t, "201", sipPw, phonetest.Options{UserAgent: "Phonetest Desk 1"})
	if res, err := desk.Register(context.Background(), 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register 201 with the SIP password shown: %v %v", res, err)
	}
	bob.do("phone turns online without a reload", waitText("#phone-201", "✓ online"),
		waitText("#phone-201", "Phonetest Desk 1"), waitText("#phone-201", "127.0.0.1"))
	bob.capture("phones", true)

	// Bob calls Carol; the office manager's dashboard shows it live.
	admin.open("/admin", "#dashboard")
	carol := u.sw.Phone(t, "202", "sip-202-password", phonetest.Options{UserAgent: "Phonetest Desk 2"})
	carol.SetBehavior(phonetest.Behavior{Delay: 500 * time.Millisecond})
	if res, err := carol.Register(context.Background(), 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("register 202: %v %v", res, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := desk.Dial(ctx, "202")
	if err != nil {
		t.Fatalf("201 calls 202: %v", err)
	}
	admin.do("the call shows up live", chromedp.WaitVisible(chromedp.CSS("#live-calls tbody tr .badge.ok")))
	if got := admin.text("#live-calls"); !strings.Contains(got, "201 ↔ 202") || !strings.Contains(got, "talking") {
		t.Errorf("live calls: %q", got)
	}
	if got := admin.text(`[data-count="active_calls"]`); got != "1" {
		t.Errorf("active calls count %q", got)
	}
	time.Sleep(2100 * time.Millisecond) // the duration ticks once a second
	if got := admin.text("#live-calls [data-since]"); got == "0:00" {
		t.Errorf("the call's duration does not tick: %q", got)
	}
	admin.capture("dashboard", true)
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	admin.do("the call leaves the live list", chromedp.WaitVisible(chromedp.ID("live-empty")))

	var rec store.CallRecord
	for deadline := time.Now().Add(5 * time.Second); ; {
		calls, _ := u.sw.Store.Calls(time.Now().Add(-time.Minute), time.Time{}, 0)
		if len(calls) > 0 && calls[0].Caller == "201" {
			rec = calls[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no call record for 201's call")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Bob's history shows the call, and its CSV export has it.
	bob.open("/me/calls", "#calls-table")
	if got := bob.text("#calls-table"); !strings.Contains(got, "202") || !strings.Contains(got, "answered") {
		t.Errorf("201's history: %q", got)
	}
	bob.capture("my-calls", true)
	csvText := run(bob, "export CSV", chromedp.Evaluate[string](
		`fetch(document.getElementById("export-csv").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	rows, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("201's CSV (%v):\n%s", err, csvText)
	}
	if strings.Join(rows[0], ",") != "start,answer,end,duration_s,from,to,direction,disposition,answered_by,cause" {
		t.Errorf("CSV header %q", rows[0])
	}
	row := rows[1]
	secs, _ := strconv.Atoi(row[3])
	if row[4] != "201" || row[5] != "202" || row[6] != "internal" || row[7] != "answered" || row[8] != rec.AnsweredBy ||
		row[0] != rec.Start.In(time.Local).Format(time.RFC3339) || secs < 1 || row[9] != rec.Cause {
		t.Errorf("CSV row %q, record %+v", row, rec)
	}
	bob.open("/me", "#recent-calls")
	bob.capture("my-home", true)

	// Bob changes his answering rules: at lunch, calls go to voicemail.
	bob.open("/me/rules", "#new-rule")
	bob.do("fill a rule",
		chromedp.SendKeys(chromedp.ID("rule-name"), "Lunch"),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("first-action"); s.value = "voicemail"; s.dispatchEvent(new Event("change")); })()`))
	if hidden := run(bob, "if-no-answer step", chromedp.Evaluate[bool](`document.querySelector("fieldset[data-step=next]").hidden`)); !hidden {
		t.Error("the If no answer step shows after Send to voicemail, which nothing follows")
	}
	bob.do("add the rule", chromedp.Click(chromedp.CSS("#new-rule button[type=submit]")), chromedp.WaitVisible(chromedp.ID("rule-1")))
	if got := bob.text("#rule-1"); !strings.Contains(got, "Lunch") || !strings.Contains(got, "Send to my voicemail") || !strings.Contains(got, "applies now") {
		t.Errorf("the new rule: %q", got)
	}
	if got := bob.text("#plan"); !strings.Contains(got, "voicemail") {
		t.Errorf("a call now would: %q", got)
	}
	bob.capture("rules", true)
	if h, err := u.sw.Store.CallHandling("201"); err != nil || len(h.Rules) != 1 || h.Rules[0].First.Action != store.ActVoicemail {
		t.Errorf("201's stored rules: %+v, %v", h, err)
	}

	u.messagesStep(bob)
	u.contactsStep(bob, desk)
	u.timeFramesStep(admin, bob)
	u.musicStep(admin)

	// The office manager's views of the same.
	admin.open("/admin/calls", "#calls-table")
	admin.capture("calls", true)
	admin.open("/admin/users/201", "#device-table")
	if got := admin.text("#device-201"); !strings.Contains(got, "✓ online") || !strings.Contains(got, "Phonetest Desk 1") {
		t.Errorf("201's phone on the user page: %q", got)
	}
	admin.capture("user", true)
	u.smtpStep(admin, "office-pass-1")
	u.emergencyStep(admin)
	t.Logf("screenshots in %s", u.shots)
}
