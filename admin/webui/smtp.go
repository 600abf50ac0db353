package webui

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
	"switchboard/store"
)

// Account Preferences → Email for voicemail: the SMTP server voicemail
// emails go through, behind the same re-authentication as backups, through
// admin/control's SMTP operations. The stored password is never shown:
// an empty password field keeps it.

// smtpForm is the SMTP form as sent (never with the password).
type smtpForm struct {
	Host, Port, Username, From string
	TLS                        string
	PasswordSet                bool
	Configured                 bool
}

// tlsChoices are the TLS modes the form offers.
var tlsChoices = []struct{ Value, Label string }{
	{"", "STARTTLS when the server offers it (usual, port 587)"},
	{string(store.TLSRequire), "STARTTLS required (port 587)"},
	{string(store.TLSImplicit), "TLS from the start, SMTPS (port 465)"},
	{string(store.TLSOff), "No encryption (a relay on the local network, port 25)"},
}

func smtpFormOf(v control.SMTPView) smtpForm {
	f := smtpForm{Host: v.Host, Username: v.Username, From: v.From, TLS: string(v.TLS), PasswordSet: v.PasswordSet, Configured: v.Configured}
	if v.Port != 0 {
		f.Port = strconv.Itoa(v.Port)
	}
	return f
}

// setSMTP checks the settings one field at a time, so each message goes
// next to its field, then stores them.
func (a *App) setSMTP(ctx context.Context, p control.SMTPPatch) (control.SMTPView, error) {
	vo, err := a.voicemail()
	if err != nil {
		return control.SMTPView{}, err
	}
	cur, err := vo.SMTP(ctx)
	if err != nil {
		return control.SMTPView{}, err
	}
	if probs := smtpProblems(cur, p); len(probs) > 0 {
		return control.SMTPView{}, invalid(probs)
	}
	v, err := vo.SetSMTP(ctx, p)
	var ce *control.Error
	if errors.As(err, &ce) && ce.Status == http.StatusBadRequest {
		field := "host"
		switch msg := ce.Message; {
		case strings.Contains(msg, "sender"), strings.Contains(msg, "from"):
			field = "from"
		case strings.Contains(msg, "port"):
			field = "port"
		case strings.Contains(msg, "TLS"):
			field = "tls"
		case strings.Contains(msg, "user"), strings.Contains(msg, "password"):
			field = "username"
		}
		return v, invalid(map[string]string{field: sentence(ce.Message)})
	}
	return v, err
}

// smtpProblems checks SMTP settings field by field (cur: the stored ones);
// it trims the text fields it checks.
func smtpProblems(cur control.SMTPView, p control.SMTPPatch) map[string]string {
	probs := map[string]string{}
	if p.Host != nil {
		*p.Host = strings.TrimSpace(*p.Host)
		if *p.Host == "" || strings.ContainsAny(*p.Host, " \t\r\n/@:") {
			probs["host"] = "Enter the mail server's name or address, such as smtp.example.com (the port goes in its own field)."
		}
	} else if !cur.Configured {
		probs["host"] = "Enter the mail server's name or address, such as smtp.example.com."
	}
	if p.Port != nil && (*p.Port < 0 || *p.Port > 65535) {
		probs["port"] = "A port is a number from 1 to 65535; leave it empty for the usual one."
	}
	if p.TLS != nil {
		switch *p.TLS {
		case store.TLSAuto, store.TLSRequire, store.TLSOff, store.TLSImplicit:
		default:
			probs["tls"] = "Choose how the connection is protected."
		}
	}
	if p.From != nil {
		*p.From = strings.TrimSpace(*p.From)
		if *p.From == "" {
			probs["from"] = "Enter the sender address of voicemail emails, such as voicemail@example.com."
		}
	} else if !cur.Configured {
		probs["from"] = "Enter the sender address of voicemail emails, such as voicemail@example.com."
	}
	user := cur.Username
	if p.Username != nil {
		*p.Username = strings.TrimSpace(*p.Username)
		user = *p.Username
	}
	for field, v := range map[string]*string{"username": p.Username, "password": p.Password} {
		if v != nil && strings.ContainsAny(*v, "\r\n\x00") {
			probs[field] = "This cannot contain line breaks."
		}
	}
	if p.Password != nil && *p.Password != "" && user == "" {
		probs["username"] = "A password needs a user name."
	}
	return probs
}

func (a *App) smtpSave(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	if !a.cfg.Auth.Reauthed(l) {
		http.Redirect(w, r, "/admin/preferences?reauth=1", http.StatusSeeOther)
		return nil
	}
	f := smtpForm{Host: r.PostFormValue("host"), Port: strings.TrimSpace(r.PostFormValue("port")), Username: r.PostFormValue("username"),
		From: r.PostFormValue("from"), TLS: r.PostFormValue("tls")}
	tls := store.TLSMode(f.TLS)
	p := control.SMTPPatch{Host: &f.Host, Username: &f.Username, From: &f.From, TLS: &tls}
	port := 0
	var perr error
	if f.Port != "" {
		port, perr = strconv.Atoi(f.Port)
	}
	p.Port = &port
	if pw := r.PostFormValue("password"); pw != "" {
		p.Password = &pw
	}
	var err error
	if perr != nil { // nothing is stored; the other fields are checked too
		p.Port = nil
		cur, cerr := a.smtpView(r)
		if cerr != nil {
			return cerr
		}
		probs := smtpProblems(cur, p)
		probs["port"] = "A port is a number from 1 to 65535; leave it empty for the usual one."
		err = invalid(probs)
	} else {
		_, err = a.setSMTP(r.Context(), p)
	}
	if err != nil {
		e := a.userError(r, err)
		if e.Status >= 500 {
			return e
		}
		v := a.prefsView(l)
		if cur, err := a.smtpView(r); err == nil {
			f.PasswordSet, f.Configured = cur.PasswordSet, cur.Configured
		}
		v.SMTP, v.SMTPErrors = f, e.Fields
		if len(e.Fields) == 0 {
			v.SMTPErrors = map[string]string{"host": e.Msg}
		}
		a.render(w, r, e.Status, "prefs", &view{Title: "Account Preferences", Login: l, Section: "org", Nav: "prefs", Data: v})
		return nil
	}
	a.log.Info("web: SMTP settings changed", "by", l.User.Ext, "host", f.Host)
	http.Redirect(w, r, "/admin/preferences?done=smtp", http.StatusSeeOther)
	return nil
}

// smtpTest sends a test email through the stored settings, the way
// voicemail is sent, and says on the page whether it went.
func (a *App) smtpTest(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	if a.needReauth(w, r, l) {
		return nil
	}
	vo, err := a.voicemail()
	if err != nil {
		return err
	}
	to := strings.TrimSpace(r.PostFormValue("to"))
	res, err := vo.TestSMTP(r.Context(), to)
	if err != nil {
		e := a.userError(r, err)
		var ce *control.Error
		if e.Status >= 500 && !errors.As(err, &ce) {
			return e
		}
		v := a.prefsView(l)
		v.TestTo, v.TestError = to, e.Msg
		a.render(w, r, e.Status, "prefs", &view{Title: "Account Preferences", Login: l, Section: "org", Nav: "prefs", Data: v})
		return nil
	}
	a.log.Info("web: test email sent", "by", l.User.Ext, "to", res.To, "server", res.Server)
	v := a.prefsView(l)
	v.TestTo = res.To
	a.render(w, r, http.StatusOK, "prefs", &view{Title: "Account Preferences", Login: l, Section: "org", Nav: "prefs",
		Flash: "A test email went to " + res.To + " through " + res.Server + ": check that it arrives (and its spam folder).", Data: v})
	return nil
}

func (a *App) smtpView(r *http.Request) (control.SMTPView, error) {
	vo, err := a.voicemail()
	if err != nil {
		return control.SMTPView{}, err
	}
	return vo.SMTP(r.Context())
}

func (a *App) apiSMTPRoutes() {
	m := a.mux
	reauthed := a.reauthedAPI
	m.HandleFunc("GET /api/smtp", reauthed(func(r *http.Request) (any, error) { return a.smtpView(r) }))
	m.HandleFunc("PATCH /api/smtp", reauthed(func(r *http.Request) (any, error) {
		var p control.SMTPPatch
		if err := readJSON(r, &p); err != nil {
			return nil, err
		}
		return a.setSMTP(r.Context(), p)
	}))
	m.HandleFunc("POST /api/smtp/test", reauthed(func(r *http.Request) (any, error) {
		var req struct {
			To string `json:"to"`
		}
		if err := readJSON(r, &req); err != nil {
			return nil, err
		}
		vo, err := a.voicemail()
		if err != nil {
			return nil, err
		}
		return vo.TestSMTP(r.Context(), req.To)
	}))
}
