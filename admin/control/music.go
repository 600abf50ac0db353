package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"time"

	"switchboard/media"
	"switchboard/media/audioimport"
	"switchboard/media/prompts"
	"switchboard/store"
)

// Music on hold (per organisation; per queue later). Uploads are WAV or MP3
// files, converted once, where they are stored (by the server when one
// runs), to 8 kHz μ-law with audioimport.Convert.

// MaxMusicUpload bounds one uploaded file (music or intro). It is checked
// where the file is converted, so a running server enforces it whatever a
// client does; the CLI also checks it before it sends anything.
const MaxMusicUpload = 50 << 20

// Longest audio accepted: music loops, an intro plays once to every held
// party before the music. Shorter music than MinMusicDuration would loop
// into a buzz.
const (
	MaxMusicDuration = 15 * time.Minute
	MaxIntroDuration = 2 * time.Minute
	MinMusicDuration = time.Second
)

// MusicOnHold is a running switch's music on hold (call.Manager). SetMusic
// plays music (8 kHz μ-law; nil: the built-in default) to every held party
// from its next frame, and intro (nil: none) once to each newly held party.
type MusicOnHold interface {
	SetMusic(music, intro []byte)
}

// MusicUpload changes the music on hold. SetMusic reads Music to its end
// before it reads Intro (over the control socket they are the parts of one
// stream, in that order).
type MusicUpload struct {
	Music   io.Reader // new music (WAV or MP3); nil keeps the current music
	Intro   io.Reader // new intro (WAV or MP3); nil keeps the current intro
	NoIntro bool      // remove the intro (with Intro nil)
}

// MusicView says what a held party hears.
type MusicView struct {
	Custom bool          `json:"custom"`          // uploaded music; false: the built-in default
	Music  time.Duration `json:"music"`           // length of the loop
	Intro  time.Duration `json:"intro,omitempty"` // length of the intro; 0: none
	Live   bool          `json:"live"`            // a running server plays this from now on
	// Converted describes the files of this upload as they were read.
	Converted []AudioFile `json:"converted,omitempty"`
}

// AudioFile is an uploaded file as audioimport read it.
type AudioFile struct {
	Part       string        `json:"part"` // "music" or "intro"
	Format     string        `json:"format"`
	SampleRate int           `json:"sample_rate"`
	Channels   int           `json:"channels"`
	Bits       int           `json:"bits,omitempty"`
	Duration   time.Duration `json:"duration"`
}

// Music parts, as named in uploads, exports and messages.
const (
	PartMusic = "music"
	PartIntro = "intro"
)

func audioDuration(n int) time.Duration { return time.Duration(n) * time.Second / media.SampleRate }

// SetMusic converts and stores the upload, all or nothing, and a running
// switch plays it from now on: parties on hold now switch to the new music
// at once. A file that is not audio, too large or too long is a 400 and
// nothing changes.
func (l *Local) SetMusic(_ context.Context, up MusicUpload) (MusicView, error) {
	if up.Music == nil && up.Intro == nil && !up.NoIntro {
		return MusicView{}, errorf(http.StatusBadRequest, "nothing to change: give music, an intro, or no intro")
	}
	if up.Intro != nil && up.NoIntro {
		return MusicView{}, errorf(http.StatusBadRequest, "an intro and no intro at once")
	}
	// One conversion at a time: each may hold MaxMusicUpload in memory.
	l.musicMu.Lock()
	defer l.musicMu.Unlock()
	changes := map[string][]byte{}
	var converted []AudioFile
	for _, p := range []struct {
		part string
		r    io.Reader
		key  string
		max  time.Duration
	}{{PartMusic, up.Music, store.AudioMusic, MaxMusicDuration}, {PartIntro, up.Intro, store.AudioMusicIntro, MaxIntroDuration}} {
		if p.r == nil {
			continue
		}
		ulaw, info, err := audioimport.Convert(p.r, audioimport.Limits{MaxBytes: MaxMusicUpload, MaxDuration: p.max})
		if err != nil {
			return MusicView{}, convertError(p.part, err)
		}
		if p.part == PartMusic && info.Duration < MinMusicDuration {
			return MusicView{}, errorf(http.StatusBadRequest, "music file refused: only %v of audio; music on hold needs at least %v",
				info.Duration, MinMusicDuration)
		}
		changes[p.key] = ulaw
		converted = append(converted, AudioFile{Part: p.part, Format: info.Format.String(), SampleRate: info.SampleRate,
			Channels: info.Channels, Bits: info.BitsPerSample, Duration: info.Duration})
	}
	if up.NoIntro {
		changes[store.AudioMusicIntro] = nil
	}
	if err := l.Store.SetAudio(changes); err != nil {
		return MusicView{}, asError(err, "music")
	}
	v, err := l.applyMusic()
	v.Converted = converted
	return v, err
}

// convertError tells the operator why a file was refused.
func convertError(part string, err error) error {
	var e *Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return err
	case errors.As(err, &tooBig):
		return errorf(http.StatusBadRequest, "%s file refused: the upload is larger than %d bytes", part, tooBig.Limit)
	case errors.Is(err, audioimport.ErrTooLarge):
		return errorf(http.StatusBadRequest, "%s file refused: larger than %d MB", part, MaxMusicUpload>>20)
	case errors.Is(err, audioimport.ErrNotAudio), errors.Is(err, audioimport.ErrUnsupported),
		errors.Is(err, audioimport.ErrTooLong), errors.Is(err, audioimport.ErrEmpty):
		return errorf(http.StatusBadRequest, "%s file refused: %v", part, err)
	}
	return fmt.Errorf("%s file: %w", part, err)
}

// ResetMusic goes back to the built-in music, without an intro.
func (l *Local) ResetMusic(context.Context) (MusicView, error) {
	l.musicMu.Lock()
	defer l.musicMu.Unlock()
	if err := l.Store.SetAudio(map[string][]byte{store.AudioMusic: nil, store.AudioMusicIntro: nil}); err != nil {
		return MusicView{}, err
	}
	return l.applyMusic()
}

// ShowMusic says what a held party hears.
func (l *Local) ShowMusic(context.Context) (MusicView, error) {
	v := MusicView{Live: l.Music != nil, Music: audioDuration(len(prompts.MusicOnHold()))}
	if n, err := l.Store.AudioSize(store.AudioMusic); err == nil {
		v.Custom, v.Music = true, audioDuration(n)
	} else if !errors.Is(err, store.ErrNotFound) {
		return MusicView{}, err
	}
	if n, err := l.Store.AudioSize(store.AudioMusicIntro); err == nil {
		v.Intro = audioDuration(n)
	} else if !errors.Is(err, store.ErrNotFound) {
		return MusicView{}, err
	}
	return v, nil
}

// MusicAudio returns the music (part "music", the built-in one unless
// uploaded) or the intro (part "intro"; 404 when there is none) as 8 kHz μ-law.
func (l *Local) MusicAudio(_ context.Context, part string) ([]byte, error) {
	switch part {
	case PartMusic:
		b, err := l.Store.Audio(store.AudioMusic)
		if errors.Is(err, store.ErrNotFound) {
			return prompts.MusicOnHold(), nil
		}
		return b, err
	case PartIntro:
		b, err := l.Store.Audio(store.AudioMusicIntro)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errorf(http.StatusNotFound, "no intro is set")
		}
		return b, err
	}
	return nil, errorf(http.StatusBadRequest, "part %q must be music or intro", part)
}

// ApplyMusic gives the running switch (l.Music) the stored music and intro,
// or the built-in music when none is stored; main calls it at startup.
func (l *Local) ApplyMusic() error {
	_, err := l.applyMusic()
	return err
}

func (l *Local) applyMusic() (MusicView, error) {
	v, err := l.ShowMusic(context.Background())
	if err != nil || l.Music == nil {
		return v, err
	}
	music, err := l.Store.Audio(store.AudioMusic)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	intro, err := l.Store.Audio(store.AudioMusicIntro)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	l.Music.SetMusic(music, intro)
	return v, nil
}

// Over the control socket: POST /v1/moh is a multipart/form-data stream
// with a "music" part, then an "intro" part, each optional (the query says
// which come: music=1, intro=1, no_intro=1); GET /v1/moh shows; DELETE
// /v1/moh resets; GET /v1/moh/audio?part=music|intro exports.

// maxMusicRequest bounds the whole upload stream: two files and the framing.
const maxMusicRequest = 2*MaxMusicUpload + 1<<20

func musicRoutes(ops Ops, h func(pattern string, fn func(w http.ResponseWriter, r *http.Request) error)) {
	h("GET /v1/moh", func(w http.ResponseWriter, r *http.Request) error {
		v, err := ops.ShowMusic(r.Context())
		return reply(w, v, err)
	})
	h("DELETE /v1/moh", func(w http.ResponseWriter, r *http.Request) error {
		v, err := ops.ResetMusic(r.Context())
		return reply(w, v, err)
	})
	h("POST /v1/moh", func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		r.Body = http.MaxBytesReader(w, r.Body, maxMusicRequest)
		up := MusicUpload{NoIntro: q.Get("no_intro") == "1"}
		if q.Get(PartMusic) == "1" || q.Get(PartIntro) == "1" {
			mr, err := r.MultipartReader()
			if err != nil {
				return errorf(http.StatusBadRequest, "upload: %v", err)
			}
			// Each part is read when SetMusic first reads it: music, then intro.
			if q.Get(PartMusic) == "1" {
				up.Music = &nextPart{mr: mr, name: PartMusic}
			}
			if q.Get(PartIntro) == "1" {
				up.Intro = &nextPart{mr: mr, name: PartIntro}
			}
		}
		v, err := ops.SetMusic(r.Context(), up)
		return reply(w, v, err)
	})
	h("GET /v1/moh/audio", func(w http.ResponseWriter, r *http.Request) error {
		b, err := ops.MusicAudio(r.Context(), r.URL.Query().Get("part"))
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "audio/basic") // 8 kHz μ-law (RFC 2046)
		_, err = w.Write(b)
		return err
	})
}

// nextPart reads the multipart part named name, which must be the next one,
// from the first Read on.
type nextPart struct {
	mr   *multipart.Reader
	name string
	p    *multipart.Part
}

func (n *nextPart) Read(b []byte) (int, error) {
	if n.p == nil {
		p, err := n.mr.NextPart()
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return 0, err
			}
			return 0, errorf(http.StatusBadRequest, "upload: no %s part (%v)", n.name, err)
		}
		if p.FormName() != n.name {
			return 0, errorf(http.StatusBadRequest, "upload: part %q where %q belongs", p.FormName(), n.name)
		}
		n.p = p
	}
	return n.p.Read(b)
}

// SetMusic streams the files to the running server, which converts and stores them.
func (c *Client) SetMusic(ctx context.Context, up MusicUpload) (out MusicView, err error) {
	q := url.Values{}
	if up.NoIntro {
		q.Set("no_intro", "1")
	}
	var body io.Reader = http.NoBody
	contentType := ""
	done := make(chan struct{})
	if up.Music != nil || up.Intro != nil {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		contentType = mw.FormDataContentType()
		for _, p := range []struct {
			name string
			r    io.Reader
		}{{PartMusic, up.Music}, {PartIntro, up.Intro}} {
			if p.r != nil {
				q.Set(p.name, "1")
			}
		}
		go func() {
			defer close(done)
			pw.CloseWithError(writeParts(mw, up))
		}()
		defer func() { pr.Close(); <-done }() // the transport may return before reading it all
		body = pr
	} else {
		close(done)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", "http://switchboard/v1/moh?"+q.Encode(), body)
	if err != nil {
		return out, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return out, c.send(req, &out)
}

func writeParts(mw *multipart.Writer, up MusicUpload) error {
	for _, p := range []struct {
		name string
		r    io.Reader
	}{{PartMusic, up.Music}, {PartIntro, up.Intro}} {
		if p.r == nil {
			continue
		}
		w, err := mw.CreateFormFile(p.name, p.name)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, p.r); err != nil {
			return err
		}
	}
	return mw.Close()
}

func (c *Client) ResetMusic(ctx context.Context) (out MusicView, err error) {
	return out, c.doJSON(ctx, "DELETE", "/v1/moh", nil, &out)
}

func (c *Client) ShowMusic(ctx context.Context) (out MusicView, err error) {
	return out, c.doJSON(ctx, "GET", "/v1/moh", nil, &out)
}

func (c *Client) MusicAudio(ctx context.Context, part string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://switchboard/v1/moh/audio?part="+url.QueryEscape(part), nil)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := c.send(req, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
