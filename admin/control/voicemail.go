package control

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"time"

	"switchboard/store"
)

// VoicemailOps are the operator's voicemail operations: a user's mailbox
// settings and messages, and the SMTP server voicemail emails go through.
type VoicemailOps interface {
	Voicemail(ctx context.Context, ext string) (VoicemailView, error)
	SetMailbox(ctx context.Context, ext string, p MailboxPatch) (MailboxView, error)
	MessageAudio(ctx context.Context, ext, id string) ([]byte, error)
	DeleteMessage(ctx context.Context, ext, id string) error
	SMTP(ctx context.Context) (SMTPView, error)
	SetSMTP(ctx context.Context, p SMTPPatch) (SMTPView, error)
	TestSMTP(ctx context.Context, to string) (SMTPTestResult, error)
}

// SMTPTester sends a test email through the SMTP settings: the voicemail
// mailer (switch/voicemail's SMTP), wired by main.
type SMTPTester interface {
	SendTest(ctx context.Context, to string) error
}

// SMTPTestResult says where a test email went.
type SMTPTestResult struct {
	To     string `json:"to"`
	Server string `json:"server"` // host:port
}

// MWI is told when a box changes, so the phones' lamps follow (the
// running switch's presence service).
type MWI interface {
	Changed(ext string)
}

// MailboxPatch changes the mailbox settings that are set.
type MailboxPatch struct {
	PIN    *string `json:"pin,omitempty"`
	Email  *string `json:"email,omitempty"`  // "" stops emailing
	Attach *bool   `json:"attach,omitempty"` // attach the recording to the email
	Keep   *bool   `json:"keep,omitempty"`   // keep emailed messages in the box
}

// MailboxView is a mailbox as the operator sees it (no PIN).
type MailboxView struct {
	Ext            string    `json:"ext"`
	HasPIN         bool      `json:"has_pin"`
	LockedUntil    time.Time `json:"locked_until,omitzero"`
	Email          string    `json:"email,omitempty"`
	Attach         bool      `json:"attach"`
	Keep           bool      `json:"keep"`
	CustomGreeting bool      `json:"custom_greeting"`
	New            int       `json:"new"`
	Saved          int       `json:"saved"`
}

// VoicemailView is a mailbox with its messages, newest first.
type VoicemailView struct {
	Mailbox  MailboxView          `json:"mailbox"`
	Messages []store.VoiceMessage `json:"messages"`
}

// SMTPPatch changes the SMTP settings that are set.
type SMTPPatch struct {
	Host     *string        `json:"host,omitempty"`
	Port     *int           `json:"port,omitempty"`
	Username *string        `json:"username,omitempty"`
	Password *string        `json:"password,omitempty"`
	From     *string        `json:"from,omitempty"`
	TLS      *store.TLSMode `json:"tls,omitempty"`
}

// SMTPView is the SMTP settings without the password.
type SMTPView struct {
	Configured  bool          `json:"configured"`
	Host        string        `json:"host,omitempty"`
	Port        int           `json:"port,omitempty"`
	Username    string        `json:"username,omitempty"`
	PasswordSet bool          `json:"password_set"`
	From        string        `json:"from,omitempty"`
	TLS         store.TLSMode `json:"tls,omitempty"`
}

var messageIDPattern = regexp.MustCompile(`^[0-9a-f]{1,32}$`)

func checkExt(ext string) error {
	if !extPattern.MatchString(ext) {
		return errorf(http.StatusBadRequest, "extension %q must be 2 to 7 digits, not starting with 0", ext)
	}
	return nil
}

func checkMessage(ext, id string) error {
	if err := checkExt(ext); err != nil {
		return err
	}
	if !messageIDPattern.MatchString(id) {
		return errorf(http.StatusBadRequest, "message id %q is not an id from `voicemail list`", id)
	}
	return nil
}

func (l *Local) changed(ext string) {
	if l.MWI != nil {
		l.MWI.Changed(ext)
	}
}

// Voicemail returns ext's mailbox settings and messages.
func (l *Local) Voicemail(_ context.Context, ext string) (VoicemailView, error) {
	if err := checkExt(ext); err != nil {
		return VoicemailView{}, err
	}
	box, err := l.Store.Mailbox(ext)
	if err != nil {
		return VoicemailView{}, asError(err, "extension "+ext)
	}
	msgs, err := l.Store.Messages(ext)
	if err != nil {
		return VoicemailView{}, asError(err, "extension "+ext)
	}
	if msgs == nil {
		msgs = []store.VoiceMessage{}
	}
	return VoicemailView{Mailbox: mailboxView(box, msgs), Messages: msgs}, nil
}

func mailboxView(m store.Mailbox, msgs []store.VoiceMessage) MailboxView {
	v := MailboxView{Ext: m.Ext, HasPIN: m.HasPIN(), Email: m.Email, Attach: m.EmailAudio, Keep: m.KeepAfterEmail,
		CustomGreeting: m.CustomGreeting}
	if m.LockedUntil.After(time.Now()) {
		v.LockedUntil = m.LockedUntil
	}
	for _, msg := range msgs {
		if msg.Read {
			v.Saved++
		} else {
			v.New++
		}
	}
	return v
}

// SetMailbox changes ext's voicemail settings; a new PIN also lifts a lockout.
func (l *Local) SetMailbox(_ context.Context, ext string, p MailboxPatch) (MailboxView, error) {
	if err := checkExt(ext); err != nil {
		return MailboxView{}, err
	}
	if p.PIN != nil {
		if err := store.ValidPIN(*p.PIN); err != nil {
			return MailboxView{}, asError(err, "")
		}
	}
	if p.Email != nil || p.Attach != nil || p.Keep != nil {
		_, err := l.Store.UpdateMailbox(ext, func(m *store.Mailbox) error {
			if p.Email != nil {
				m.Email = *p.Email
			}
			if p.Attach != nil {
				m.EmailAudio = *p.Attach
			}
			if p.Keep != nil {
				m.KeepAfterEmail = *p.Keep
			}
			return nil
		})
		if err != nil {
			return MailboxView{}, asError(err, "extension "+ext)
		}
	}
	if p.PIN != nil {
		if err := l.Store.SetMailboxPIN(ext, *p.PIN); err != nil {
			return MailboxView{}, asError(err, "extension "+ext)
		}
	}
	v, err := l.Voicemail(context.Background(), ext)
	return v.Mailbox, err
}

// MessageAudio returns a message's recording (8 kHz μ-law).
func (l *Local) MessageAudio(_ context.Context, ext, id string) ([]byte, error) {
	if err := checkMessage(ext, id); err != nil {
		return nil, err
	}
	audio, err := l.Store.MessageAudio(ext, id)
	return audio, asError(err, "message "+id+" of extension "+ext)
}

// DeleteMessage deletes a message; the phones' lamps follow.
func (l *Local) DeleteMessage(_ context.Context, ext, id string) error {
	if err := checkMessage(ext, id); err != nil {
		return err
	}
	if err := l.Store.DeleteMessage(ext, id); err != nil {
		return asError(err, "message "+id+" of extension "+ext)
	}
	l.changed(ext)
	return nil
}

// SMTP returns the SMTP settings without the password.
func (l *Local) SMTP(context.Context) (SMTPView, error) {
	c, err := l.Store.SMTP()
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return SMTPView{}, nil
		}
		return SMTPView{}, err
	}
	return smtpView(c), nil
}

func smtpView(c store.SMTPSettings) SMTPView {
	return SMTPView{Configured: true, Host: c.Host, Port: c.Port, Username: c.Username, PasswordSet: c.Password != "",
		From: c.From, TLS: c.TLS}
}

// SetSMTP changes the SMTP settings (the first time, host and from are needed).
func (l *Local) SetSMTP(_ context.Context, p SMTPPatch) (SMTPView, error) {
	c, err := l.Store.SMTP()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return SMTPView{}, err
	}
	for _, f := range []struct {
		v   *string
		dst *string
	}{{p.Host, &c.Host}, {p.Username, &c.Username}, {p.Password, &c.Password}, {p.From, &c.From}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if p.Port != nil {
		c.Port = *p.Port
	}
	if p.TLS != nil {
		c.TLS = *p.TLS
	}
	if p.Username != nil && *p.Username == "" {
		c.Password = "" // no user, no password
	}
	if err := l.Store.PutSMTP(c); err != nil {
		return SMTPView{}, asError(err, "")
	}
	return smtpView(c), nil
}

// smtpTestTimeout bounds a test email (a server that does not answer).
const smtpTestTimeout = 20 * time.Second

// TestSMTP sends a test email to `to` through the stored SMTP settings.
// A server that cannot be reached or refuses is 502 with what it said.
func (l *Local) TestSMTP(ctx context.Context, to string) (SMTPTestResult, error) {
	to = strings.TrimSpace(to)
	if to == "" || !emailPattern.MatchString(to) || strings.ContainsAny(to, "\r\n<>,;\"") || len(to) > 254 {
		return SMTPTestResult{}, errorf(http.StatusBadRequest, "%q is not an email address", to)
	}
	c, err := l.Store.SMTP()
	if errors.Is(err, store.ErrNotFound) {
		return SMTPTestResult{}, errorf(http.StatusNotFound, "no SMTP server is set up yet: set the mail server first")
	}
	if err != nil {
		return SMTPTestResult{}, err
	}
	if l.Mail == nil {
		return SMTPTestResult{}, errorf(http.StatusServiceUnavailable, "sending email is not available here")
	}
	ctx, cancel := context.WithTimeout(ctx, smtpTestTimeout)
	defer cancel()
	res := SMTPTestResult{To: to, Server: c.Addr()}
	if err := l.Mail.SendTest(ctx, to); err != nil {
		return SMTPTestResult{}, errorf(http.StatusBadGateway, "%s", smtpFailure(c.Addr(), err))
	}
	return res, nil
}

// smtpFailure says why a test email did not go, in words for the office manager.
func smtpFailure(addr string, err error) string {
	msg := strings.TrimPrefix(err.Error(), "smtp: ")
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "the mail server at " + addr + " did not answer in time (check the server name, the port and the firewall)"
	case errors.As(err, &oe) && oe.Op == "dial":
		return "cannot reach the mail server at " + addr + ": " + oe.Err.Error() + " (check the server name and the port)"
	}
	var pe *textproto.Error
	if errors.As(err, &pe) {
		return "the mail server at " + addr + " refused: " + msg
	}
	return "sending through " + addr + " failed: " + msg
}

// Client side.

func (c *Client) Voicemail(ctx context.Context, ext string) (out VoicemailView, err error) {
	return out, c.doJSON(ctx, "GET", "/v1/voicemail/"+url.PathEscape(ext), nil, &out)
}

func (c *Client) SetMailbox(ctx context.Context, ext string, p MailboxPatch) (out MailboxView, err error) {
	return out, c.doJSON(ctx, "PATCH", "/v1/voicemail/"+url.PathEscape(ext), p, &out)
}

func (c *Client) MessageAudio(ctx context.Context, ext, id string) ([]byte, error) {
	var buf bytesWriter
	err := c.do(ctx, "GET", "/v1/voicemail/"+url.PathEscape(ext)+"/"+url.PathEscape(id)+"/audio", nil, 0, &buf)
	return buf.b, err
}

func (c *Client) DeleteMessage(ctx context.Context, ext, id string) error {
	return c.doJSON(ctx, "DELETE", "/v1/voicemail/"+url.PathEscape(ext)+"/"+url.PathEscape(id), nil, &struct{}{})
}

func (c *Client) SMTP(ctx context.Context) (out SMTPView, err error) {
	return out, c.doJSON(ctx, "GET", "/v1/smtp", nil, &out)
}

func (c *Client) TestSMTP(ctx context.Context, to string) (out SMTPTestResult, err error) {
	return out, c.doJSON(ctx, "POST", "/v1/smtp/test", map[string]string{"to": to}, &out)
}

func (c *Client) SetSMTP(ctx context.Context, p SMTPPatch) (out SMTPView, err error) {
	return out, c.doJSON(ctx, "PATCH", "/v1/smtp", p, &out)
}

// bytesWriter collects a raw answer.
type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// voicemailRoutes adds the voicemail requests to the control API.
func voicemailRoutes(ops Ops, h func(pattern string, fn func(w http.ResponseWriter, r *http.Request) error)) {
	h("GET /v1/voicemail/{ext}", func(w http.ResponseWriter, r *http.Request) error {
		out, err := ops.Voicemail(r.Context(), r.PathValue("ext"))
		return reply(w, out, err)
	})
	h("PATCH /v1/voicemail/{ext}", func(w http.ResponseWriter, r *http.Request) error {
		var p MailboxPatch
		if err := readJSON(r, &p); err != nil {
			return err
		}
		out, err := ops.SetMailbox(r.Context(), r.PathValue("ext"), p)
		return reply(w, out, err)
	})
	h("GET /v1/voicemail/{ext}/{id}/audio", func(w http.ResponseWriter, r *http.Request) error {
		audio, err := ops.MessageAudio(r.Context(), r.PathValue("ext"), r.PathValue("id"))
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "audio/basic") // 8 kHz μ-law
		_, err = w.Write(audio)
		return err
	})
	h("DELETE /v1/voicemail/{ext}/{id}", func(w http.ResponseWriter, r *http.Request) error {
		return reply(w, struct{}{}, ops.DeleteMessage(r.Context(), r.PathValue("ext"), r.PathValue("id")))
	})
	h("GET /v1/smtp", func(w http.ResponseWriter, r *http.Request) error {
		out, err := ops.SMTP(r.Context())
		return reply(w, out, err)
	})
	h("PATCH /v1/smtp", func(w http.ResponseWriter, r *http.Request) error {
		var p SMTPPatch
		if err := readJSON(r, &p); err != nil {
			return err
		}
		out, err := ops.SetSMTP(r.Context(), p)
		return reply(w, out, err)
	})
	h("POST /v1/smtp/test", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			To string `json:"to"`
		}
		if err := readJSON(r, &req); err != nil {
			return err
		}
		out, err := ops.TestSMTP(r.Context(), req.To)
		return reply(w, out, err)
	})
}
