package webui

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
)

// Music on Hold (office managers): what callers on hold hear — the
// built-in music or uploaded music, and an optional intro played once
// before it — with players, uploads and a reset, through admin/control's
// music operations, so a running switch plays a change at once, also to
// the callers on hold now.

// MusicOperator is what the Music on Hold page needs of the operations.
type MusicOperator interface {
	SetMusic(ctx context.Context, up control.MusicUpload) (control.MusicView, error)
	ResetMusic(ctx context.Context) (control.MusicView, error)
	ShowMusic(ctx context.Context) (control.MusicView, error)
	MusicAudio(ctx context.Context, part string) ([]byte, error)
}

var _ MusicOperator = (*control.Local)(nil)

// The limits control enforces, for the page's hints and messages.
var musicLimits = map[string]audioLimits{
	control.PartMusic: {what: "music on hold", maxBytes: control.MaxMusicUpload, maxDuration: control.MaxMusicDuration, minDuration: control.MinMusicDuration},
	control.PartIntro: {what: "an intro", maxBytes: control.MaxMusicUpload, maxDuration: control.MaxIntroDuration},
}

func (a *App) music() (MusicOperator, error) {
	mo, ok := a.cfg.Ops.(MusicOperator)
	if !ok {
		return nil, errorf(http.StatusNotFound, "Music on hold is not available.")
	}
	return mo, nil
}

type musicView struct {
	CSRF     string
	M        control.MusicView
	Music    string // length of the loop
	Intro    string // length of the intro; "" = none
	Errors   map[string]string
	MaxMB    int64
	MaxMusic string
	MaxIntro string
}

func (a *App) musicView(r *http.Request, l *webauth.Login) (musicView, error) {
	mo, err := a.music()
	if err != nil {
		return musicView{}, err
	}
	m, err := mo.ShowMusic(r.Context())
	if err != nil {
		return musicView{}, err
	}
	v := musicView{CSRF: l.CSRF(), M: m, Music: formatDuration(m.Music), MaxMB: control.MaxMusicUpload >> 20,
		MaxMusic: roundDuration(control.MaxMusicDuration), MaxIntro: roundDuration(control.MaxIntroDuration)}
	if m.Intro > 0 {
		v.Intro = formatDuration(m.Intro)
	}
	return v, nil
}

var musicFlash = map[string]string{
	"music": "The new music is playing to callers on hold.", "intro": "The intro is saved: callers put on hold hear it first.",
	"no-intro": "The intro is removed.", "reset": "Callers on hold hear the built-in music again.",
}

func (a *App) musicPage(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	v, err := a.musicView(r, l)
	if err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, "music", &view{Title: "Music on Hold", Login: l, Section: "org", Nav: "music",
		Flash: musicFlash[r.URL.Query().Get("done")], Data: v})
	return nil
}

func (a *App) musicFail(w http.ResponseWriter, r *http.Request, l *webauth.Login, field string, err error) error {
	e := a.userError(r, err)
	if e.Status >= 500 {
		return e
	}
	v, verr := a.musicView(r, l)
	if verr != nil {
		return verr
	}
	v.Errors = map[string]string{field: e.Msg}
	a.render(w, r, e.Status, "music", &view{Title: "Music on Hold", Login: l, Section: "org", Nav: "music", Data: v})
	return nil
}

// setMusicPart converts and stores one uploaded file as the music or the intro.
func (a *App) setMusicPart(ctx context.Context, part string, file io.Reader) (control.MusicView, error) {
	mo, err := a.music()
	if err != nil {
		return control.MusicView{}, err
	}
	up := control.MusicUpload{Music: file}
	if part == control.PartIntro {
		up = control.MusicUpload{Intro: file}
	}
	a.uploadMu.Lock() // one conversion at a time: each may hold its file in memory
	defer a.uploadMu.Unlock()
	v, err := mo.SetMusic(ctx, up)
	return v, musicProblem(err, part)
}

// musicProblem words control's refusal of a file for the page and the API.
func musicProblem(err error, part string) error {
	var ce *control.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusBadRequest {
		return err
	}
	msg := strings.TrimPrefix(ce.Message, part+" file refused: ")
	switch {
	case strings.Contains(msg, "larger than"):
		return tooLargeError(musicLimits[part])
	case strings.HasPrefix(msg, "not a WAV or MP3 file"):
		return errorf(http.StatusBadRequest, "This is not a WAV or MP3 file. Choose a .wav or .mp3 recording.")
	case strings.HasPrefix(msg, "audio too long"):
		return tooLongError(musicLimits[part])
	case strings.HasPrefix(msg, "no audio"):
		return errorf(http.StatusBadRequest, "This file holds no audio.")
	}
	return errorf(http.StatusBadRequest, "%s", sentence(msg))
}

func (a *App) musicUpload(w http.ResponseWriter, r *http.Request, l *webauth.Login, tooLarge bool) error {
	part := r.PathValue("part")
	lim, ok := musicLimits[part]
	if !ok {
		return errNotFound
	}
	if tooLarge {
		return a.musicFail(w, r, l, part, tooLargeError(lim))
	}
	f, _ := formFile(r, part)
	if f == nil {
		return a.musicFail(w, r, l, part, errorf(http.StatusBadRequest, "Choose a WAV or MP3 file to upload."))
	}
	defer f.Close()
	v, err := a.setMusicPart(r.Context(), part, f)
	if err != nil {
		return a.musicFail(w, r, l, part, err)
	}
	a.log.Info("web: music on hold uploaded", "part", part, "by", l.User.Ext, "music", v.Music, "intro", v.Intro)
	http.Redirect(w, r, "/admin/music?done="+part, http.StatusSeeOther)
	return nil
}

func (a *App) musicChange(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	mo, err := a.music()
	if err != nil {
		return err
	}
	done := "reset"
	if strings.HasSuffix(r.URL.Path, "/intro/delete") {
		_, err = mo.SetMusic(r.Context(), control.MusicUpload{NoIntro: true})
		done = "no-intro"
	} else {
		_, err = mo.ResetMusic(r.Context())
	}
	if err != nil {
		return err
	}
	a.log.Info("web: music on hold changed", "done", done, "by", l.User.Ext)
	http.Redirect(w, r, "/admin/music?done="+done, http.StatusSeeOther)
	return nil
}

// musicAudio answers the music or the intro as WAV.
func (a *App) musicAudio(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	mo, err := a.music()
	if err != nil {
		return err
	}
	part := r.PathValue("part")
	if _, ok := musicLimits[part]; !ok {
		return errNotFound
	}
	b, err := mo.MusicAudio(r.Context(), part)
	var ce *control.Error
	if errors.As(err, &ce) && ce.Status == http.StatusNotFound {
		return errorf(http.StatusNotFound, "There is no intro: callers on hold hear the music at once.")
	}
	if err != nil {
		return err
	}
	sendWAV(w, r, b, "music-on-hold-"+part+".wav", r.URL.Query().Get("download") == "1")
	return nil
}

// musicJSON is the API's view of the music on hold.
type musicJSON struct {
	Custom    bool                `json:"custom"`
	MusicS    float64             `json:"music_s"`
	IntroS    float64             `json:"intro_s"`
	Live      bool                `json:"live"`
	Converted []control.AudioFile `json:"converted,omitempty"`
}

func toMusicJSON(v control.MusicView) musicJSON {
	return musicJSON{Custom: v.Custom, MusicS: v.Music.Round(time.Millisecond).Seconds(), IntroS: v.Intro.Round(time.Millisecond).Seconds(),
		Live: v.Live, Converted: v.Converted}
}

func (a *App) apiMusicRoutes() {
	m := a.mux
	withOps := func(fn func(mo MusicOperator, r *http.Request) (control.MusicView, error)) http.HandlerFunc {
		return a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
			mo, err := a.music()
			if err != nil {
				return nil, err
			}
			v, err := fn(mo, r)
			if err != nil {
				return nil, err
			}
			return toMusicJSON(v), nil
		})
	}
	m.HandleFunc("GET /api/music", withOps(func(mo MusicOperator, r *http.Request) (control.MusicView, error) {
		return mo.ShowMusic(r.Context())
	}))
	m.HandleFunc("DELETE /api/music", withOps(func(mo MusicOperator, r *http.Request) (control.MusicView, error) {
		return mo.ResetMusic(r.Context())
	}))
	m.HandleFunc("DELETE /api/music/intro", withOps(func(mo MusicOperator, r *http.Request) (control.MusicView, error) {
		return mo.SetMusic(r.Context(), control.MusicUpload{NoIntro: true})
	}))
	m.HandleFunc("GET /api/music/{part}", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		return nil, a.musicAudio(w, r, l)
	}))
	m.HandleFunc("PUT /api/music/{part}", a.apiUpload(admins, control.MaxMusicUpload+1, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		part := r.PathValue("part")
		if _, ok := musicLimits[part]; !ok {
			return nil, errorf(http.StatusNotFound, "Upload to /api/music/music or /api/music/intro.")
		}
		v, err := a.setMusicPart(r.Context(), part, r.Body)
		if err != nil {
			return nil, err
		}
		return toMusicJSON(v), nil
	}))
}
