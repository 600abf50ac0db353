package webui_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"switchboard/media"
	"switchboard/media/tonetest"
	"switchboard/store"
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
