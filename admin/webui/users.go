package webui

import (
	"net/http"
	"net/url"
	"strings"

	"switchboard/admin/control"
	"switchboard/admin/webauth"
	"switchboard/store"
)

// The office manager's Users pages.

type usersView struct {
	Q            string
	HideSystem   bool
	Users        []control.UserView
	Total        int // users before the search
	SystemHidden int
}

// matches reports whether u matches a search (extension, name or email).
func matches(u control.UserView, q string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	return strings.Contains(strings.ToLower(u.Ext+" "+u.Name+" "+u.Email), q)
}

// listUsers filters users by a search and the system-user switch.
func listUsers(all []control.UserView, q string, hideSystem bool) usersView {
	v := usersView{Q: q, HideSystem: hideSystem, Total: len(all), Users: []control.UserView{}}
	for _, u := range all {
		if u.System && hideSystem {
			v.SystemHidden++
			continue
		}
		if matches(u, q) {
			v.Users = append(v.Users, u)
		}
	}
	return v
}

// hideSystem reads the "Hide system users" box: checked on a first visit
// (no filter form sent yet), else as the form says.
func hideSystem(q url.Values) bool {
	if q.Get("filtered") == "" {
		return true
	}
	return q.Get("hide_system") != ""
}

func (a *App) usersPage(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	all, err := a.cfg.Ops.ListUsers(r.Context())
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v := listUsers(all, strings.TrimSpace(q.Get("q")), hideSystem(q))
	flash := map[string]string{"deleted": "The user is deleted."}[q.Get("done")]
	a.render(w, r, http.StatusOK, "users", &view{Title: "Users", Login: l, Section: "org", Nav: "users", Flash: flash, Data: v})
	return nil
}

// userForm is the new-user form with its field messages.
type userForm struct {
	CSRF   string
	Spec   control.UserSpec
	Errors map[string]string
}

func (a *App) userNewPage(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	f := userForm{CSRF: l.CSRF(), Spec: control.UserSpec{Role: store.RoleUser}}
	a.render(w, r, http.StatusOK, "user_new", &view{Title: "Add a user", Login: l, Section: "org", Nav: "users", Data: f})
	return nil
}

func (a *App) userCreate(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	spec := control.UserSpec{Ext: r.PostFormValue("ext"), Name: r.PostFormValue("name"), Email: r.PostFormValue("email"),
		Role: store.Role(r.PostFormValue("role")), Password: r.PostFormValue("password"), SIPPassword: r.PostFormValue("sip_password")}
	nu, err := a.createUser(r.Context(), spec)
	if err != nil {
		e := a.userError(r, err)
		if e.Fields == nil {
			return e
		}
		spec.Password, spec.SIPPassword = "", "" // never sent back into the page
		f := userForm{CSRF: l.CSRF(), Spec: spec, Errors: e.Fields}
		a.render(w, r, e.Status, "user_new", &view{Title: "Add a user", Login: l, Section: "org", Nav: "users", Data: f})
		return nil
	}
	s := secretView{Title: "User " + nu.User.Ext + " created", Back: "/admin/users/" + nu.User.Ext,
		Intro: nu.User.Name + " (extension " + nu.User.Ext + ", " + string(nu.User.Role) + ") can now log in and set up a phone."}
	login := nu.User.Ext
	if nu.User.Email != "" {
		login += " or " + nu.User.Email
	}
	s.add("Web login", login, false)
	if nu.Password != "" {
		s.add("Web password", nu.Password, true)
	} else {
		s.add("Web password", "the one you entered", false)
	}
	s.add("SIP user (phone)", nu.User.Ext, false)
	if nu.SIPPassword != "" {
		s.add("SIP password", nu.SIPPassword, true)
	} else {
		s.add("SIP password", "the one you entered", false)
	}
	s.add("SIP server", a.cfg.SIPServer, false)
	a.renderSecret(w, r, l, s)
	return nil
}

// secretView shows passwords that were just generated: once, never again.
type secretView struct {
	Title string
	Intro string
	Rows  []secretRow
	Back  string
}

type secretRow struct {
	Label, Value string
	Secret       bool
}

func (s *secretView) add(label, value string, secret bool) {
	s.Rows = append(s.Rows, secretRow{Label: label, Value: value, Secret: secret})
}

func (a *App) renderSecret(w http.ResponseWriter, r *http.Request, l *webauth.Login, s secretView) {
	a.render(w, r, http.StatusOK, "secret", &view{Title: s.Title, Login: l, Section: "org", Nav: "users", Data: s})
}

// userPageView is one user's page: the edit form, passwords, phones.
type userPageView struct {
	CSRF    string
	User    control.UserView
	Self    bool
	Form    userEdit
	Errors  map[string]string
	Devices []deviceRow
	Online  int
}

func (a *App) userView(r *http.Request, l *webauth.Login, ext string) (userPageView, error) {
	if err := a.checkPerson(ext); err != nil {
		return userPageView{}, err
	}
	users, err := a.cfg.Ops.ListUsers(r.Context())
	if err != nil {
		return userPageView{}, err
	}
	v := userPageView{CSRF: l.CSRF(), Self: ext == l.User.Ext}
	for _, u := range users {
		if u.Ext == ext {
			v.User = u
		}
	}
	devs, err := a.devicesOf(r.Context(), ext)
	if err != nil {
		return v, err
	}
	v.Devices = deviceRows(devs, a.office())
	for _, d := range v.Devices {
		if d.Online {
			v.Online++
		}
	}
	v.Form = userEdit{Name: &v.User.Name, Email: &v.User.Email, Role: &v.User.Role, Disabled: &v.User.Disabled,
		Department: &v.User.Department}
	return v, nil
}

var userFlash = map[string]string{
	"saved":          "Changes saved.",
	"device-removed": "The phone is removed; it can no longer register.",
}

func (a *App) userPage(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	v, err := a.userView(r, l, r.PathValue("ext"))
	if err != nil {
		return err
	}
	a.render(w, r, http.StatusOK, "user", &view{Title: v.User.Name, Login: l, Section: "org", Nav: "users",
		Flash: userFlash[r.URL.Query().Get("done")], Data: v})
	return nil
}

func (a *App) userUpdate(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	ext := r.PathValue("ext")
	name, email, role := r.PostFormValue("name"), r.PostFormValue("email"), store.Role(r.PostFormValue("role"))
	disabled := r.PostFormValue("disabled") != ""
	dep := r.PostFormValue("department")
	ed := userEdit{Name: &name, Email: &email, Role: &role, Disabled: &disabled, Department: &dep}
	if _, err := a.updateUser(r.Context(), l, ext, ed); err != nil {
		e := a.userError(r, err)
		if e.Fields == nil {
			return e
		}
		v, verr := a.userView(r, l, ext)
		if verr != nil {
			return verr
		}
		v.Form, v.Errors = ed, e.Fields
		a.render(w, r, e.Status, "user", &view{Title: v.User.Name, Login: l, Section: "org", Nav: "users", Data: v})
		return nil
	}
	http.Redirect(w, r, "/admin/users/"+url.PathEscape(ext)+"?done=saved", http.StatusSeeOther)
	return nil
}

func (a *App) userResetPassword(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	ext := r.PathValue("ext")
	pw, err := a.resetWebPassword(r.Context(), l, ext, "")
	if err != nil {
		return err
	}
	s := secretView{Title: "New web password for " + ext, Back: "/admin/users/" + ext,
		Intro: "The old password no longer works, and every login of this user has been logged out."}
	s.add("Web login", ext, false)
	s.add("Web password", pw, true)
	a.renderSecret(w, r, l, s)
	return nil
}

func (a *App) userAddDevice(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	ext := r.PathValue("ext")
	if err := a.checkPerson(ext); err != nil {
		return err
	}
	nd, err := a.cfg.Ops.AddDevice(r.Context(), ext, "")
	if err != nil {
		return err
	}
	a.log.Info("web: device added", "device", nd.Device.ID, "by", l.User.Ext)
	s := secretView{Title: "Phone " + nd.Device.ID + " added", Back: "/admin/users/" + ext,
		Intro: "Set up the phone (or softphone) with these settings. Every phone of extension " + ext + " rings for its calls."}
	s.add("SIP user and auth user", nd.Device.ID, false)
	s.add("SIP password", nd.SIPPassword, true)
	s.add("SIP server", a.cfg.SIPServer, false)
	a.renderSecret(w, r, l, s)
	return nil
}

func (a *App) deviceResetPassword(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	id := r.PathValue("id")
	d, err := a.deviceOf(id)
	if err != nil {
		return err
	}
	if err := a.checkPerson(d.Ext); err != nil {
		return err
	}
	pw, err := a.cfg.Ops.SetDevicePassword(r.Context(), id, "")
	if err != nil {
		return err
	}
	a.log.Info("web: SIP password reset", "device", id, "by", l.User.Ext)
	s := secretView{Title: "New SIP password for " + id, Back: "/admin/users/" + d.Ext,
		Intro: "Enter it in the phone now: the old password no longer works when the phone registers again."}
	s.add("SIP user and auth user", id, false)
	s.add("SIP password", pw, true)
	s.add("SIP server", a.cfg.SIPServer, false)
	a.renderSecret(w, r, l, s)
	return nil
}

func (a *App) deviceDelete(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	id := r.PathValue("id")
	d, err := a.deviceOf(id)
	if err != nil {
		return err
	}
	if err := a.checkPerson(d.Ext); err != nil {
		return err
	}
	if err := a.cfg.Ops.RemoveDevice(r.Context(), id); err != nil {
		return err
	}
	a.log.Info("web: device removed", "device", id, "by", l.User.Ext)
	http.Redirect(w, r, "/admin/users/"+url.PathEscape(d.Ext)+"?done=device-removed", http.StatusSeeOther)
	return nil
}

func (a *App) userDelete(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	if err := a.deleteUser(r.Context(), l, r.PathValue("ext")); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/users?done=deleted", http.StatusSeeOther)
	return nil
}
