package voicemail

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"switchboard/store"
	"switchboard/switch/voicemail/smtpfake"
)

// parsedMail is an email as a mail client sees it.
type parsedMail struct {
	header   mail.Header
	subject  string
	text     string
	filename string
	wav      []byte // the attachment, decoded
	parts    int
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not an email: %v\n%s", err, data)
	}
	var p parsedMail
	p.header = m.Header
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("subject: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("part: %v", err)
		}
		p.parts++
		body, _ := io.ReadAll(part)
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			if part.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
				t.Fatalf("text part encoding %q", part.Header.Get("Content-Transfer-Encoding"))
			}
			txt, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
			if err != nil {
				t.Fatal(err)
			}
			p.text = string(txt)
		case "audio/wav":
			_, dp, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			if err != nil {
				t.Fatal(err)
			}
			p.filename = dp["filename"]
			for _, line := range strings.Split(string(body), "\n") { // SMTP servers may hand over LF
				if line = strings.TrimSuffix(line, "\r"); len(line) > 76 {
					t.Fatalf("base64 line of %d characters", len(line))
				}
			}
			if p.wav, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(body))); err != nil {
				t.Fatalf("attachment: %v", err)
			}
		default:
			t.Fatalf("unexpected part %q", ct)
		}
	}
	return p
}

// wavAudio returns the samples of a μ-law WAV file, checking its format.
func wavAudio(t *testing.T, w []byte) []byte {
	t.Helper()
	le := binary.LittleEndian
	if len(w) < 58 || string(w[0:4]) != "RIFF" || string(w[8:12]) != "WAVE" || le.Uint16(w[20:]) != 7 ||
		le.Uint32(w[24:]) != 8000 || string(w[50:54]) != "data" {
		t.Fatalf("not an 8 kHz μ-law WAV: % x", w[:min(len(w), 58)])
	}
	return w[58 : 58+le.Uint32(w[54:])]
}

func TestComposeMail(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	audio := tone(3200)
	msg := store.VoiceMessage{ID: "abc123", Ext: "200", Caller: "201", CallerName: "Zoë Ødegård",
		Time: time.Date(2026, 3, 2, 8, 30, 5, 0, time.UTC), Duration: 3200 * time.Millisecond}
	data, err := composeMail("pbx@example.com", "alice@example.com", msg, audio, berlin, msg.Time)
	if err != nil {
		t.Fatal(err)
	}
	p := parseMail(t, data)
	if p.subject != "New voicemail from Zoë Ødegård (201)" {
		t.Errorf("subject %q", p.subject)
	}
	if !strings.Contains(p.header.Get("Subject"), "=?utf-8?") {
		t.Errorf("subject not RFC 2047 encoded: %q", p.header.Get("Subject"))
	}
	if p.header.Get("From") != "pbx@example.com" || p.header.Get("To") != "alice@example.com" || p.header.Get("MIME-Version") != "1.0" {
		t.Errorf("headers %v", p.header)
	}
	if d, err := p.header.Date(); err != nil || !d.Equal(msg.Time) {
		t.Errorf("Date %v %v", d, err)
	}
	for _, want := range []string{"extension 200", "Zoë Ødegård (201)", "Length: 0:03", "Monday 2 March 2026 at 09:30 (CET)", "attached"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("text lacks %q:\n%s", want, p.text)
		}
	}
	if p.filename != "voicemail-200-20260302-093005.wav" {
		t.Errorf("filename %q", p.filename)
	}
	if !bytes.Equal(wavAudio(t, p.wav), audio) {
		t.Error("attachment is not the recording")
	}

	// Without the recording: one text part.
	data, _ = composeMail("pbx@example.com", "alice@example.com", msg, nil, time.UTC, msg.Time)
	if p := parseMail(t, data); p.parts != 1 || p.wav != nil || strings.Contains(p.text, "attached") {
		t.Errorf("without audio: %d parts, %d bytes attached", p.parts, len(p.wav))
	}

	// A display name from a caller's phone cannot add headers.
	msg.CallerName = "Evil\r\nBcc: victim@example.com\r\n"
	data, _ = composeMail("pbx@example.com", "alice@example.com", msg, nil, time.UTC, msg.Time)
	p = parseMail(t, data)
	if p.header.Get("Bcc") != "" || strings.Contains(string(data), "\r\nBcc:") {
		t.Fatalf("header injected:\n%s", data)
	}
	if p.subject != "New voicemail from EvilBcc: victim@example.com (201)" {
		t.Errorf("subject %q", p.subject)
	}
	msg.CallerName, msg.Caller = "", ""
	if got := callerText(msg); got != "an unknown number" {
		t.Errorf("callerText = %q", got)
	}
}

// settings is a MailSettings in memory.
type settings struct {
	smtp *store.SMTPSettings
	zone string
}

func (s settings) SMTP() (store.SMTPSettings, error) {
	if s.smtp == nil {
		return store.SMTPSettings{}, store.ErrNotFound
	}
	return *s.smtp, nil
}

func (s settings) Setting(key string, v any) error {
	if key != store.TimeZoneKey || s.zone == "" {
		return store.ErrNotFound
	}
	*(v.(*string)) = s.zone
	return nil
}

func TestSMTPDelivery(t *testing.T) {
	audio := tone(2000)
	msg := store.VoiceMessage{ID: "m1", Ext: "200", Caller: "201", Time: time.Now(), Duration: 2 * time.Second}
	for _, tc := range []struct {
		name     string
		server   smtpfake.Options
		settings store.SMTPSettings
		err      string
		tls      bool
		authUser string
	}{
		{name: "plain relay on this machine", settings: store.SMTPSettings{}},
		{name: "STARTTLS and AUTH", server: smtpfake.Options{StartTLS: true, User: "pbx", Password: "s3cret"},
			settings: store.SMTPSettings{Username: "pbx", Password: "s3cret"}, tls: true, authUser: "pbx"},
		{name: "STARTTLS used when offered", server: smtpfake.Options{StartTLS: true}, tls: true},
		{name: "STARTTLS off", server: smtpfake.Options{StartTLS: true}, settings: store.SMTPSettings{TLS: store.TLSOff}},
		{name: "STARTTLS required but missing", settings: store.SMTPSettings{TLS: store.TLSRequire}, err: "does not offer STARTTLS"},
		{name: "implicit TLS", server: smtpfake.Options{Implicit: true, User: "pbx", Password: "pw"},
			settings: store.SMTPSettings{TLS: store.TLSImplicit, Username: "pbx", Password: "pw"}, tls: true, authUser: "pbx"},
		{name: "password to this machine without TLS", server: smtpfake.Options{User: "pbx", Password: "pw"},
			settings: store.SMTPSettings{Username: "pbx", Password: "pw"}, authUser: "pbx"},
		{name: "wrong password", server: smtpfake.Options{StartTLS: true, User: "pbx", Password: "right"},
			settings: store.SMTPSettings{Username: "pbx", Password: "wrong"}, err: "AUTH"},
		{name: "no AUTH offered", settings: store.SMTPSettings{Username: "pbx", Password: "pw"}, err: "does not offer AUTH"},
		{name: "recipient refused", server: smtpfake.Options{RejectTo: "alice@example.com"}, err: "RCPT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtpfake.Start(t, tc.server)
			cfg := tc.settings
			cfg.Host, cfg.Port, cfg.From = "127.0.0.1", srv.Port(), "pbx@example.com"
			m := &SMTP{Settings: settings{smtp: &cfg}, TLS: &tls.Config{RootCAs: srv.Roots()}, Hostname: "switchboard.test"}
			err := m.Deliver(t.Context(), "alice@example.com", msg, audio)
			got := srv.Messages()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one about %q", err, tc.err)
				}
				if len(got) != 0 {
					t.Fatal("a message was delivered anyway")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d messages delivered", len(got))
			}
			d := got[0]
			if d.From != "pbx@example.com" || d.To != "alice@example.com" || d.TLS != tc.tls || d.AuthUser != tc.authUser {
				t.Fatalf("delivered from %s to %s, tls=%v auth=%q", d.From, d.To, d.TLS, d.AuthUser)
			}
			if !bytes.Equal(wavAudio(t, parseMail(t, []byte(d.Data)).wav), audio) {
				t.Fatal("the attachment is not the recording")
			}
		})
	}

	t.Run("no settings", func(t *testing.T) {
		m := &SMTP{Settings: settings{}}
		if err := m.Deliver(t.Context(), "a@example.com", msg, nil); !errors.Is(err, ErrNoSMTP) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := smtpfake.Start(t, smtpfake.Options{StartTLS: true})
		cfg := store.SMTPSettings{Host: "127.0.0.1", Port: srv.Port(), From: "pbx@example.com"}
		m := &SMTP{Settings: settings{smtp: &cfg}} // the system's roots do not know the fake
		if err := m.Deliver(t.Context(), "a@example.com", msg, nil); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("server gone", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		cfg := store.SMTPSettings{Host: "127.0.0.1", Port: port, From: "pbx@example.com"}
		m := &SMTP{Settings: settings{smtp: &cfg}}
		if err := m.Deliver(t.Context(), "a@example.com", msg, nil); err == nil {
			t.Fatal("delivered to nobody")
		}
	})
}

func TestIsLocal(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"mail.example.com": false, "10.0.0.5": false, "": false} {
		if isLocal(host) != want {
			t.Errorf("isLocal(%q) = %v", host, !want)
		}
	}
}

// End to end: a caller leaves a message, the SMTP server receives it with
// the recording; a box that keeps no emailed messages is empty afterwards,
// and one whose email failed keeps the message.
func TestDepositEmailedThroughSMTP(t *testing.T) {
	srv := smtpfake.Start(t, smtpfake.Options{StartTLS: true, User: "pbx", Password: "pw"})
	e := newEnv(t, Config{})
	if err := e.st.PutSMTP(store.SMTPSettings{Host: "127.0.0.1", Port: srv.Port(), Username: "pbx", Password: "pw",
		From: "voicemail@example.com"}); err != nil {
		t.Fatal(err)
	}
	e.vm.Mail = &SMTP{Settings: e.st, TLS: &tls.Config{RootCAs: srv.Roots()}}
	if _, err := e.st.UpdateMailbox("200", func(m *store.Mailbox) error {
		m.Email, m.EmailAudio, m.KeepAfterEmail = "alice@example.com", true, false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	speech := append(tone(2500), silence(300)...)
	noErr(t, e.vm.Deposit(t.Context(), newSession(t, "", fakeRec{audio: speech, hangup: true}), "200"))
	e.vm.Wait()
	got := srv.Messages()
	if len(got) != 1 || !got[0].TLS || got[0].To != "alice@example.com" {
		t.Fatalf("delivered %+v", got)
	}
	p := parseMail(t, []byte(got[0].Data))
	if !bytes.Equal(wavAudio(t, p.wav), speech) || p.subject != "New voicemail from Bob Jones (201)" {
		t.Fatalf("email %q with %d bytes of audio", p.subject, len(p.wav))
	}
	if msgs, _ := e.st.Messages("200"); len(msgs) != 0 {
		t.Fatalf("%d messages left in a box that keeps none", len(msgs))
	}

	// The server goes away: the message stays, and the lamp lights.
	srv.Close()
	noErr(t, e.vm.Deposit(t.Context(), newSession(t, "", fakeRec{audio: speech, hangup: true}), "200"))
	e.vm.Wait()
	if msgs, _ := e.st.Messages("200"); len(msgs) != 1 {
		t.Fatalf("%d messages after a failed email, want 1", len(msgs))
	}
	if e.mwi.count() != 1 {
		t.Fatalf("MWI told %d times", e.mwi.count())
	}
}

func TestSMTPSendTest(t *testing.T) {
	srv := smtpfake.Start(t, smtpfake.Options{RejectTo: "nobody@example.com"})
	cfg := store.SMTPSettings{Host: "127.0.0.1", Port: srv.Port(), From: "pbx@example.com"}
	m := &SMTP{Settings: settings{smtp: &cfg}, Hostname: "switchboard.test"}
	if err := m.SendTest(t.Context(), "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 || got[0].To != "alice@example.com" || got[0].From != "pbx@example.com" ||
		!strings.Contains(got[0].Data, "Subject: Switchboard test email") {
		t.Fatalf("sent: %+v", got)
	}
	if err := m.SendTest(t.Context(), "nobody@example.com"); err == nil || !strings.Contains(err.Error(), "550") {
		t.Fatalf("refused recipient: %v", err)
	}
	if err := m.SendTest(t.Context(), "a@example.com\r\nBcc: x@y.z"); err == nil {
		t.Fatal("a header in the address was sent")
	}
	if err := (&SMTP{Settings: settings{}}).SendTest(t.Context(), "alice@example.com"); !errors.Is(err, ErrNoSMTP) {
		t.Fatalf("no settings: %v", err)
	}
}
