package webui

import (
	"errors"
	"net/http"
	"strings"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
)

// loginView is the login form.
type loginView struct {
	CSRF  string
	Login string // what was typed, kept after a failure (never the password)
	Next  string
	Error string
	Done  string
}

func (a *App) home(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	section := "me"
	if l.Admin() && len(orgNav) > 0 {
		section = "org"
	}
	http.Redirect(w, r, navItems(section)[0].Href, http.StatusSeeOther)
	return nil
}

func (a *App) loginPage(w http.ResponseWriter, r *http.Request) {
	if l := a.loginOf(r); l != nil {
		a.home(w, r, l)
		return
	}
	v := loginView{CSRF: webauth.LoginFormToken(w, r), Next: localPath(r.URL.Query().Get("next"))}
	switch r.URL.Query().Get("done") {
	case "out":
		v.Done = "You are logged out."
	case "expired":
		v.Error = "Your session ended. Please log in again."
	}
	a.render(w, r, http.StatusOK, "login", &view{Title: "Log in", Data: v})
}

func (a *App) loginPost(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r, 64<<10)
	v := loginView{Login: strings.TrimSpace(r.PostFormValue("login")), Next: localPath(r.PostFormValue("next"))}
	fail := func(status int, msg string) {
		v.CSRF, v.Error = webauth.LoginFormToken(w, r), msg
		a.render(w, r, status, "login", &view{Title: "Log in", Data: v})
	}
	if err := webauth.CheckLoginForm(r); err != nil {
		fail(http.StatusForbidden, "The login form had expired. Please try again.")
		return
	}
	if v.Login == "" || r.PostFormValue("password") == "" {
		fail(http.StatusBadRequest, "Enter your extension or email and your password.")
		return
	}
	l, err := a.cfg.Auth.LogIn(v.Login, r.PostFormValue("password"), clientIP(r), r.UserAgent())
	if err != nil {
		e := a.userError(r, err)
		fail(e.Status, e.Msg)
		return
	}
	a.log.Info("web login", "ext", l.User.Ext, "ip", clientIP(r))
	webauth.SetSession(w, r, l.Token)
	next := v.Next
	if next == "" || (strings.HasPrefix(next, "/admin") && !l.Admin()) {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (a *App) logout(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	if err := a.cfg.Auth.LogOut(l); err != nil {
		return err
	}
	webauth.ClearSession(w, r)
	http.Redirect(w, r, "/login?done=out", http.StatusSeeOther)
	return nil
}

// passwordForm is the change-password form.
type passwordForm struct {
	CSRF   string
	Errors map[string]string
	Error  string
}

func (a *App) passwordView(l *webauth.Login, f passwordForm, flash string) *view {
	f.CSRF = l.CSRF()
	return &view{Title: "Change password", Login: l, Section: "me", Nav: "password", Flash: flash, Data: f}
}

func (a *App) passwordPage(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	flash := ""
	if r.URL.Query().Get("done") == "1" {
		flash = "Your password is changed. Every other login of yours has been logged out."
	}
	a.render(w, r, http.StatusOK, "password", a.passwordView(l, passwordForm{}, flash))
	return nil
}

func (a *App) passwordPost(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	err := a.changePassword(r, l, r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm"))
	if err != nil {
		e := a.userError(r, err)
		f := passwordForm{Errors: e.Fields}
		if len(e.Fields) == 0 {
			f.Error = e.Msg
		}
		a.render(w, r, e.Status, "password", a.passwordView(l, f, ""))
		return nil
	}
	http.Redirect(w, r, "/me/password?done=1", http.StatusSeeOther)
	return nil
}

// changePassword checks the current password, sets the new one and ends
// every other session of the user.
func (a *App) changePassword(r *http.Request, l *webauth.Login, current, next, confirm string) error {
	fields := map[string]string{}
	if current == "" {
		fields["current"] = "Enter your current password."
	}
	if next == "" {
		fields["new"] = "Enter a new password."
	} else if msg := webPasswordProblem(next); msg != "" {
		fields["new"] = msg
	} else if confirm != next {
		fields["confirm"] = "This is not the same as the new password."
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	if err := a.cfg.Auth.CheckPassword(l, current, clientIP(r)); err != nil {
		if errors.Is(err, webauth.ErrBadPassword) {
			return invalid(map[string]string{"current": "This is not your current password."})
		}
		return err
	}
	if _, err := a.cfg.Ops.SetUser(r.Context(), l.User.Ext, control.UserPatch{Password: &next}); err != nil {
		return err
	}
	a.log.Info("web password changed", "ext", l.User.Ext)
	return a.cfg.Auth.EndOtherSessions(l.User.Ext, l.Token)
}

// webPasswordProblem says what is wrong with a new web password, by the
// same rules as `switchboard user add --password` ("" if nothing).
func webPasswordProblem(pw string) string {
	if err := control.CheckUserSpec(control.UserSpec{Ext: "99", Name: "x", Password: pw}); err != nil {
		return sentence(err.Error())
	}
	return ""
}
