package webui_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"switchboard/admin/control"
	"switchboard/media"
	"switchboard/media/tonetest"
	"switchboard/store"
	"switchboard/switch/phonetest"
)

// The browser test's later steps, one function per view, each run by
// TestBrowserAdminAndUser after the views before it.

// files writes the test's upload files: a WAV tone and a text file that
// pretends to be audio.
func (u *ui) files() (wav, notAudio string) {
	u.t.Helper()
	dir := u.t.TempDir()
	wav, notAudio = filepath.Join(dir, "greeting.wav"), filepath.Join(dir, "notes.wav")
	if err := tonetest.WriteWAV(wav, tonetest.Sine(440, 3000)); err != nil {
		u.t.Fatal(err)
	}
	if err := os.WriteFile(notAudio, []byte("this is not a recording\n"), 0o644); err != nil {
		u.t.Fatal(err)
	}
	return wav, notAudio
}

// messagesStep: a voicemail waits for 201; Home counts it, he plays it in
// the browser (which marks it heard and puts the lamp out), then uploads a
// greeting — first a file that is not audio, refused next to the field.
func (u *ui) messagesStep(bob *tab) {
	t := u.t
	t.Helper()
	tone := bytes.Join(tonetest.Generate(440, 2000, media.PCMU), nil)
	msg, err := u.sw.Store.SaveMessage(store.VoiceMessage{Ext: "201", Caller: "202", Time: time.Now().Add(-10 * time.Minute),
		Duration: 2 * time.Second}, tone)
	if err != nil {
		t.Fatal(err)
	}
	bob.open("/me", "#new-voicemail")
	if got := bob.text("#new-voicemail"); !strings.Contains(got, "1") || !strings.Contains(got, "new voicemail") {
		t.Errorf("Home's voicemail count: %q", got)
	}
	bob.do("open messages", chromedp.Click(chromedp.CSS("#new-voicemail a")), chromedp.WaitVisible(chromedp.ID("messages-table")))
	if got := bob.text("#message-" + msg.ID); !strings.Contains(got, "202") || !strings.Contains(got, "Carol King") ||
		!strings.Contains(got, "new") || !strings.Contains(got, "0:02") {
		t.Errorf("the message's row: %q", got)
	}
	bob.capture("messages", true)

	// Chromium plays the μ-law WAV: it knows its length, and playing marks the message heard.
	length := run(bob, "play the message", chromedp.Evaluate[float64](`(async () => {
		const a = document.querySelector("#message-`+msg.ID+` audio");
		await a.play();
		return a.duration;
	})()`, chromedp.EvalAwaitPromise))
	if length < 1.9 || length > 2.1 {
		t.Errorf("the browser reads the message as %.2f s long, want 2", length)
	}
	bob.do("the message is marked heard", chromedp.WaitNotPresent(chromedp.CSS("#message-"+msg.ID+".unread")),
		chromedp.WaitVisible(chromedp.CSS(`#message-`+msg.ID+` form[data-when="heard"]`)))
	if m, err := u.sw.Store.Message("201", msg.ID); err != nil || !m.Read {
		t.Errorf("the stored message after playing it: %+v, %v", m, err)
	}
	if got := bob.text(`[data-count="new"]`); got != "0" {
		t.Errorf("new messages after playing the only one: %q", got)
	}

	wav, notAudio := u.files()
	bob.do("upload a file that is not audio",
		chromedp.SetUploadFiles(chromedp.ID("greeting-file"), []string{notAudio}),
		chromedp.Click(chromedp.CSS("#greeting-upload button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#greeting-upload .field-error")))
	if got := bob.text("#greeting-upload .field-error"); !strings.Contains(got, "This is not a WAV or MP3 file.") {
		t.Errorf("refusing a text file: %q", got)
	}
	bob.capture("messages-greeting-refused", false)
	bob.do("upload a greeting",
		chromedp.SetUploadFiles(chromedp.ID("greeting-file"), []string{wav}),
		chromedp.Click(chromedp.CSS("#greeting-upload button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("default-greeting")))
	if got := bob.text("#greeting"); !strings.Contains(got, "your own greeting (0:03)") {
		t.Errorf("the greeting card after uploading: %q", got)
	}
	if g, err := u.sw.Store.Greeting("201"); err != nil || len(g) != 3*media.SampleRate {
		t.Errorf("stored greeting: %d bytes, %v", len(g), err)
	}
	greetingLength := run(bob, "load the greeting", chromedp.Evaluate[float64](`new Promise((ok, fail) => {
		const a = document.getElementById("greeting-audio");
		a.addEventListener("loadedmetadata", () => ok(a.duration));
		a.addEventListener("error", () => fail(new Error("the greeting does not load")));
		a.preload = "metadata"; a.load();
	})`, chromedp.EvalAwaitPromise))
	if greetingLength < 2.9 || greetingLength > 3.1 {
		t.Errorf("the browser reads the greeting as %.2f s long, want 3", greetingLength)
	}
}

// contactsStep: 201 finds Carol in Contacts, stars her (she comes first),
// watches her status turn "on a call" and back without reloading while he
// calls her, and finds her in the header's quick pop-up.
func (u *ui) contactsStep(bob *tab, desk *phonetest.Phone) {
	t := u.t
	t.Helper()
	u.sw.Store.UpdateUser("202", func(us *store.User) error { us.Department = "Support"; return nil })
	u.sw.Store.UpdateUser("201", func(us *store.User) error { us.Department = "Sales"; return nil })
	bob.open("/me/contacts", "#contacts-table")
	if got := bob.text("#contact-202"); !strings.Contains(got, "Carol King") || !strings.Contains(got, "Support") || !strings.Contains(got, "✓ online") {
		t.Errorf("Carol in the contacts: %q", got)
	}
	bob.do("star Carol", chromedp.Click(chromedp.CSS(`#contact-202 button.star`)), chromedp.WaitVisible(chromedp.CSS(`#contact-202 button.star.on`)))
	if first := run(bob, "first contact", chromedp.Evaluate[string](`document.querySelector("#contacts-table tbody tr").id`)); first != "contact-202" {
		t.Errorf("the first contact after starring Carol: %s", first)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := desk.Dial(ctx, "202")
	if err != nil {
		t.Fatalf("201 calls 202: %v", err)
	}
	bob.do("Carol is on a call, live", chromedp.WaitVisible(chromedp.CSS(`#contact-202 .status.on_call`)))
	bob.capture("contacts", true)
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	bob.do("Carol is back online, live", chromedp.WaitVisible(chromedp.CSS(`#contact-202 .status.online`)))

	// The quick pop-up, from another page's header: favourites first, searchable.
	bob.open("/me/phones", "#phones-table")
	bob.do("open the quick contacts", chromedp.Click(chromedp.ID("quick-contacts")), chromedp.WaitVisible(chromedp.ID("quick-table")))
	if first := bob.text("#quick-table tbody tr"); !strings.Contains(first, "Carol King") {
		t.Errorf("the quick list starts with %q, want the favourite", first)
	}
	bob.capture("contacts-quick", true)
	bob.do("search the quick list", chromedp.SendKeys(chromedp.ID("quick-q"), "sales"))
	if n := run(bob, "visible quick rows", chromedp.Evaluate[int](`document.querySelectorAll("#quick-table tbody tr:not([hidden])").length`)); n != 1 {
		t.Errorf("searching the quick list for sales shows %d rows", n)
	}
	bob.do("close the pop-up", chromedp.Click(chromedp.CSS("#quick [data-close]")), chromedp.WaitNotVisible(chromedp.ID("quick")))
}

// timeFramesStep: the office manager adds "Office hours" through the form
// (a first try without a name is refused next to the field), sets the
// office's time zone, and cannot delete the frame once a rule uses it; 201
// adds a frame of his own.
func (u *ui) timeFramesStep(admin, bob *tab) {
	t := u.t
	t.Helper()
	admin.open("/admin/timeframes", "#zone-form")
	admin.do("add a frame", chromedp.Click(chromedp.ID("add-frame")), chromedp.WaitVisible(chromedp.ID("frame-form")))
	admin.do("submit without a name", chromedp.Click(chromedp.CSS("#frame-form button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#frame-form .field-error")))
	if got := admin.text("#frame-form"); !strings.Contains(got, "Give the time frame a name") {
		t.Errorf("the form without a name: %q", got)
	}
	admin.do("fill the frame",
		chromedp.SendKeys(chromedp.ID("frame-name"), "Office hours"),
		chromedp.Click(chromedp.CSS(`#weekly-0 input[value="5"]`)), // untick Friday
		chromedp.SetValue(chromedp.CSS(`input[name="d0_from"]`), "2026-12-24"),
		chromedp.SetValue(chromedp.CSS(`input[name="d0_to"]`), "2026-12-26"))
	admin.do("save the frame", chromedp.Click(chromedp.CSS("#frame-form button.primary")), chromedp.WaitVisible(chromedp.ID("frame-office-hours")))
	if got := admin.text("#frame-office-hours"); !strings.Contains(got, "Mon–Thu 09:00–17:00") || !strings.Contains(got, "Thu 24 Dec 2026 – Sat 26 Dec 2026, all day") {
		t.Errorf("the new frame: %q", got)
	}
	admin.do("set the time zone", chromedp.SetValue(chromedp.ID("zone"), "Europe/Berlin"), chromedp.Click(chromedp.CSS("#zone-form button")),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(@class, "flash") and contains(., "time zone")]`)))
	if zone, _ := u.sw.Store.TimeZone(); zone != "Europe/Berlin" {
		t.Errorf("stored time zone %q", zone)
	}
	if _, err := u.ops.AddRule(context.Background(), "201", control.RuleSpec{Name: "Office", TimeFrame: "office-hours",
		First: store.RuleStep{Action: store.ActRingMyPhones}}); err != nil {
		t.Fatal(err)
	}
	admin.open("/admin/timeframes", "#frame-office-hours")
	admin.do("delete a frame in use", chromedp.Click(chromedp.CSS("#frame-office-hours button.danger")), chromedp.WaitVisible(chromedp.CSS(".alert")))
	if got := admin.text(".alert"); !strings.Contains(got, `is used by rule "Office" of 201`) {
		t.Errorf("deleting a frame in use: %q", got)
	}
	admin.capture("timeframes", true)
	admin.open("/admin/timeframes/office-hours", "#frame-form")
	admin.capture("timeframe-form", true)

	bob.open("/me/timeframes", "#org-frames")
	bob.do("add own frame", chromedp.Click(chromedp.ID("add-frame")), chromedp.WaitVisible(chromedp.ID("frame-form")),
		chromedp.SendKeys(chromedp.ID("frame-name"), "Gym"),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#weekly-0 input[type=checkbox]").forEach(c => { c.checked = c.value === "2" || c.value === "4"; })`),
		chromedp.SetValue(chromedp.CSS(`input[name="w0_start"]`), "18:00"),
		chromedp.SetValue(chromedp.CSS(`input[name="w0_end"]`), "20:00"),
		chromedp.Click(chromedp.CSS("#frame-form button.primary")), chromedp.WaitVisible(chromedp.ID("frame-201-gym")))
	if got := bob.text("#frame-201-gym"); !strings.Contains(got, "Tue, Thu 18:00–20:00") {
		t.Errorf("201's own frame: %q", got)
	}
	bob.capture("my-timeframes", false)
}

// musicStep: the office manager uploads an MP3 as the music and a WAV as
// the intro, and the browser plays both.
func (u *ui) musicStep(admin *tab) {
	t := u.t
	t.Helper()
	wav, notAudio := u.files()
	mp3, err := filepath.Abs("../../media/audioimport/testdata/audio/tone-1k-3s-44100-mono.mp3")
	if err != nil {
		t.Fatal(err)
	}
	admin.open("/admin/music", "#music-upload")
	if got := admin.text("#music-now"); !strings.Contains(got, "The built-in music") || !strings.Contains(got, "No intro") {
		t.Errorf("music on hold at first: %q", got)
	}
	admin.do("upload a text file as music",
		chromedp.SetUploadFiles(chromedp.ID("music-file"), []string{notAudio}),
		chromedp.Click(chromedp.CSS("#music-upload button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#music-upload .field-error")))
	if got := admin.text("#music-upload .field-error"); !strings.Contains(got, "This is not a WAV or MP3 file.") {
		t.Errorf("refusing a text file: %q", got)
	}
	admin.do("upload music",
		chromedp.SetUploadFiles(chromedp.ID("music-file"), []string{mp3}),
		chromedp.Click(chromedp.CSS("#music-upload button[type=submit]")),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(@class, "flash") and contains(., "new music")]`)))
	admin.do("upload an intro",
		chromedp.SetUploadFiles(chromedp.ID("intro-file"), []string{wav}),
		chromedp.Click(chromedp.CSS("#intro-upload button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("remove-intro")))
	if got := admin.text("#music-now"); !strings.Contains(got, "Your intro (0:03)") || !strings.Contains(got, "Your music (0:03, repeating)") {
		t.Errorf("music on hold after the uploads: %q", got)
	}
	for _, p := range []struct {
		sel  string
		want float64
	}{{"#music-player audio", 3}, {"#intro-player audio", 3}} {
		got := run(admin, "load "+p.sel, chromedp.Evaluate[float64](`new Promise((ok, fail) => {
			const a = document.querySelector("`+p.sel+`");
			a.addEventListener("loadedmetadata", () => ok(a.duration));
			a.addEventListener("error", () => fail(new Error("the audio does not load")));
			a.preload = "metadata"; a.load();
		})`, chromedp.EvalAwaitPromise))
		if got < p.want-0.1 || got > p.want+0.1 {
			t.Errorf("%s plays %.2f s, want %.0f", p.sel, got, p.want)
		}
	}
	if _, err := u.sw.Store.Audio(store.AudioMusicIntro); err != nil {
		t.Errorf("stored intro: %v", err)
	}
	admin.capture("music", true)
}

// smtpStep: the office manager enters their password again and sets up
// the mail server voicemail emails go through; the password is not shown.
func (u *ui) smtpStep(admin *tab, password string) {
	t := u.t
	t.Helper()
	admin.open("/admin/preferences", "#reauth")
	admin.do("enter the password again", chromedp.SendKeys(chromedp.ID("reauth-password"), password),
		chromedp.Click(chromedp.CSS("#reauth button[type=submit]")), chromedp.WaitVisible(chromedp.ID("smtp-form")))
	admin.do("submit a wrong sender", chromedp.SendKeys(chromedp.ID("smtp-host"), "smtp.example.com"),
		chromedp.SendKeys(chromedp.ID("smtp-from"), "voicemail"),
		chromedp.Click(chromedp.CSS("#smtp-form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#smtp-form .field-error")))
	if got := admin.text("#smtp-form .field-error"); !strings.Contains(got, "is not an email address") {
		t.Errorf("a wrong sender: %q", got)
	}
	admin.do("fill the email settings",
		chromedp.SetValue(chromedp.ID("smtp-from"), "voicemail@example.com"),
		chromedp.SendKeys(chromedp.ID("smtp-user"), "voicemail@example.com"),
		chromedp.SendKeys(chromedp.ID("smtp-password"), "mail-secret-1"),
		chromedp.Click(chromedp.CSS("#smtp-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(@class, "flash") and contains(., "email settings")]`)))
	if c, err := u.sw.Store.SMTP(); err != nil || c.Host != "smtp.example.com" || c.Password != "mail-secret-1" || c.From != "voicemail@example.com" {
		t.Errorf("stored SMTP settings: %+v, %v", c, err)
	}
	if html := run(admin, "page source", chromedp.Evaluate[string](`document.documentElement.outerHTML`)); strings.Contains(html, "mail-secret-1") {
		t.Error("the page shows the SMTP password")
	}
	admin.capture("preferences", true)
}

// emergencyStep: still re-authenticated, the office manager enters the
// emergency address (a wrong country code first) and adds an authorized
// contact.
func (u *ui) emergencyStep(admin *tab) {
	t := u.t
	t.Helper()
	admin.open("/admin/preferences", "#emergency-form")
	admin.do("submit the emergency address with a wrong country",
		chromedp.SendKeys(chromedp.ID("e911-organization"), "Phonetest Dental"),
		chromedp.SendKeys(chromedp.ID("e911-street"), "100 Main Street, Suite 4"),
		chromedp.SendKeys(chromedp.ID("e911-city"), "Springfield"),
		chromedp.SendKeys(chromedp.ID("e911-region"), "IL"),
		chromedp.SendKeys(chromedp.ID("e911-postal"), "62701"),
		chromedp.SendKeys(chromedp.ID("e911-country"), "U"),
		chromedp.Click(chromedp.CSS("#emergency-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#emergency-form .field-error")))
	if got := admin.text("#emergency-form .field-error"); !strings.Contains(got, "two-letter code") {
		t.Errorf("a wrong country: %q", got)
	}
	admin.do("save the emergency address",
		chromedp.SetValue(chromedp.ID("e911-country"), "us"),
		chromedp.SendKeys(chromedp.ID("e911-notes"), "Entrance at the back, 2nd floor"),
		chromedp.Click(chromedp.CSS("#emergency-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(@class, "flash") and contains(., "emergency address")]`)))
	if a, err := u.sw.Store.EmergencyAddress(); err != nil || a.Country != "US" || a.Street != "100 Main Street, Suite 4" {
		t.Errorf("stored emergency address: %+v, %v", a, err)
	}
	admin.do("add an authorized contact",
		chromedp.SendKeys(chromedp.ID("contact-name"), "Dana Owner"),
		chromedp.SendKeys(chromedp.ID("contact-phone"), "+1 217 555 0100"),
		chromedp.SendKeys(chromedp.ID("contact-email"), "dana@example.com"),
		chromedp.SendKeys(chromedp.ID("contact-role"), "Owner"),
		chromedp.Click(chromedp.CSS("#contact-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#authorized-table")))
	if got := admin.text("#authorized-table"); !strings.Contains(got, "Dana Owner") || !strings.Contains(got, "dana@example.com") {
		t.Errorf("the authorized contacts: %q", got)
	}
	admin.do("scroll to the emergency address", chromedp.ScrollIntoView(chromedp.ID("emergency")))
	admin.capture("emergency", true)
}
