package webui

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
	"switchboard/media"
	"switchboard/media/prompts"
	"switchboard/store"
)

// My Account → Messages: the user's voicemail (listen in the browser,
// download, mark read or unread, delete) and their mailbox settings (PIN,
// email, greeting). Settings, listening and deleting go through
// admin/control's voicemail operations; the read state and the greeting
// are the store's mailbox records. Every change to the messages tells the
// switch (MessageWaiting), so the phones' message-waiting lamps follow.

// MessageWaiting is told when a mailbox's messages change: the running
// switch's presence service, which NOTIFYs the user's phones.
type MessageWaiting interface {
	Changed(ext string)
}

// Greeting uploads: WAV or MP3, as long as a greeting recorded by phone may be.
var greetingLimits = audioLimits{what: "a greeting", maxBytes: 20 << 20, maxDuration: 2 * time.Minute, minDuration: time.Second}

var messageIDPattern = regexp.MustCompile(`^[0-9a-f]{1,32}$`)

func (a *App) voicemail() (control.VoicemailOps, error) {
	vo, ok := a.cfg.Ops.(control.VoicemailOps)
	if !ok {
		return nil, errorf(http.StatusNotFound, "Voicemail is not available.")
	}
	return vo, nil
}

// messageChanged lights or clears the lamps of ext's phones.
func (a *App) messageChanged(ext string) {
	if a.cfg.MWI != nil {
		a.cfg.MWI.Changed(ext)
	}
}

type messageRow struct {
	ID         string
	Caller     string
	CallerName string
	Day, Time  string
	Duration   string
	New        bool
}

// mailboxForm is the settings form as sent (or as stored).
type mailboxForm struct {
	Email        string
	Attach, Keep bool
}

type messagesView struct {
	CSRF     string
	Ext      string
	Box      control.MailboxView
	Rows     []messageRow
	Form     mailboxForm
	Errors   map[string]string
	Greeting string // length of the own greeting ("0:12"); "" = the default one
	Locked   string // until when the PIN is locked, office time
	MaxMB    int64
	MaxLen   string
}

// names maps extensions to people's names, to show who called.
func (a *App) names() map[string]string {
	users, err := a.cfg.Store.Users()
	if err != nil {
		return nil
	}
	out := make(map[string]string, len(users))
	for _, u := range users {
		out[u.Ext] = u.Name()
	}
	return out
}

func callerName(m store.VoiceMessage, names map[string]string) string {
	if m.CallerName != "" {
		return m.CallerName
	}
	return names[m.Caller]
}

func (a *App) messagesView(r *http.Request, l *webauth.Login) (messagesView, error) {
	vo, err := a.voicemail()
	if err != nil {
		return messagesView{}, err
	}
	vm, err := vo.Voicemail(r.Context(), l.User.Ext)
	if err != nil {
		return messagesView{}, err
	}
	v := messagesView{CSRF: l.CSRF(), Ext: l.User.Ext, Box: vm.Mailbox,
		Form:  mailboxForm{Email: vm.Mailbox.Email, Attach: vm.Mailbox.Attach, Keep: vm.Mailbox.Keep},
		MaxMB: greetingLimits.maxBytes >> 20, MaxLen: roundDuration(greetingLimits.maxDuration)}
	loc := a.office()
	if !vm.Mailbox.LockedUntil.IsZero() {
		v.Locked = vm.Mailbox.LockedUntil.In(loc).Format("15:04")
	}
	names := a.names()
	for _, m := range vm.Messages {
		t := m.Time.In(loc)
		v.Rows = append(v.Rows, messageRow{ID: m.ID, Caller: m.Caller, CallerName: callerName(m, names),
			Day: t.Format("Mon 2 Jan 2006"), Time: t.Format("15:04"), Duration: formatDuration(m.Duration), New: !m.Read})
	}
	if vm.Mailbox.CustomGreeting {
		if g, err := a.cfg.Store.Greeting(l.User.Ext); err == nil {
			v.Greeting = formatDuration(time.Duration(len(g)) * time.Second / media.SampleRate)
		}
	}
	return v, nil
}

var messagesFlash = map[string]string{
	"read": "The message is marked heard.", "unread": "The message is marked new.", "deleted": "The message is deleted.",
	"settings": "Your voicemail settings are saved.", "greeting": "Your greeting is saved: callers hear it from now on.",
	"default-greeting": "Callers hear the default greeting again.",
}

func (a *App) messagesPage(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	v, err := a.messagesView(r, l)
	if err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, "messages", &view{Title: "Messages", Login: l, Section: "me", Nav: "messages",
		Flash: messagesFlash[r.URL.Query().Get("done")], Data: v})
	return nil
}

// messagesFail shows the page again with err next to field.
func (a *App) messagesFail(w http.ResponseWriter, r *http.Request, l *webauth.Login, err error, field string, form *mailboxForm) error {
	e := a.userError(r, err)
	if e.Status >= 500 {
		return e
	}
	v, verr := a.messagesView(r, l)
	if verr != nil {
		return verr
	}
	if form != nil {
		v.Form = *form
	}
	v.Errors = e.Fields
	if len(e.Fields) == 0 {
		v.Errors = map[string]string{field: e.Msg}
	}
	a.render(w, r, e.Status, "messages", &view{Title: "Messages", Login: l, Section: "me", Nav: "messages", Data: v})
	return nil
}

func (a *App) messagesDone(w http.ResponseWriter, r *http.Request, done string) error {
	http.Redirect(w, r, "/me/messages?done="+url.QueryEscape(done), http.StatusSeeOther)
	return nil
}

// ownMessage checks that id is a message id of ext's box; anything else
// (another user's message, a path) is "not found".
func (a *App) ownMessage(ext, id string) (store.VoiceMessage, error) {
	if !messageIDPattern.MatchString(id) {
		return store.VoiceMessage{}, errNotFound
	}
	m, err := a.cfg.Store.Message(ext, id)
	if errors.Is(err, store.ErrNotFound) {
		return m, errorf(http.StatusNotFound, "There is no such message in your mailbox (it may have been deleted).")
	}
	return m, err
}

// sendMessageAudio answers a message's recording as WAV.
func (a *App) sendMessageAudio(w http.ResponseWriter, r *http.Request, ext, id string) error {
	vo, err := a.voicemail()
	if err != nil {
		return err
	}
	m, err := a.ownMessage(ext, id)
	if err != nil {
		return err
	}
	audio, err := vo.MessageAudio(r.Context(), ext, id)
	if err != nil {
		return err
	}
	name := "voicemail-" + ext + "-" + m.Time.In(a.office()).Format("2006-01-02-1504") + "-" + safeFilePart(m.Caller) + ".wav"
	sendWAV(w, r, audio, name, r.URL.Query().Get("download") == "1")
	return nil
}

// safeFilePart keeps the characters of s that are safe in a file name.
func safeFilePart(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '+' {
			return r
		}
		return -1
	}, s)
	if s == "" {
		return "unknown"
	}
	return s
}

func (a *App) messageAudio(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	return a.sendMessageAudio(w, r, l.User.Ext, r.PathValue("id"))
}

// setMessageRead marks one of ext's messages read or new; the lamps follow.
func (a *App) setMessageRead(ext, id string, read bool) error {
	if _, err := a.ownMessage(ext, id); err != nil {
		return err
	}
	if err := a.cfg.Store.SetMessageRead(ext, id, read); err != nil {
		return err
	}
	a.messageChanged(ext)
	return nil
}

// deleteMessage deletes one of ext's messages (control tells the lamps).
func (a *App) deleteMessage(r *http.Request, ext, id string) error {
	vo, err := a.voicemail()
	if err != nil {
		return err
	}
	if _, err := a.ownMessage(ext, id); err != nil {
		return err
	}
	return vo.DeleteMessage(r.Context(), ext, id)
}

func (a *App) messageChange(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	id, ext := r.PathValue("id"), l.User.Ext
	var err error
	done := r.PathValue("op")
	switch done {
	case "read", "unread":
		err = a.setMessageRead(ext, id, done == "read")
	case "delete":
		err, done = a.deleteMessage(r, ext, id), "deleted"
	default:
		return errNotFound
	}
	if err != nil {
		return err
	}
	return a.messagesDone(w, r, done)
}

// setMailbox checks the settings one field at a time, so each message
// goes next to its field.
func (a *App) setMailbox(r *http.Request, ext string, p control.MailboxPatch) (control.MailboxView, error) {
	vo, err := a.voicemail()
	if err != nil {
		return control.MailboxView{}, err
	}
	probs := map[string]string{}
	if p.PIN != nil {
		if err := store.ValidPIN(*p.PIN); err != nil {
			probs["pin"] = "A PIN is 4 to 10 digits (0–9)."
		}
	}
	if p.Email != nil {
		*p.Email = strings.TrimSpace(*p.Email)
		if *p.Email != "" && !strings.Contains(*p.Email, "@") {
			probs["email"] = "Enter an email address such as name@example.com, or leave it empty."
		}
	}
	if len(probs) > 0 {
		return control.MailboxView{}, invalid(probs)
	}
	box, err := vo.SetMailbox(r.Context(), ext, p)
	var ce *control.Error
	if errors.As(err, &ce) && ce.Status == http.StatusBadRequest && strings.Contains(ce.Message, "email") {
		return box, invalid(map[string]string{"email": sentence(ce.Message)})
	}
	return box, err
}

func (a *App) mailboxSettings(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	f := mailboxForm{Email: r.PostFormValue("email"), Attach: r.PostFormValue("attach") == "1", Keep: r.PostFormValue("keep") == "1"}
	p := control.MailboxPatch{Email: &f.Email, Attach: &f.Attach, Keep: &f.Keep}
	if pin := strings.TrimSpace(r.PostFormValue("pin")); pin != "" {
		p.PIN = &pin
	}
	if _, err := a.setMailbox(r, l.User.Ext, p); err != nil {
		return a.messagesFail(w, r, l, err, "settings", &f)
	}
	a.log.Info("web: voicemail settings changed", "ext", l.User.Ext, "pin", p.PIN != nil)
	return a.messagesDone(w, r, "settings")
}

// putGreeting converts an uploaded greeting and stores it as ext's own.
func (a *App) putGreeting(ext string, file io.Reader) (audioFile, error) {
	a.uploadMu.Lock() // one conversion at a time: each may hold its file in memory
	defer a.uploadMu.Unlock()
	ulaw, info, err := convertAudio(file, greetingLimits)
	if err != nil {
		return audioFile{}, err
	}
	if err := a.cfg.Store.PutGreeting(ext, ulaw); err != nil {
		return audioFile{}, err
	}
	return audioFileOf(info), nil
}

func (a *App) greetingUpload(w http.ResponseWriter, r *http.Request, l *webauth.Login, tooLarge bool) error {
	if tooLarge {
		return a.messagesFail(w, r, l, tooLargeError(greetingLimits), "greeting", nil)
	}
	f, _ := formFile(r, "greeting")
	if f == nil {
		return a.messagesFail(w, r, l, errorf(http.StatusBadRequest, "Choose a WAV or MP3 file to upload."), "greeting", nil)
	}
	defer f.Close()
	info, err := a.putGreeting(l.User.Ext, f)
	if err != nil {
		return a.messagesFail(w, r, l, err, "greeting", nil)
	}
	a.log.Info("web: voicemail greeting uploaded", "ext", l.User.Ext, "format", info.Format, "duration", info.Duration)
	return a.messagesDone(w, r, "greeting")
}

func (a *App) greetingDelete(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	if err := a.cfg.Store.DeleteGreeting(l.User.Ext); err != nil {
		return err
	}
	return a.messagesDone(w, r, "default-greeting")
}

// greetingAudio is what callers hear before the tone: the user's own
// greeting, or the default one ("the person at extension 2 0 0 is not
// available, please leave a message after the tone", as switch/voicemail
// plays it).
func (a *App) greetingAudio(ext string) ([]byte, error) {
	g, err := a.cfg.Store.Greeting(ext)
	if err == nil {
		return g, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	names := []string{"vm_person_at_extension"}
	for _, d := range ext {
		names = append(names, "num_"+string(d))
	}
	names = append(names, "vm_is_unavailable", "leave_message")
	var out []byte
	for _, n := range names {
		clip, err := prompts.Get(n)
		if err != nil {
			return nil, err
		}
		out = append(out, clip...)
	}
	return out, nil
}

func (a *App) greetingListen(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	g, err := a.greetingAudio(l.User.Ext)
	if err != nil {
		return err
	}
	sendWAV(w, r, g, "greeting-"+l.User.Ext+".wav", r.URL.Query().Get("download") == "1")
	return nil
}

// newMessages counts ext's new messages (for Home and the navigation).
func (a *App) newMessages(ext string) int {
	n, _, err := a.cfg.Store.MessageCounts(ext)
	if err != nil {
		return 0
	}
	return n
}

// messageJSON is a voicemail message in the API.
type messageJSON struct {
	ID         string    `json:"id"`
	Caller     string    `json:"caller"`
	CallerName string    `json:"caller_name,omitempty"`
	Time       time.Time `json:"time"`
	DurationS  int       `json:"duration_s"`
	Read       bool      `json:"read"`
	Audio      string    `json:"audio"` // where its WAV is
}

func (a *App) apiMessagesRoutes() {
	m := a.mux
	m.HandleFunc("GET /api/me/voicemail", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		vo, err := a.voicemail()
		if err != nil {
			return nil, err
		}
		vm, err := vo.Voicemail(r.Context(), l.User.Ext)
		if err != nil {
			return nil, err
		}
		loc, names := a.office(), a.names()
		out := struct {
			Mailbox  control.MailboxView `json:"mailbox"`
			Messages []messageJSON       `json:"messages"`
		}{Mailbox: vm.Mailbox, Messages: []messageJSON{}}
		for _, msg := range vm.Messages {
			out.Messages = append(out.Messages, messageJSON{ID: msg.ID, Caller: msg.Caller, CallerName: callerName(msg, names),
				Time: msg.Time.In(loc), DurationS: int(msg.Duration.Round(time.Second).Seconds()), Read: msg.Read,
				Audio: "/api/me/messages/" + msg.ID + "/audio"})
		}
		return out, nil
	}))
	m.HandleFunc("PATCH /api/me/voicemail", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		var p control.MailboxPatch
		if err := readJSON(r, &p); err != nil {
			return nil, err
		}
		return a.setMailbox(r, l.User.Ext, p)
	}))
	m.HandleFunc("GET /api/me/messages/{id}/audio", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		return nil, a.sendMessageAudio(w, r, l.User.Ext, r.PathValue("id"))
	}))
	m.HandleFunc("PATCH /api/me/messages/{id}", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		var req struct {
			Read *bool `json:"read"`
		}
		if err := readJSON(r, &req); err != nil {
			return nil, err
		}
		if req.Read == nil {
			return nil, invalid(map[string]string{"read": "Send read: true or false."})
		}
		if err := a.setMessageRead(l.User.Ext, r.PathValue("id"), *req.Read); err != nil {
			return nil, err
		}
		return map[string]any{"id": r.PathValue("id"), "read": *req.Read, "new": a.newMessages(l.User.Ext)}, nil
	}))
	m.HandleFunc("DELETE /api/me/messages/{id}", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		if err := a.deleteMessage(r, l.User.Ext, r.PathValue("id")); err != nil {
			return nil, err
		}
		return map[string]any{"deleted": r.PathValue("id"), "new": a.newMessages(l.User.Ext)}, nil
	}))
	m.HandleFunc("GET /api/me/voicemail/greeting", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		return nil, a.greetingListen(w, r, l)
	}))
	m.HandleFunc("PUT /api/me/voicemail/greeting", a.apiUpload(anyone, greetingLimits.maxBytes+1, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		info, err := a.putGreeting(l.User.Ext, r.Body)
		if err != nil {
			return nil, err
		}
		vo, err := a.voicemail()
		if err != nil {
			return nil, err
		}
		vm, err := vo.Voicemail(r.Context(), l.User.Ext)
		return map[string]any{"mailbox": vm.Mailbox, "converted": info}, err
	}))
	m.HandleFunc("DELETE /api/me/voicemail/greeting", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		if err := a.cfg.Store.DeleteGreeting(l.User.Ext); err != nil {
			return nil, err
		}
		vo, err := a.voicemail()
		if err != nil {
			return nil, err
		}
		vm, err := vo.Voicemail(r.Context(), l.User.Ext)
		return vm.Mailbox, err
	}))
}
