package webui

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/admin/control"
	"switchboard/media"
	"switchboard/store"
)

// seedMessage stores a voicemail message for ext.
func (e *env) seedMessage(ext, caller, name string, ago time.Duration, audio []byte) store.VoiceMessage {
	e.t.Helper()
	m, err := e.st.SaveMessage(store.VoiceMessage{Ext: ext, Caller: caller, CallerName: name, Time: time.Now().Add(-ago),
		Duration: time.Duration(len(audio)) * time.Second / 8000}, audio)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func TestMessagesPage(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	e.addUser("201", "Bob Jones", store.RoleUser)
	b := e.login("200")
	contains(t, b.get("/me/messages"), "No messages.", "default greeting", "*11", "No PIN yet.")
	contains(t, b.get("/me"), `<span class="n">0</span><span class="label">new voicemails</span>`)

	audio := bytes.Repeat([]byte{0xff, 0x7f}, 8000) // 2 s
	old := e.seedMessage("200", "201", "", 2*time.Hour, audio)
	recent := e.seedMessage("200", "+4930123456", `<script>alert(1)</script>`, time.Hour, audio[:8000])
	bobs := e.seedMessage("201", "200", "", time.Hour, audio)

	r := b.get("/me/messages")
	contains(t, r, "Bob Jones", "4930123456", "&lt;script&gt;alert(1)&lt;/script&gt;", "0:02", "0:01",
		`<span data-count="new">2</span> new`, `/me/messages/`+old.ID+`/audio`, `data-confirm="Delete the message from 201`)
	lacks(t, r, "<script>alert(1)", bobs.ID)
	if strings.Index(r.body, recent.ID) > strings.Index(r.body, old.ID) {
		t.Error("the newest message is not first")
	}
	contains(t, b.get("/me"), `<span class="n">2</span><span class="label">new voicemails</span>`)

	// Listening: a WAV of the stored audio, with ranges; a download has a file name.
	r = b.get("/me/messages/" + old.ID + "/audio")
	if r.code != 200 || r.hdr.Get("Content-Type") != "audio/wav" || r.body != string(media.WAV(audio)) ||
		!strings.HasPrefix(r.hdr.Get("Content-Disposition"), "inline") {
		t.Fatalf("audio: %d %v, %d bytes", r.code, r.hdr, len(r.body))
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/me/messages/"+old.ID+"/audio", nil)
	req.Header.Set("Range", "bytes=0-99")
	if r := b.do(req); r.code != http.StatusPartialContent || len(r.body) != 100 {
		t.Fatalf("range: %d, %d bytes", r.code, len(r.body))
	}
	r = b.get("/me/messages/" + recent.ID + "/audio?download=1")
	if cd := r.hdr.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="voicemail-200-`) || !strings.HasSuffix(cd, `-+4930123456.wav"`) {
		t.Fatalf("download: %q", cd)
	}
	// Someone else's message, and things that are not message ids, are not found.
	for _, path := range []string{"/me/messages/" + bobs.ID + "/audio", "/me/messages/..%2F..%2Fstore/audio",
		"/me/messages/%2e%2e/audio", "/me/messages/" + old.ID + "%2F..%2F" + bobs.ID + "/audio", "/me/messages/ABC/audio"} {
		if r := b.get(path); r.code != http.StatusNotFound || strings.Contains(r.body, "RIFF") {
			t.Errorf("%s: %d", path, r.code)
		}
	}
	if r := b.post("/me/messages/"+bobs.ID+"/delete", nil); r.code != http.StatusNotFound {
		t.Fatalf("deleting another user's message: %d", r.code)
	}
	if _, err := e.st.Message("201", bobs.ID); err != nil {
		t.Fatalf("bob's message after 200 tried to delete it: %v", err)
	}

	// Read, unread, delete: the store changes and the lamps are told.
	e.mwi.take()
	if r := b.post("/me/messages/"+old.ID+"/read", nil); r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/me/messages?done=read" {
		t.Fatalf("mark read: %d %s", r.code, r.body)
	}
	if m, _ := e.st.Message("200", old.ID); !m.Read {
		t.Error("the message is not read")
	}
	contains(t, b.get("/me/messages?done=read"), "The message is marked heard.", `<span data-count="new">1</span> new`)
	b.post("/me/messages/"+old.ID+"/unread", nil)
	if m, _ := e.st.Message("200", old.ID); m.Read {
		t.Error("the message is still read")
	}
	b.post("/me/messages/"+old.ID+"/delete", nil)
	if _, err := e.st.Message("200", old.ID); err == nil {
		t.Error("the message is not deleted")
	}
	if got := e.mwi.take(); !slices.Equal(got, []string{"200", "200", "200"}) {
		t.Errorf("lamps told %v, want 200 three times", got)
	}
	if r := b.post("/me/messages/"+recent.ID+"/frobnicate", nil); r.code != http.StatusNotFound {
		t.Errorf("unknown operation: %d", r.code)
	}
	// Writes need the CSRF token.
	if r := b.post("/me/messages/"+recent.ID+"/delete", url.Values{"csrf": {"wrong"}}); r.code != http.StatusForbidden {
		t.Errorf("delete without the CSRF token: %d", r.code)
	}
}

func TestMailboxSettings(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.login("200")
	b.get("/me/messages")

	r := b.post("/me/voicemail", url.Values{"pin": {"12a"}, "email": {"not an address"}, "attach": {"1"}})
	if r.code != http.StatusBadRequest {
		t.Fatalf("bad settings: %d", r.code)
	}
	contains(t, r, "A PIN is 4 to 10 digits", "Enter an email address such as", `value="not an address"`)
	r = b.post("/me/voicemail", url.Values{"email": {"alice@example"}})
	contains(t, r, "is not an email address")
	if box, _ := e.st.Mailbox("200"); box.Email != "" || box.HasPIN() {
		t.Fatalf("refused settings were stored: %+v", box)
	}
	r = b.post("/me/voicemail", url.Values{"pin": {"4321"}, "email": {"alice@example.com"}, "attach": {"1"}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("save settings: %d %s", r.code, r.body)
	}
	box, _ := e.st.Mailbox("200")
	if box.Email != "alice@example.com" || !box.EmailAudio || box.KeepAfterEmail {
		t.Fatalf("stored settings: %+v", box)
	}
	if ok, _, _ := e.st.CheckMailboxPIN("200", "4321", time.Now()); !ok {
		t.Fatal("the PIN was not set")
	}
	r = b.get("/me/messages?done=settings")
	contains(t, r, "Your voicemail settings are saved.", "A PIN is set.", `value="alice@example.com"`)
	lacks(t, r, "4321")
	// An empty PIN keeps the PIN.
	b.post("/me/voicemail", url.Values{"email": {""}, "keep": {"1"}})
	if ok, _, _ := e.st.CheckMailboxPIN("200", "4321", time.Now()); !ok {
		t.Fatal("an empty PIN field changed the PIN")
	}

	api := e.apiLogin("200")
	r = api.api("PATCH", "/api/me/voicemail", map[string]any{"pin": "99"})
	if f := decode[apiError](t, r).Fields; r.code != 400 || f["pin"] == "" {
		t.Fatalf("API bad PIN: %d %s", r.code, r.body)
	}
	r = api.api("PATCH", "/api/me/voicemail", map[string]any{"email": "a@example.org", "keep": false})
	if v := decode[control.MailboxView](t, r); r.code != 200 || v.Email != "a@example.org" || v.Keep || !v.HasPIN {
		t.Fatalf("API settings: %d %s", r.code, r.body)
	}
}

func TestGreetingUpload(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.login("200")
	b.get("/me/messages")

	// The default greeting, spoken with the extension.
	r := b.get("/me/voicemail/greeting.wav")
	if r.code != 200 || r.hdr.Get("Content-Type") != "audio/wav" || len(r.body) < 8000 {
		t.Fatalf("default greeting: %d %v %d bytes", r.code, r.hdr, len(r.body))
	}
	def := r.body

	refused := func(what string, r resp, status int, msg string) {
		t.Helper()
		if r.code != status || !strings.Contains(r.body, msg) || !strings.Contains(r.body, `id="greeting-file"`) {
			t.Errorf("%s: %d, want %d with %q", what, r.code, status, msg)
		}
		if box, _ := e.st.Mailbox("200"); box.CustomGreeting {
			t.Fatalf("%s: a greeting was stored", what)
		}
	}
	refused("no file", b.upload("/me/voicemail/greeting", "greeting", "", nil, nil), 400, "Choose a WAV or MP3 file")
	refused("text", b.upload("/me/voicemail/greeting", "greeting", "notes.wav", []byte("hello, this is not audio"), nil), 400,
		"This is not a WAV or MP3 file.")
	refused("too long", b.upload("/me/voicemail/greeting", "greeting", "long.wav", toneWAV(3*time.Minute, 8000), nil), 400,
		"The recording is too long: a greeting can be at most 2 minutes.")
	refused("too short", b.upload("/me/voicemail/greeting", "greeting", "short.wav", toneWAV(300*time.Millisecond, 8000), nil), 400,
		"a greeting needs at least 1 second")
	big := append(toneWAV(time.Second, 8000), make([]byte, 21<<20)...)
	refused("too large", b.upload("/me/voicemail/greeting", "greeting", "big.wav", big, nil), http.StatusRequestEntityTooLarge,
		"The file is too large: it can be at most 20 MB.")
	if r := b.upload("/me/voicemail/greeting", "greeting", "g.wav", toneWAV(3*time.Second, 44100), url.Values{"csrf": {"nope"}}); r.code != http.StatusForbidden {
		t.Fatalf("upload without the CSRF token: %d", r.code)
	}
	refused("after the bad token", b.get("/me/messages"), 200, "")

	r = b.upload("/me/voicemail/greeting", "greeting", "hello.wav", toneWAV(3*time.Second, 44100), nil)
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/me/messages?done=greeting" {
		t.Fatalf("upload: %d %s", r.code, r.body)
	}
	g, err := e.st.Greeting("200")
	if box, _ := e.st.Mailbox("200"); err != nil || !box.CustomGreeting || len(g) != 3*8000 {
		t.Fatalf("stored greeting: %d bytes, %v, %+v", len(g), err, box)
	}
	contains(t, b.get("/me/messages?done=greeting"), "Your greeting is saved", "your own greeting</strong> (0:03)", `id="default-greeting"`)
	if r := b.get("/me/voicemail/greeting.wav"); r.body != string(media.WAV(g)) {
		t.Fatal("listening gives another greeting than the stored one")
	}
	mp3, err := os.ReadFile("../../media/audioimport/testdata/audio/tone-1k-3s-44100-mono.mp3")
	if err != nil {
		t.Fatal(err)
	}
	if r := b.upload("/me/voicemail/greeting", "greeting", "hello.mp3", mp3, nil); r.code != http.StatusSeeOther {
		t.Fatalf("MP3 upload: %d %s", r.code, r.body)
	}

	b.post("/me/voicemail/greeting/delete", nil)
	if box, _ := e.st.Mailbox("200"); box.CustomGreeting {
		t.Fatal("the default greeting is not back")
	}
	if r := b.get("/me/voicemail/greeting.wav"); r.body != def {
		t.Fatal("the default greeting sounds different after going back to it")
	}

	// The API takes the file as the body.
	api := e.apiLogin("200")
	if r := api.raw("PUT", "/api/me/voicemail/greeting", []byte("<html>")); r.code != 400 || !strings.Contains(r.body, "not a WAV or MP3") {
		t.Fatalf("API garbage: %d %s", r.code, r.body)
	}
	if r := api.raw("PUT", "/api/me/voicemail/greeting", big); r.code != http.StatusRequestEntityTooLarge {
		t.Fatalf("API too large: %d %s", r.code, r.body)
	}
	r = api.raw("PUT", "/api/me/voicemail/greeting", mp3)
	if r.code != 200 || !strings.Contains(r.body, `"custom_greeting": true`) || !strings.Contains(r.body, `"format": "mp3"`) {
		t.Fatalf("API upload: %d %s", r.code, r.body)
	}
	if r := api.api("DELETE", "/api/me/voicemail/greeting", nil); r.code != 200 || !strings.Contains(r.body, `"custom_greeting": false`) {
		t.Fatalf("API default greeting: %d %s", r.code, r.body)
	}
}

func TestMessagesAPI(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	e.addUser("201", "Bob Jones", store.RoleUser)
	audio := bytes.Repeat([]byte{0xff}, 16000)
	m := e.seedMessage("200", "201", "", time.Minute, audio)
	bobs := e.seedMessage("201", "200", "", time.Minute, audio)
	b := e.apiLogin("200")

	r := b.api("GET", "/api/me/voicemail", nil)
	v := decode[struct {
		Mailbox  control.MailboxView `json:"mailbox"`
		Messages []messageJSON       `json:"messages"`
	}](t, r)
	if len(v.Messages) != 1 || v.Messages[0].ID != m.ID || v.Messages[0].CallerName != "Bob Jones" || v.Messages[0].DurationS != 2 ||
		v.Messages[0].Read || v.Mailbox.New != 1 {
		t.Fatalf("voicemail: %s", r.body)
	}
	if r := b.get(v.Messages[0].Audio); r.code != 200 || r.body != string(media.WAV(audio)) {
		t.Fatalf("API audio: %d", r.code)
	}
	e.mwi.take()
	if r := b.api("PATCH", "/api/me/messages/"+m.ID, map[string]bool{"read": true}); r.code != 200 || !strings.Contains(r.body, `"new": 0`) {
		t.Fatalf("mark read: %d %s", r.code, r.body)
	}
	if r := b.api("PATCH", "/api/me/messages/"+m.ID, map[string]any{}); r.code != 400 {
		t.Fatalf("mark without read: %d %s", r.code, r.body)
	}
	for _, id := range []string{bobs.ID, "..%2F" + bobs.ID, "nope"} {
		if r := b.api("PATCH", "/api/me/messages/"+id, map[string]bool{"read": true}); r.code != 404 {
			t.Errorf("PATCH %s: %d %s", id, r.code, r.body)
		}
		if r := b.api("DELETE", "/api/me/messages/"+id, nil); r.code != 404 {
			t.Errorf("DELETE %s: %d %s", id, r.code, r.body)
		}
		if r := b.get("/api/me/messages/" + id + "/audio"); r.code != 404 {
			t.Errorf("audio %s: %d", id, r.code)
		}
	}
	if r := b.api("DELETE", "/api/me/messages/"+m.ID, nil); r.code != 200 {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
	if got := e.mwi.take(); !slices.Equal(got, []string{"200", "200"}) {
		t.Errorf("lamps told %v", got)
	}
	if msgs, _ := e.st.Messages("201"); len(msgs) != 1 || msgs[0].Read {
		t.Errorf("bob's messages changed: %+v", msgs)
	}
}
