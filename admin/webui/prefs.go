package webui

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard/admin/webauth"
	"switchboard/store"
)

// Account Preferences: the HTTPS certificate's fingerprint, and the
// sensitive settings — for now downloading a backup — behind a fresh
// password (re-authentication, valid a few minutes).

type prefsView struct {
	CSRF        string
	Fingerprint []string // the bytes of the SHA-256 fingerprint, in hex
	CertExpires string
	Reauthed    bool
	ReauthUntil string
	Error       string // the password form's message
	SMTP        smtpForm
	SMTPErrors  map[string]string
	TLSChoices  []struct{ Value, Label string }
	TestTo      string // the test email's address (default: the admin's)
	TestError   string

	Emergency       store.EmergencyAddress
	EmergencySet    bool
	EmergencyErrors map[string]string
	Contacts        []store.AuthorizedContact
	Contact         store.AuthorizedContact // the one being edited (ID set) or added
	ContactErrors   map[string]string
}

func (a *App) prefsView(l *webauth.Login) prefsView {
	loc := a.office()
	v := prefsView{CSRF: l.CSRF(), Fingerprint: strings.Split(a.cfg.CertFingerprint, ":"), Reauthed: a.cfg.Auth.Reauthed(l)}
	if !a.cfg.CertExpires.IsZero() {
		v.CertExpires = a.cfg.CertExpires.In(loc).Format("2 January 2006")
	}
	if v.Reauthed {
		v.ReauthUntil = l.Session.ReauthUntil.In(loc).Format("15:04")
		v.TLSChoices = tlsChoices
		if vo, err := a.voicemail(); err == nil {
			if cur, err := vo.SMTP(context.Background()); err == nil {
				v.SMTP = smtpFormOf(cur)
			} else {
				a.log.Error("smtp settings", "err", err)
			}
		}
		if len(l.User.Emails) > 0 {
			v.TestTo = l.User.Emails[0]
		}
		a.prefsData(&v, "")
	}
	return v
}

func (a *App) prefsPage(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	v := a.prefsView(l)
	if id := r.URL.Query().Get("contact"); id != "" && v.Reauthed {
		a.prefsData(&v, id)
	}
	if r.URL.Query().Get("reauth") == "1" && !v.Reauthed {
		v.Error = "Enter your password again to open the sensitive settings."
	}
	a.render(w, r, http.StatusOK, "prefs", &view{Title: "Account Preferences", Login: l, Section: "org", Nav: "prefs",
		Flash: prefsDone[r.URL.Query().Get("done")], Data: v})
	return nil
}

// prefsDone are the messages after a change (?done=…).
var prefsDone = map[string]string{
	"smtp":            "The email settings are saved.",
	"emergency":       "The emergency address is saved.",
	"contact-added":   "The contact is added.",
	"contact-saved":   "The contact is saved.",
	"contact-removed": "The contact is removed.",
}

var errNoPassword = errors.New("no password")

func (a *App) prefsReauth(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	pw := r.PostFormValue("password")
	err := errNoPassword
	if pw != "" {
		err = a.cfg.Auth.Reauth(l, pw, clientIP(r))
	}
	if err != nil {
		v := a.prefsView(l)
		status := http.StatusBadRequest
		switch {
		case err == errNoPassword:
			v.Error = "Enter your password."
		case errors.Is(err, webauth.ErrBadPassword):
			v.Error, status = "This is not your password.", http.StatusUnauthorized
		default:
			e := a.userError(r, err)
			v.Error, status = e.Msg, e.Status
		}
		a.render(w, r, status, "prefs", &view{Title: "Account Preferences", Login: l, Section: "org", Nav: "prefs", Data: v})
		return nil
	}
	http.Redirect(w, r, "/admin/preferences", http.StatusSeeOther)
	return nil
}

func (a *App) backupDownload(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	if !a.cfg.Auth.Reauthed(l) {
		http.Redirect(w, r, "/admin/preferences?reauth=1", http.StatusSeeOther)
		return nil
	}
	return a.sendBackup(w, r, l)
}

// sendBackup streams a consistent snapshot of the store (the same file
// `switchboard backup` writes).
func (a *App) sendBackup(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	name := "switchboard-backup-" + a.now().In(a.office()).Format("2006-01-02-150405") + ".db"
	started := false
	_, err := a.cfg.Ops.Backup(r.Context(), w, func(n int64) {
		started = true
		noStore(w)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	})
	if err != nil && !started {
		return err
	}
	if err != nil {
		a.log.Error("web backup download", "err", err) // the download ends short; the browser reports it
		return nil
	}
	a.log.Info("web: backup downloaded", "by", l.User.Ext)
	return nil
}

func (a *App) apiPrefsRoutes() {
	m := a.mux
	m.HandleFunc("POST /api/reauth", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		var req struct {
			Password string `json:"password"`
		}
		if err := readJSON(r, &req); err != nil {
			return nil, err
		}
		if err := a.cfg.Auth.Reauth(l, req.Password, clientIP(r)); err != nil {
			return nil, err
		}
		return map[string]time.Time{"reauth_until": l.Session.ReauthUntil}, nil
	}))
	m.HandleFunc("GET /api/backup", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		if !a.cfg.Auth.Reauthed(l) {
			return nil, errorf(http.StatusForbidden, "Enter your password again first (POST /api/reauth); it opens sensitive settings for 5 minutes.")
		}
		return nil, a.sendBackup(w, r, l)
	}))
}
