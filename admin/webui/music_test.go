package webui

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/media"
	"switchboard/media/prompts"
	"switchboard/store"
)

// fakeMusic records what a running switch would play.
type fakeMusic struct {
	mu           sync.Mutex
	music, intro []byte
	calls        int
}

func (f *fakeMusic) SetMusic(music, intro []byte) {
	f.mu.Lock()
	f.music, f.intro = music, intro
	f.calls++
	f.mu.Unlock()
}

func TestMusicOnHoldPage(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	live := &fakeMusic{}
	e.ops.Music = live
	b := e.login("100")

	r := b.get("/admin/music")
	contains(t, r, "The built-in music", "No intro", `id="music-upload"`, "A change plays at once")
	lacks(t, r, `id="reset-music"`, `id="remove-intro"`)
	r = b.get("/admin/music/audio/music")
	if r.code != 200 || r.hdr.Get("Content-Type") != "audio/wav" || r.body != string(media.WAV(prompts.MusicOnHold())) {
		t.Fatalf("built-in music: %d %v", r.code, r.hdr)
	}
	if r := b.get("/admin/music/audio/intro"); r.code != http.StatusNotFound || !strings.Contains(r.body, "There is no intro") {
		t.Fatalf("no intro: %d", r.code)
	}
	for _, path := range []string{"/admin/music/audio/..%2F..%2Fswitchboard.db", "/admin/music/audio/greeting"} {
		if r := b.get(path); r.code != http.StatusNotFound {
			t.Errorf("%s: %d", path, r.code)
		}
	}

	refused := func(what string, r resp, status int, msg string) {
		t.Helper()
		if r.code != status || !strings.Contains(r.body, msg) {
			t.Errorf("%s: %d, want %d with %q", what, r.code, status, msg)
		}
		if _, err := e.st.Audio(store.AudioMusic); err == nil {
			t.Fatalf("%s: music was stored", what)
		}
		if live.calls != 0 {
			t.Fatalf("%s: the switch was given music", what)
		}
	}
	refused("no file", b.upload("/admin/music/music", "music", "", nil, nil), 400, "Choose a WAV or MP3 file")
	refused("text", b.upload("/admin/music/music", "music", "song.mp3", []byte("la la la, not a song"), nil), 400, "This is not a WAV or MP3 file.")
	refused("too short", b.upload("/admin/music/music", "music", "blip.wav", toneWAV(200*time.Millisecond, 8000), nil), 400,
		"Only 200ms of audio; music on hold needs at least 1s.")
	refused("intro too long", b.upload("/admin/music/intro", "intro", "long.wav", toneWAV(3*time.Minute, 8000), nil), 400,
		"The recording is too long: an intro can be at most 2 minutes.")
	big := append(toneWAV(time.Second, 8000), make([]byte, 51<<20)...)
	refused("too large", b.upload("/admin/music/music", "music", "big.wav", big, nil), http.StatusRequestEntityTooLarge,
		"The file is too large: it can be at most 50 MB.")
	if r := b.upload("/admin/music/music", "music", "a.wav", toneWAV(2*time.Second, 8000), url.Values{"csrf": {"x"}}); r.code != http.StatusForbidden {
		t.Fatalf("upload without CSRF: %d", r.code)
	}

	mp3, err := os.ReadFile("../../media/audioimport/testdata/audio/tone-1k-3s-44100-mono.mp3")
	if err != nil {
		t.Fatal(err)
	}
	r = b.upload("/admin/music/music", "music", "song.mp3", mp3, nil)
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/music?done=music" {
		t.Fatalf("upload music: %d %s", r.code, r.body)
	}
	stored, err := e.st.Audio(store.AudioMusic)
	if err != nil || len(stored) < 2*8000 || live.calls != 1 || string(live.music) != string(stored) || live.intro != nil {
		t.Fatalf("after uploading music: %d bytes (%v), switch told %d times", len(stored), err, live.calls)
	}
	if r := b.upload("/admin/music/intro", "intro", "hello.wav", toneWAV(2*time.Second, 16000), nil); r.code != http.StatusSeeOther {
		t.Fatalf("upload intro: %d %s", r.code, r.body)
	}
	if len(live.intro) != 2*8000 {
		t.Fatalf("the switch's intro: %d bytes", len(live.intro))
	}
	r = b.get("/admin/music?done=intro")
	contains(t, r, "The intro is saved", "Your music (0:03, repeating)", "Your intro (0:02)", `id="reset-music"`, `id="remove-intro"`)
	if r := b.get("/admin/music/audio/intro"); r.body != string(media.WAV(live.intro)) {
		t.Fatal("listening to the intro gives something else")
	}
	b.post("/admin/music/intro/delete", nil)
	if live.intro != nil {
		t.Fatal("the intro still plays")
	}
	b.post("/admin/music/reset", nil)
	if _, err := e.st.Audio(store.AudioMusic); err == nil || live.music != nil {
		t.Fatal("the built-in music is not back")
	}
	contains(t, b.get("/admin/music?done=reset"), "Callers on hold hear the built-in music again.", "The built-in music")

	// Users have no music page.
	u := e.login("200")
	if r := u.get("/admin/music"); r.code != http.StatusForbidden {
		t.Fatalf("user on the music page: %d", r.code)
	}
	if r := u.upload("/admin/music/music", "music", "song.mp3", mp3, nil); r.code != http.StatusForbidden {
		t.Fatalf("user uploading music: %d", r.code)
	}
}

func TestMusicOnHoldAPI(t *testing.T) {
	e := newEnv(t)
	e.addUser("200", "Alice Smith", store.RoleUser)
	b := e.apiLogin("100")
	if r := b.api("GET", "/api/music", nil); r.code != 200 || !strings.Contains(r.body, `"custom": false`) {
		t.Fatalf("show: %d %s", r.code, r.body)
	}
	if r := b.raw("PUT", "/api/music/music", []byte("nope")); r.code != 400 || !strings.Contains(r.body, "not a WAV or MP3") {
		t.Fatalf("garbage: %d %s", r.code, r.body)
	}
	if r := b.raw("PUT", "/api/music/music", append(toneWAV(time.Second, 8000), make([]byte, 51<<20)...)); r.code != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d %s", r.code, r.body)
	}
	r := b.raw("PUT", "/api/music/music", toneWAV(4*time.Second, 44100))
	if r.code != 200 || !strings.Contains(r.body, `"custom": true`) || !strings.Contains(r.body, `"music_s": 4`) || !strings.Contains(r.body, `"sample_rate": 44100`) {
		t.Fatalf("upload: %d %s", r.code, r.body)
	}
	if r := b.raw("PUT", "/api/music/intro", toneWAV(2*time.Second, 8000)); r.code != 200 || !strings.Contains(r.body, `"intro_s": 2`) {
		t.Fatalf("intro: %d %s", r.code, r.body)
	}
	if r := b.get("/api/music/intro"); r.code != 200 || r.hdr.Get("Content-Type") != "audio/wav" {
		t.Fatalf("intro audio: %d", r.code)
	}
	if r := b.raw("PUT", "/api/music/other", toneWAV(2*time.Second, 8000)); r.code != 404 {
		t.Fatalf("unknown part: %d", r.code)
	}
	if r := b.api("DELETE", "/api/music/intro", nil); r.code != 200 || !strings.Contains(r.body, `"intro_s": 0`) {
		t.Fatalf("no intro: %d %s", r.code, r.body)
	}
	if r := b.api("DELETE", "/api/music", nil); r.code != 200 || !strings.Contains(r.body, `"custom": false`) {
		t.Fatalf("reset: %d %s", r.code, r.body)
	}
	u := e.apiLogin("200")
	if r := u.raw("PUT", "/api/music/music", toneWAV(2*time.Second, 8000)); r.code != http.StatusForbidden {
		t.Fatalf("user uploading: %d", r.code)
	}
}
