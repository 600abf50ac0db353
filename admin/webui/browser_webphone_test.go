package webui_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"switchboard/media/tonetest"
	"switchboard/store"
	"switchboard/switch/phonetest"
)

// micTone is what the browser's fake microphone plays; the desk phone
// answers with deskTone. Neither is a harmonic of the other.
const micTone, deskTone = 600, 1000

// The webphone end to end: headless Chromium logs in, its webphone
// registers over WSS, calls a desk phone through the switch's WebRTC
// gateway, and the audio goes both ways (the desk phone decodes the
// browser's microphone tone; the page measures the desk phone's tone with
// a WebAudio analyser). Then the desk phone calls the browser, which
// answers from its pop-up.
func TestBrowserWebphone(t *testing.T) {
	u := startUI(t, uiOptions{sw: phonetest.SwitchOptions{WebRTC: true, BuiltinVoicemail: true}, chrome: fakeMic(t)})
	u.addUser("200", "Alice Webb", store.RoleUser, "alice-pass-1")
	u.addUser("201", "Bob Desk", store.RoleUser, "bob-pass-1")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	desk := u.sw.Phone(t, "201", "sip-201-password", phonetest.Options{})
	if _, err := desk.Register(ctx, 300); err != nil {
		t.Fatal(err)
	}

	alice := u.newTab()
	alice.login("200", "alice-pass-1", "/me")
	alice.open("/me/phone", "#webphone")
	alice.do("webphone registers", chromedp.WaitVisible(chromedp.CSS(`#wp-status[data-state="registered"]`)))
	if b := u.sw.Registrar().Lookup("200w"); len(b) != 1 || b[0].Transport != "WSS" {
		t.Fatalf("webphone bindings %+v, want one over WSS", b)
	}
	alice.capture("webphone", true)

	// The browser calls the desk phone.
	// What is not part of a number never reaches the field, and a double
	// click places one call.
	alice.do("dial 201", chromedp.SendKeys(chromedp.ID("wp-number"), "2<b>0 x1"), waitValue("#wp-number", "201"),
		chromedp.DoubleClick(chromedp.ID("wp-call")))
	in := nextCall(t, desk.Incoming())
	select {
	case <-desk.Incoming():
		t.Fatal("a double click placed two calls")
	case <-time.After(time.Second):
	}
	alice.do("talking", chromedp.WaitVisible(chromedp.ID("wp-active")), waitText("#wp-state", "Talking"))
	twoWayAudio(t, alice, in)
	alice.capture("webphone-call", true)
	callControls(t, alice, in)
	alice.do("hang up", chromedp.Click(chromedp.ID("wp-hangup")), chromedp.WaitNotVisible(chromedp.ID("wp-active")))
	waitDone(t, in)

	// The desk phone calls the user: the webphone rings and answers.
	out := make(chan *phonetest.Call, 1)
	go func() {
		c, err := desk.Dial(ctx, "200")
		if err != nil {
			t.Errorf("desk dials 200: %v", err)
		}
		out <- c
	}()
	alice.do("incoming call", chromedp.WaitVisible(chromedp.ID("wp-incoming")))
	if got := alice.text("#wp-caller"); got == "" {
		t.Errorf("the pop-up does not say who calls")
	}
	alice.do("answer", chromedp.Click(chromedp.ID("wp-answer")), waitText("#wp-state", "Talking"))
	c := <-out
	if c == nil {
		t.FailNow()
	}
	twoWayAudio(t, alice, c)
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	alice.do("call ends", chromedp.WaitNotVisible(chromedp.ID("wp-active")))

	// Voicemail from the webphone: *97 answers with the menu's prompt.
	run(alice, "clear the number", chromedp.Evaluate[bool](`(document.getElementById("wp-number").value = "") === ""`))
	alice.do("dial *97", chromedp.SendKeys(chromedp.ID("wp-number"), "*97"), chromedp.Click(chromedp.ID("wp-call")),
		waitText("#wp-state", "Talking"))
	heard := false
	for range 30 {
		time.Sleep(100 * time.Millisecond)
		if run(alice, "peak frequency", chromedp.Evaluate[float64](`switchboardPhone.peakFrequency()`)) > 0 {
			heard = true
			break
		}
	}
	if !heard {
		t.Errorf("the webphone hears nothing from voicemail")
	}
	alice.do("hang up voicemail", chromedp.Click(chromedp.ID("wp-hangup")), chromedp.WaitNotVisible(chromedp.ID("wp-active")))
	waitFor(t, "the gateway legs close", func() bool { return u.sw.WebRTC.Legs() == 0 })
}

// The attendant console: every extension's live status, and a call the
// attendant answered transferred to another extension by clicking it;
// the two desk phones then talk and the attendant's call ends.
func TestBrowserAttendantConsole(t *testing.T) {
	u := startUI(t, uiOptions{sw: phonetest.SwitchOptions{WebRTC: true, WebSessionCheck: 200 * time.Millisecond}, chrome: fakeMic(t)})
	u.addUser("200", "Alice Front", store.RoleUser, "alice-pass-1")
	u.addUser("201", "Bob Caller", store.RoleUser, "bob-pass-1")
	u.addUser("202", "Carol Target", store.RoleUser, "carol-pass-1")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bob := u.sw.Phone(t, "201", "sip-201-password", phonetest.Options{})
	carol := u.sw.Phone(t, "202", "sip-202-password", phonetest.Options{})
	for _, p := range []*phonetest.Phone{bob, carol} {
		if _, err := p.Register(ctx, 300); err != nil {
			t.Fatal(err)
		}
	}
	alice := u.newTab()
	alice.login("200", "alice-pass-1", "/me")
	alice.open("/me/console", `#console-grid [data-ext="202"]`)
	alice.do("webphone registers", chromedp.WaitVisible(chromedp.CSS(`#wp-status[data-state="registered"]`)),
		waitText(`[data-status-of="202"] .tile-status`, "available"))

	out := make(chan *phonetest.Call, 1)
	go func() {
		c, err := bob.Dial(ctx, "200")
		if err != nil {
			t.Errorf("201 dials 200: %v", err)
		}
		out <- c
	}()
	alice.do("answer", chromedp.WaitVisible(chromedp.ID("wp-incoming")), chromedp.Click(chromedp.ID("wp-answer")),
		waitText("#wp-state", "Talking"), waitClass(`[data-status-of="201"]`, "on_call"))
	caller := <-out
	if caller == nil {
		t.FailNow()
	}
	alice.capture("console", true)

	alice.do("transfer to 202", chromedp.Click(chromedp.CSS(`#console-grid [data-ext="202"]`)))
	target := nextCall(t, carol.Incoming())
	alice.do("the attendant's call ends", chromedp.WaitNotVisible(chromedp.ID("wp-active")))
	go target.SendTone(ctx, deskTone, 2*time.Second)
	time.Sleep(300 * time.Millisecond)
	caller.Received() // what 201 heard before and during the transfer
	time.Sleep(1200 * time.Millisecond)
	if err := caller.HearsTone(deskTone); err != nil {
		t.Errorf("after the transfer 201 hears: %v", err)
	}
	caller.Hangup(ctx)
	waitDone(t, target)

	// The session ends (logged out elsewhere): the switch closes the
	// webphone's socket, its registration goes, and the page says so.
	if _, err := u.sw.Store.DeleteSessions("200", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	alice.do("the page says logged out", chromedp.WaitVisible(chromedp.CSS(`#wp-status[data-state="logged-out"]`)))
	if b := u.sw.Registrar().Lookup("200w"); len(b) != 0 {
		t.Errorf("webphone still registered after its session ended: %+v", b)
	}
}

// fakeMic gives Chromium a microphone that plays micTone.
func fakeMic(t *testing.T) []chromedp.ExecAllocatorOption {
	mic := filepath.Join(t.TempDir(), "mic.wav")
	if err := tonetest.WriteWAV(mic, tonetest.Sine(micTone, 60_000)); err != nil {
		t.Fatal(err)
	}
	return []chromedp.ExecAllocatorOption{
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-audio-capture", mic),
		// The switch is on 127.0.0.1 in the test: let Chromium use loopback
		// and show its real addresses instead of mDNS names.
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
	}
}

// waitClass waits until the element has class cls.
func waitClass(sel, cls string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`!!document.querySelector(%q)?.classList.contains(%q)`, sel, cls), chromedp.WithPollingTimeout(15*time.Second))
}

// twoWayAudio checks that the desk phone hears the browser's microphone
// and the browser hears the desk phone.
func twoWayAudio(t *testing.T, b *tab, desk *phonetest.Call) {
	t.Helper()
	// Chromium's audio processing settles in the first second.
	time.Sleep(1500 * time.Millisecond)
	desk.Received()
	time.Sleep(time.Second)
	heard := tonetest.Decode(desk.Received(), desk.Codec())
	if r := tonetest.Ratio(heard, micTone); len(heard) < 4000 || r < 0.8 {
		t.Errorf("desk phone hears %d samples with %.0f%% at %d Hz, want the browser's tone", len(heard), 100*r, micTone)
	}
	t.Logf("desk phone hears %.0f%% of the power at %d Hz (%.1f dBFS)", 100*tonetest.Ratio(heard, micTone), micTone, tonetest.Level(heard))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go desk.SendTone(ctx, deskTone, 4*time.Second)
	var peak float64
	for range 40 {
		time.Sleep(100 * time.Millisecond)
		peak = run(b, "peak frequency", chromedp.Evaluate[float64](`switchboardPhone.peakFrequency()`))
		if math.Abs(peak-deskTone) < 25 {
			t.Logf("the page hears a peak at %.0f Hz", peak)
			return
		}
	}
	t.Errorf("the page hears a peak at %.0f Hz, want %d Hz", peak, deskTone)
}

// callControls: the keypad sends RFC 4733 digits, mute silences the
// microphone, hold gives the desk phone music on hold, resume brings the
// browser back.
func callControls(t *testing.T, b *tab, desk *phonetest.Call) {
	t.Helper()
	b.do("press 5", chromedp.Click(chromedp.CSS(`#wp-keypad [data-key="5"]`)))
	waitFor(t, "the desk phone gets digit 5", func() bool { return slices.Contains(desk.Events(), 5) })

	hears := func(what string, want func(ratio, level float64) bool) {
		t.Helper()
		time.Sleep(700 * time.Millisecond) // the change takes effect
		desk.Received()
		time.Sleep(time.Second)
		heard := tonetest.Decode(desk.Received(), desk.Codec())
		r, l := tonetest.Ratio(heard, micTone), tonetest.Level(heard)
		if !want(r, l) {
			t.Errorf("%s: desk phone hears %d samples, %.0f%% at %d Hz, %.1f dBFS", what, len(heard), 100*r, micTone, l)
		}
	}
	b.do("mute", chromedp.Click(chromedp.ID("wp-mute")), waitText("#wp-mute", "Unmute"))
	hears("muted", func(r, l float64) bool { return l < -50 })
	b.do("unmute", chromedp.Click(chromedp.ID("wp-mute")), waitText("#wp-mute", "Mute"))
	hears("unmuted", func(r, l float64) bool { return r > 0.8 })
	b.do("hold", chromedp.Click(chromedp.ID("wp-hold")), waitText("#wp-state", "On hold"))
	hears("on hold: music", func(r, l float64) bool { return r < 0.3 && l > -40 })
	b.do("resume", chromedp.Click(chromedp.ID("wp-hold")), waitText("#wp-state", "Talking"))
	hears("resumed", func(r, l float64) bool { return r > 0.8 })
}

func nextCall(t *testing.T, ch <-chan *phonetest.Call) *phonetest.Call {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(15 * time.Second):
		t.Fatal("the desk phone did not ring")
	}
	return nil
}

func waitDone(t *testing.T, c *phonetest.Call) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the desk phone's call did not end")
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for range 100 {
		if ok() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("%s: not after 10 s", what)
}

// waitText waits until the element's text contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(document.querySelector(%q)?.textContent || "").includes(%q)`, sel, want), chromedp.WithPollingTimeout(15*time.Second))
}

// waitValue waits until the field's value is want.
func waitValue(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector(%q)?.value === %q`, sel, want), chromedp.WithPollingTimeout(5*time.Second))
}
