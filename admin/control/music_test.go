package control_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"switchboard/admin/control"
	"switchboard/media"
	"switchboard/media/prompts"
	"switchboard/media/tonetest"
	"switchboard/store"
)

// wavTone is a 16-bit PCM WAV file of a sine at freq (half of full scale)
// in every channel.
func wavTone(rate, channels int, freq float64, d time.Duration) []byte {
	n := int(d * time.Duration(rate) / time.Second)
	data := 2 * channels * n
	b := make([]byte, 44, 44+data)
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)
	le.PutUint16(b[20:], 1)
	le.PutUint16(b[22:], uint16(channels))
	le.PutUint32(b[24:], uint32(rate))
	le.PutUint32(b[28:], uint32(2*channels*rate))
	le.PutUint16(b[32:], uint16(2*channels))
	le.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(data))
	for i := range n {
		v := int16(16384 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
		for range channels {
			b = le.AppendUint16(b, uint16(v))
		}
	}
	return b
}

// mp3Tone is a 3 s 1 kHz MP3 (44.1 kHz mono) from audioimport's fixtures.
func mp3Tone(t testing.TB) []byte {
	b, err := os.ReadFile("../../media/audioimport/testdata/audio/tone-1k-3s-44100-mono.mp3")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// toneIn fails unless most of ulaw's power (its middle, away from the
// resampler's edges) is at freq.
func toneIn(t *testing.T, what string, ulaw []byte, freq float64) {
	t.Helper()
	if len(ulaw) < 1600 {
		t.Fatalf("%s: only %d samples", what, len(ulaw))
	}
	mid := ulaw[400 : len(ulaw)-400]
	samples := make([]int16, len(mid))
	for i, b := range mid {
		samples[i] = media.PCMU.Decode(b)
	}
	if r := tonetest.Ratio(samples, freq); r < 0.9 {
		t.Fatalf("%s: %.0f Hz holds %.0f%% of the power, want ≥ 90%%", what, freq, 100*r)
	}
}

func near(d, want time.Duration) bool {
	return d > want-100*time.Millisecond && d < want+100*time.Millisecond
}

var defaultMusic = time.Duration(len(prompts.MusicOnHold())) * time.Second / media.SampleRate

func TestMusicSetShowExportReset(t *testing.T) {
	both(t, func(t *testing.T, ops control.Ops, st *store.Store) {
		c := ctx(t)
		v, err := ops.ShowMusic(c)
		if err != nil || v.Custom || v.Music != defaultMusic || v.Intro != 0 {
			t.Fatalf("show at first = %+v, %v; want the %v default", v, err, defaultMusic)
		}
		if _, err := ops.MusicAudio(c, control.PartIntro); err == nil {
			t.Fatal("exported an intro that was never set")
		} else {
			wantStatus(t, err, http.StatusNotFound)
		}
		def, err := ops.MusicAudio(c, control.PartMusic)
		if err != nil || !bytes.Equal(def, prompts.MusicOnHold()) {
			t.Fatalf("export of the default: %d bytes, %v", len(def), err)
		}

		// A CD-rate stereo WAV becomes 3 s of 8 kHz μ-law at 440 Hz.
		v, err = ops.SetMusic(c, control.MusicUpload{Music: bytes.NewReader(wavTone(44100, 2, 440, 3*time.Second))})
		if err != nil {
			t.Fatal(err)
		}
		if !v.Custom || !near(v.Music, 3*time.Second) || v.Intro != 0 || len(v.Converted) != 1 {
			t.Fatalf("after set = %+v", v)
		}
		if f := v.Converted[0]; f.Part != "music" || f.Format != "wav" || f.SampleRate != 44100 || f.Channels != 2 || f.Bits != 16 {
			t.Fatalf("converted = %+v", f)
		}
		music, err := ops.MusicAudio(c, control.PartMusic)
		if err != nil {
			t.Fatal(err)
		}
		toneIn(t, "exported music", music, 440)
		if stored, _ := st.Audio(store.AudioMusic); !bytes.Equal(stored, music) {
			t.Fatal("export differs from what is stored")
		}

		// An MP3 intro; the music stays.
		v, err = ops.SetMusic(c, control.MusicUpload{Intro: bytes.NewReader(mp3Tone(t))})
		if err != nil {
			t.Fatal(err)
		}
		if !v.Custom || !near(v.Music, 3*time.Second) || !near(v.Intro, 3*time.Second) || v.Converted[0].Format != "mp3" {
			t.Fatalf("after intro = %+v", v)
		}
		intro, err := ops.MusicAudio(c, control.PartIntro)
		if err != nil {
			t.Fatal(err)
		}
		toneIn(t, "exported intro", intro, 1000)
		if again, _ := ops.MusicAudio(c, control.PartMusic); !bytes.Equal(again, music) {
			t.Fatal("setting the intro changed the music")
		}

		// Music and intro at once, through one upload.
		v, err = ops.SetMusic(c, control.MusicUpload{Music: bytes.NewReader(wavTone(8000, 1, 1000, 2*time.Second)),
			Intro: bytes.NewReader(wavTone(16000, 1, 440, time.Second))})
		if err != nil || !near(v.Music, 2*time.Second) || !near(v.Intro, time.Second) || len(v.Converted) != 2 {
			t.Fatalf("set both = %+v, %v", v, err)
		}
		intro, _ = ops.MusicAudio(c, control.PartIntro)
		toneIn(t, "second intro", intro, 440)

		if v, err = ops.SetMusic(c, control.MusicUpload{NoIntro: true}); err != nil || v.Intro != 0 || !v.Custom {
			t.Fatalf("no intro = %+v, %v", v, err)
		}
		if _, err := st.Audio(store.AudioMusicIntro); err == nil {
			t.Fatal("intro still stored")
		}
		if v, err = ops.ResetMusic(c); err != nil || v.Custom || v.Music != defaultMusic || v.Intro != 0 {
			t.Fatalf("reset = %+v, %v", v, err)
		}
		if _, err := st.Audio(store.AudioMusic); err == nil {
			t.Fatal("music still stored after reset")
		}
	})
}

func TestMusicRefusesBadFiles(t *testing.T) {
	both(t, func(t *testing.T, ops control.Ops, st *store.Store) {
		c := ctx(t)
		good := wavTone(8000, 1, 440, time.Second)
		if _, err := ops.SetMusic(c, control.MusicUpload{Music: bytes.NewReader(good)}); err != nil {
			t.Fatal(err)
		}
		before, _ := st.Audio(store.AudioMusic)
		huge := make([]byte, control.MaxMusicUpload+1)
		copy(huge, good) // a WAV header in front: refused for its size, not its content
		longIntro := wavTone(8000, 1, 440, control.MaxIntroDuration+time.Second)
		for name, up := range map[string]control.MusicUpload{
			"text file":             {Music: bytes.NewReader([]byte("this is not music at all, just a text file\n"))},
			"empty file":            {Music: bytes.NewReader(nil)},
			"png":                   {Music: bytes.NewReader(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...))},
			"huge file":             {Music: bytes.NewReader(huge)},
			"intro too long":        {Intro: bytes.NewReader(longIntro)},
			"good music, bad intro": {Music: bytes.NewReader(wavTone(8000, 1, 1000, time.Second)), Intro: bytes.NewReader([]byte("nope"))},
			"nothing":               {},
			"music too short":       {Music: bytes.NewReader(wavTone(8000, 1, 440, 300*time.Millisecond))},
			"intro and no intro":    {Intro: bytes.NewReader(good), NoIntro: true},
		} {
			_, err := ops.SetMusic(c, up)
			if err == nil {
				t.Fatalf("%s: accepted", name)
			}
			wantStatus(t, err, http.StatusBadRequest)
			t.Logf("%s: %v", name, err)
			if now, _ := st.Audio(store.AudioMusic); !bytes.Equal(now, before) {
				t.Fatalf("%s: the music changed", name)
			}
			if _, err := st.Audio(store.AudioMusicIntro); err == nil {
				t.Fatalf("%s: an intro was stored", name)
			}
		}
		if _, err := ops.MusicAudio(c, "ringback"); err == nil {
			t.Fatal("exported a part that does not exist")
		} else {
			wantStatus(t, err, http.StatusBadRequest)
		}
	})
}

// heldMusic stands in for a running switch's call manager.
type heldMusic struct {
	mu           sync.Mutex
	music, intro []byte
	calls        int
}

func (h *heldMusic) SetMusic(music, intro []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.music, h.intro = music, intro
	h.calls++
}

func (h *heldMusic) get() (music, intro []byte, calls int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.music, h.intro, h.calls
}

func TestMusicGoesLive(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	live := &heldMusic{}
	local := &control.Local{Store: st, Music: live}
	if err := local.ApplyMusic(); err != nil {
		t.Fatal(err)
	}
	if m, i, n := live.get(); m != nil || i != nil || n != 1 {
		t.Fatalf("at startup without uploads the switch got %d bytes, intro %d bytes (%d calls); want nil (the default)", len(m), len(i), n)
	}
	client := serve(t, dir, local)
	v, err := client.SetMusic(ctx(t), control.MusicUpload{Music: bytes.NewReader(wavTone(8000, 1, 440, time.Second)),
		Intro: bytes.NewReader(wavTone(8000, 1, 1000, time.Second))})
	if err != nil || !v.Live {
		t.Fatalf("set = %+v, %v", v, err)
	}
	m, i, _ := live.get()
	toneIn(t, "live music", m, 440)
	toneIn(t, "live intro", i, 1000)

	// A refused upload leaves the switch alone.
	_, _, n := live.get()
	if _, err := client.SetMusic(ctx(t), control.MusicUpload{Music: bytes.NewReader([]byte("garbage"))}); err == nil {
		t.Fatal("garbage accepted")
	}
	if _, _, n2 := live.get(); n2 != n {
		t.Fatal("a refused upload reached the switch")
	}

	// A restart (a new Local on the same store) plays what is stored.
	again := &heldMusic{}
	if err := (&control.Local{Store: st, Music: again}).ApplyMusic(); err != nil {
		t.Fatal(err)
	}
	if m2, i2, _ := again.get(); !bytes.Equal(m2, m) || !bytes.Equal(i2, i) {
		t.Fatal("startup did not load the stored music and intro")
	}

	var backup bytes.Buffer
	if _, err := client.Backup(ctx(t), &backup, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ResetMusic(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if m, i, _ := live.get(); m != nil || i != nil {
		t.Fatal("reset did not give the switch its default back")
	}
	// A restore plays the backup's music at once.
	if _, err := client.Restore(ctx(t), &backup, int64(backup.Len())); err != nil {
		t.Fatal(err)
	}
	if m2, i2, _ := live.get(); !bytes.Equal(m2, m) || !bytes.Equal(i2, i) {
		t.Fatal("the restored music is not what the switch plays")
	}
}

// The server enforces the size limit whatever the client sends: the part
// is read only up to the limit.
func TestMusicUploadLimitServerSide(t *testing.T) {
	st := openStore(t, t.TempDir())
	h := control.Handler(&control.Local{Store: st}, slog.New(slog.DiscardHandler))
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("--b\r\nContent-Disposition: form-data; name=\"music\"; filename=\"x\"\r\n\r\n"))
		pw.Write(wavTone(8000, 1, 440, time.Second))
		chunk := make([]byte, 1<<20)
		for range control.MaxMusicUpload>>20 + 1 {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Write([]byte("\r\n--b--\r\n"))
		pw.Close()
	}()
	defer pr.Close()
	req := httptest.NewRequest("POST", "/v1/moh?music=1", pr)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusBadRequest || !bytes.Contains(w.Body.Bytes(), []byte("larger than")) {
		t.Fatalf("oversized upload: %d %s", w.Code, w.Body)
	}
	if _, err := st.Audio(store.AudioMusic); err == nil {
		t.Fatal("oversized upload stored")
	}
	// A multipart body without the announced part, and a body that is not multipart.
	for name, req := range map[string]*http.Request{
		"missing part": func() *http.Request {
			r := httptest.NewRequest("POST", "/v1/moh?music=1", bytes.NewReader([]byte("--b--\r\n")))
			r.Header.Set("Content-Type", "multipart/form-data; boundary=b")
			return r
		}(),
		"not multipart": httptest.NewRequest("POST", "/v1/moh?intro=1", bytes.NewReader([]byte("RIFF"))),
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", name, w.Code, w.Body)
		}
	}
}
