package voicemail

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"

	"switchboard/media"
	"switchboard/store"
)

// MailSettings is where the mailer finds the SMTP server and the office's
// time zone (*store.Store).
type MailSettings interface {
	SMTP() (store.SMTPSettings, error)
	Setting(key string, v any) error
}

// SMTP delivers voicemail by email through the server in the store's SMTP
// settings, read at every delivery (so a change applies at once). It uses
// STARTTLS whenever the server offers it (unless the settings say off) and
// sends a password only over TLS or to a server on this machine.
type SMTP struct {
	Settings MailSettings
	TLS      *tls.Config // nil: the system's roots, ServerName from the settings
	Hostname string      // the name we greet the server with; default this machine's
}

var _ Mailer = (*SMTP)(nil)

// ErrNoSMTP means no SMTP server is set up.
var ErrNoSMTP = errors.New("no SMTP server is set up (switchboard smtp set)")

// Deliver emails one message to `to`, with the recording attached as a WAV
// file when audio is not nil.
func (m *SMTP) Deliver(ctx context.Context, to string, msg store.VoiceMessage, audio []byte) error {
	cfg, err := m.Settings.SMTP()
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSMTP
	}
	if err != nil {
		return err
	}
	loc := time.Local
	var zone string
	if m.Settings.Setting(store.TimeZoneKey, &zone) == nil {
		if l, err := time.LoadLocation(zone); err == nil {
			loc = l
		}
	}
	data, err := composeMail(cfg.From, to, msg, audio, loc, time.Now())
	if err != nil {
		return err
	}
	return m.send(ctx, cfg, to, data)
}

// SendTest emails a short test message to `to` through the SMTP settings,
// the way voicemail is sent, so the office manager can check them.
func (m *SMTP) SendTest(ctx context.Context, to string) error {
	if strings.ContainsAny(to, "\r\n<>") {
		return fmt.Errorf("smtp: %q is not an email address", to)
	}
	cfg, err := m.Settings.SMTP()
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSMTP
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	now := time.Now()
	h("From", cfg.From)
	h("To", to)
	h("Subject", "Switchboard test email")
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", "<test-"+store.RandomToken(8)+"@"+domainOf(cfg.From)+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	buf.WriteString("\r\nThis is a test email from Switchboard: voicemail emails can go through " + cfg.Addr() + ".\r\n")
	return m.send(ctx, cfg, to, buf.Bytes())
}

// send runs one SMTP session: greet, STARTTLS, AUTH, MAIL, RCPT, DATA, QUIT.
func (m *SMTP) send(ctx context.Context, cfg store.SMTPSettings, to string, data []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // net/smtp knows no context
	defer stop()
	tlsConf := m.tlsConfig(cfg.Host)
	secure := false
	if cfg.TLS == store.TLSImplicit {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("smtp: TLS: %w", err)
		}
		conn, secure = tc, true
	}
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	if err := c.Hello(m.hostname()); err != nil {
		return fmt.Errorf("smtp: EHLO: %w", err)
	}
	if !secure && cfg.TLS != store.TLSOff {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return fmt.Errorf("smtp: STARTTLS: %w", err)
			}
			secure = true
		} else if cfg.TLS == store.TLSRequire {
			return errors.New("smtp: the server does not offer STARTTLS, which the settings require")
		}
	}
	if cfg.Username != "" {
		if !secure && !isLocal(cfg.Host) {
			return errors.New("smtp: refusing to send the password without TLS to a server on another machine")
		}
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("smtp: the server does not offer AUTH, but a user is set")
		}
		if err := c.Auth(plainAuth{user: cfg.Username, password: cfg.Password}); err != nil {
			return fmt.Errorf("smtp: AUTH: %w", err)
		}
	}
	if err := c.Mail(cfg.From); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("smtp: RCPT TO %s: %w", to, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: message refused: %w", err)
	}
	c.Quit()
	return nil
}

func (m *SMTP) tlsConfig(host string) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if m.TLS != nil {
		c = m.TLS.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = host
	}
	return c
}

func (m *SMTP) hostname() string {
	if m.Hostname != "" {
		return m.Hostname
	}
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}

// isLocal reports whether host is this machine (a plain-text password to
// it crosses no network).
func isLocal(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// plainAuth is AUTH PLAIN (RFC 4616). net/smtp's PlainAuth decides about
// TLS itself by the server's name; send decides that above, once, so the
// rule is the same for every mechanism.
type plainAuth struct{ user, password string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.password), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge")
	}
	return nil, nil
}

// composeMail builds the email of a message: a text part saying who
// called, when and for how long, and the recording as voicemail-….wav.
func composeMail(from, to string, msg store.VoiceMessage, audio []byte, loc *time.Location, now time.Time) ([]byte, error) {
	who := callerText(msg)
	when := msg.Time.In(loc)
	var buf bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	h("From", from)
	h("To", to)
	h("Subject", mime.QEncoding.Encode("utf-8", "New voicemail from "+who))
	h("Date", now.In(loc).Format(time.RFC1123Z))
	h("Message-ID", "<voicemail-"+msg.Ext+"-"+msg.ID+"@"+domainOf(from)+">")
	h("MIME-Version", "1.0")
	h("X-Switchboard-Mailbox", msg.Ext)
	mw := multipart.NewWriter(&buf)
	h("Content-Type", "multipart/mixed; boundary="+mw.Boundary())
	buf.WriteString("\r\n")

	text := fmt.Sprintf("New voicemail for extension %s from %s.\r\n\r\nLength: %s\r\nLeft: %s\r\n",
		msg.Ext, who, clock(msg.Duration), when.Format("Monday 2 January 2006 at 15:04 (MST)"))
	if audio != nil {
		text += "\r\nThe recording is attached.\r\n"
	}
	text += "\r\nTo listen from your phone, dial *97.\r\n"
	part, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return nil, err
	}
	qp := quotedprintable.NewWriter(part)
	qp.Write([]byte(text))
	qp.Close()

	if audio != nil {
		name := fmt.Sprintf("voicemail-%s-%s.wav", msg.Ext, when.Format("20060102-150405"))
		part, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType("audio/wav", map[string]string{"name": name})},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": name})},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		writeBase64Lines(part, media.WAV(audio))
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// callerText is "Bob Jones (201)", or just the number, made safe for a
// mail header and a text body: the name comes from the caller's phone.
func callerText(msg store.VoiceMessage) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, s)
	}
	number, name := clean(msg.Caller), strings.TrimSpace(clean(msg.CallerName))
	if number == "" {
		number = "an unknown number"
	}
	if name == "" || name == number {
		return number
	}
	return name + " (" + number + ")"
}

// clock is a duration as m:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "switchboard"
}

// writeBase64Lines writes b as base64 in lines of 76 characters (RFC 2045).
func writeBase64Lines(w interface{ Write([]byte) (int, error) }, b []byte) {
	enc := base64.StdEncoding.EncodeToString(b)
	for len(enc) > 76 {
		w.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	w.Write([]byte(enc + "\r\n"))
}
