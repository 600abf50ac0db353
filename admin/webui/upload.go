package webui

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"time"

	"switchboard/admin/webauth"
	"switchboard/media"
	"switchboard/media/audioimport"
)

// Uploads: a page's form with a file (multipart/form-data), or an API
// request whose body is the file itself. The body is bounded
// (http.MaxBytesReader) before anything reads it, a form is parsed in
// memory only (never into temporary files), and the audio is converted
// (audioimport.Convert, bounded again by size and duration) before
// anything is stored, so a refused file changes nothing.

// limitBody bounds what a request may still send: n bytes, and the time to
// send them (a minute, plus a second for every 64 kB it may have). A body
// trickled a byte at a time would otherwise hold its goroutine and
// connection, or an upload slot, for as long as the sender likes.
func limitBody(w http.ResponseWriter, r *http.Request, n int64) {
	r.Body = http.MaxBytesReader(w, r.Body, n)
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyTime + time.Duration(n>>16)*time.Second))
}

// bodyTime is the least time a request body may take (a variable for tests).
var bodyTime = time.Minute

// maxUploads is how many uploads may be read at once; more wait their
// turn, so a burst of large files cannot exhaust the box's memory.
const maxUploads = 2

// uploadSlot waits for a free upload slot (or the request to end) and
// returns its release.
func (a *App) uploadSlot(r *http.Request) (func(), error) {
	select {
	case a.uploads <- struct{}{}:
		return func() { <-a.uploads }, nil
	case <-r.Context().Done():
		return nil, errorf(http.StatusServiceUnavailable, "The server is busy with other uploads; please try again.")
	}
}

// apiUpload is apiBody for an endpoint whose body is an uploaded file:
// it also waits for an upload slot.
func (a *App) apiUpload(who audience, maxBody int64, fn apiFunc) http.HandlerFunc {
	return a.apiBody(who, maxBody, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		release, err := a.uploadSlot(r)
		if err != nil {
			return nil, err
		}
		defer release()
		limitBody(w, r, maxBody) // its time starts now, not while it waited
		return fn(w, r, l)
	})
}

// multipartSlack is what a form adds to its file: boundaries, part
// headers, the CSRF token and a few small fields.
const multipartSlack = 64 << 10

// uploadFunc is a page handler for an upload form. tooLarge says the body
// went over its limit: nothing of it was read, the CSRF token was not
// checked, and the handler must only show the form again with the reason.
type uploadFunc func(w http.ResponseWriter, r *http.Request, l *webauth.Login, tooLarge bool) error

// uploadPage wraps an upload form's handler like page does, for a body of
// at most maxFile bytes of file (plus multipartSlack).
func (a *App) uploadPage(who audience, maxFile int64, fn uploadFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l := a.gate(w, r, who)
		if l == nil {
			return
		}
		if err := webauth.SameOrigin(r); err != nil {
			a.renderError(w, r, l, err)
			return
		}
		release, err := a.uploadSlot(r)
		if err != nil {
			a.renderError(w, r, l, err)
			return
		}
		defer release()
		limit := maxFile + multipartSlack
		limitBody(w, r, limit)
		tooLarge := false
		// maxMemory = the whole limit: every part stays in memory.
		if err := r.ParseMultipartForm(limit); err != nil {
			var big *http.MaxBytesError
			if !errors.As(err, &big) {
				a.renderError(w, r, l, errorf(http.StatusBadRequest, "The upload is not a form with a file (%v).", err))
				return
			}
			tooLarge = true
		}
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
		if !tooLarge {
			if err := webauth.CheckWrite(r, l); err != nil {
				a.renderError(w, r, l, err)
				return
			}
		}
		if err := fn(w, r, l, tooLarge); err != nil {
			a.renderError(w, r, l, err)
		}
	}
}

// formFile returns the file sent in a form's field, nil when none was chosen.
func formFile(r *http.Request, field string) (multipart.File, *multipart.FileHeader) {
	if r.MultipartForm == nil || len(r.MultipartForm.File[field]) == 0 {
		return nil, nil
	}
	fh := r.MultipartForm.File[field][0]
	if fh.Size == 0 && fh.Filename == "" {
		return nil, nil // the browser sends an empty part when no file is chosen
	}
	f, err := fh.Open()
	if err != nil {
		return nil, nil
	}
	return f, fh
}

// audioLimits are what one kind of upload may be.
type audioLimits struct {
	what        string // "a greeting", "music on hold", …: for messages
	maxBytes    int64
	maxDuration time.Duration
	minDuration time.Duration
}

// convertAudio reads an uploaded WAV or MP3 file and returns it as 8 kHz
// μ-law, or an Error whose message says why the file is refused.
func convertAudio(r io.Reader, lim audioLimits) ([]byte, audioimport.Info, error) {
	ulaw, info, err := audioimport.Convert(r, audioimport.Limits{MaxBytes: lim.maxBytes, MaxDuration: lim.maxDuration})
	if err != nil {
		return nil, info, audioError(err, lim)
	}
	if info.Duration < lim.minDuration {
		return nil, info, errorf(http.StatusBadRequest, "This file holds only %s of audio; %s needs at least %s.",
			roundDuration(info.Duration), lim.what, roundDuration(lim.minDuration))
	}
	return ulaw, info, nil
}

// audioError says why an uploaded file is refused; errors that are not
// about the file stay as they are (and are logged, not shown).
func audioError(err error, lim audioLimits) error {
	var big *http.MaxBytesError
	switch {
	case errors.As(err, &big), errors.Is(err, audioimport.ErrTooLarge):
		return tooLargeError(lim)
	case errors.Is(err, audioimport.ErrNotAudio):
		return errorf(http.StatusBadRequest, "This is not a WAV or MP3 file. Choose a .wav or .mp3 recording.")
	case errors.Is(err, audioimport.ErrUnsupported):
		return errorf(http.StatusBadRequest, "This kind of audio file cannot be read (%v). Save it as an ordinary WAV (PCM) or MP3 file and try again.",
			errors.Unwrap(err))
	case errors.Is(err, audioimport.ErrTooLong):
		return tooLongError(lim)
	case errors.Is(err, audioimport.ErrEmpty):
		return errorf(http.StatusBadRequest, "This file holds no audio.")
	}
	return err
}

func tooLargeError(lim audioLimits) *Error {
	return errorf(http.StatusRequestEntityTooLarge, "The file is too large: it can be at most %d MB.", lim.maxBytes>>20)
}

func tooLongError(lim audioLimits) *Error {
	return errorf(http.StatusBadRequest, "The recording is too long: %s can be at most %s.", lim.what, roundDuration(lim.maxDuration))
}

// roundDuration shows a duration for people: "2 minutes", "1.5 seconds".
func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		if d == time.Minute {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", d/time.Minute)
	case d >= time.Minute:
		return formatDuration(d)
	case d == time.Second:
		return "1 second"
	}
	return fmt.Sprintf("%.3g seconds", d.Seconds())
}

// audioFile is an uploaded file as it was read, for the API.
type audioFile struct {
	Format     string        `json:"format"`
	SampleRate int           `json:"sample_rate"`
	Channels   int           `json:"channels"`
	Duration   time.Duration `json:"duration"`
}

func audioFileOf(info audioimport.Info) audioFile {
	return audioFile{Format: info.Format.String(), SampleRate: info.SampleRate, Channels: info.Channels, Duration: info.Duration}
}

// sendWAV answers 8 kHz μ-law audio as a WAV file (media.WAV): inline for
// an <audio> element, or as a download named name. Range requests work, so
// a player can seek.
func sendWAV(w http.ResponseWriter, r *http.Request, ulaw []byte, name string, download bool) {
	noStore(w)
	w.Header().Set("Content-Type", "audio/wav")
	disp := "inline"
	if download {
		disp = "attachment"
	}
	w.Header().Set("Content-Disposition", disp+`; filename="`+name+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(media.WAV(ulaw)))
}
