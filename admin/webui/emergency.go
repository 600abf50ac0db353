package webui

import (
	"errors"
	"net/http"
	"slices"

	"switchboard/admin/webauth"
	"switchboard/store"
)

// Account Preferences → Emergency address (E911) and Authorized contacts:
// what the provider needs for emergency calls and to know who may change
// the account. Both behind the same re-authentication as backups, stored
// as settings (store/prefs.go).

// prefsData fills the emergency address and the contacts into v (reauthed).
func (a *App) prefsData(v *prefsView, editing string) {
	if e, err := a.cfg.Store.EmergencyAddress(); err == nil {
		v.Emergency, v.EmergencySet = e, true
	} else if !errors.Is(err, store.ErrNotFound) {
		a.log.Error("emergency address", "err", err)
	}
	list, err := a.cfg.Store.AuthorizedContacts()
	if err != nil {
		a.log.Error("authorized contacts", "err", err)
	}
	v.Contacts = list
	if i := slices.IndexFunc(list, func(c store.AuthorizedContact) bool { return c.ID == editing }); i >= 0 {
		v.Contact = list[i]
	}
}

// prefsBadValue turns the store's ErrBadValue into a 400 the user can read.
func prefsBadValue(err error) error {
	if errors.Is(err, store.ErrBadValue) {
		return errorf(http.StatusBadRequest, "%s", sentence(err.Error()))
	}
	return err
}

// needReauth sends a page back to the password form when re-authentication
// has lapsed; it says whether it did.
func (a *App) needReauth(w http.ResponseWriter, r *http.Request, l *webauth.Login) bool {
	if a.cfg.Auth.Reauthed(l) {
		return false
	}
	http.Redirect(w, r, "/admin/preferences?reauth=1", http.StatusSeeOther)
	return true
}

func (a *App) prefsError(w http.ResponseWriter, r *http.Request, l *webauth.Login, err error, fill func(v *prefsView, e *Error)) error {
	e := a.userError(r, prefsBadValue(err))
	if e.Status >= 500 || e.Status == http.StatusNotFound {
		return e
	}
	v := a.prefsView(l)
	fill(&v, e)
	a.render(w, r, e.Status, "prefs", &view{Title: "Account Preferences", Login: l, Section: "org", Nav: "prefs", Data: v})
	return nil
}

func (a *App) emergencySave(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	if a.needReauth(w, r, l) {
		return nil
	}
	e := store.EmergencyAddress{Organization: r.PostFormValue("organization"), Street: r.PostFormValue("street"),
		City: r.PostFormValue("city"), Region: r.PostFormValue("region"), PostalCode: r.PostFormValue("postal_code"),
		Country: r.PostFormValue("country"), Notes: r.PostFormValue("notes")}
	if _, err := a.putEmergency(e); err != nil {
		return a.prefsError(w, r, l, err, func(v *prefsView, er *Error) {
			v.Emergency, v.EmergencyErrors = e, er.Fields
			if len(er.Fields) == 0 {
				v.EmergencyErrors = map[string]string{"organization": er.Msg}
			}
		})
	}
	a.log.Info("web: emergency address changed", "by", l.User.Ext)
	http.Redirect(w, r, "/admin/preferences?done=emergency#emergency", http.StatusSeeOther)
	return nil
}

func (a *App) putEmergency(e store.EmergencyAddress) (store.EmergencyAddress, error) {
	e.Normalize()
	if probs := e.Problems(); probs != nil {
		return e, invalid(probs)
	}
	return a.cfg.Store.PutEmergencyAddress(e)
}

func (a *App) putContact(c store.AuthorizedContact) (store.AuthorizedContact, error) {
	c.Normalize()
	if probs := c.Problems(); probs != nil {
		return c, invalid(probs)
	}
	out, err := a.cfg.Store.PutAuthorizedContact(c)
	return out, prefsBadValue(err)
}

// contactSave adds a contact (no id in the path) or changes one.
func (a *App) contactSave(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	if a.needReauth(w, r, l) {
		return nil
	}
	c := store.AuthorizedContact{ID: r.PathValue("id"), Name: r.PostFormValue("name"), Phone: r.PostFormValue("phone"),
		Email: r.PostFormValue("email"), Role: r.PostFormValue("role")}
	if _, err := a.putContact(c); err != nil {
		return a.prefsError(w, r, l, err, func(v *prefsView, er *Error) {
			v.Contact, v.ContactErrors = c, er.Fields
			if len(er.Fields) == 0 {
				v.ContactErrors = map[string]string{"name": er.Msg}
			}
		})
	}
	done := "contact-added"
	if c.ID != "" {
		done = "contact-saved"
	}
	a.log.Info("web: authorized contact saved", "by", l.User.Ext, "name", c.Name)
	http.Redirect(w, r, "/admin/preferences?done="+done+"#authorized", http.StatusSeeOther)
	return nil
}

func (a *App) contactDelete(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	if a.needReauth(w, r, l) {
		return nil
	}
	if err := a.cfg.Store.RemoveAuthorizedContact(r.PathValue("id")); err != nil {
		return err
	}
	a.log.Info("web: authorized contact removed", "by", l.User.Ext)
	http.Redirect(w, r, "/admin/preferences?done=contact-removed#authorized", http.StatusSeeOther)
	return nil
}

// reauthedAPI is an admin API endpoint that also needs a recent password.
func (a *App) reauthedAPI(fn func(r *http.Request) (any, error)) http.HandlerFunc {
	return a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		if !a.cfg.Auth.Reauthed(l) {
			return nil, errorf(http.StatusForbidden, "Enter your password again first (POST /api/reauth); it opens sensitive settings for 5 minutes.")
		}
		return fn(r)
	})
}

func (a *App) apiEmergencyRoutes() {
	m := a.mux
	m.HandleFunc("GET /api/emergency-address", a.reauthedAPI(func(r *http.Request) (any, error) {
		e, err := a.cfg.Store.EmergencyAddress()
		if errors.Is(err, store.ErrNotFound) {
			return map[string]any{"configured": false}, nil
		}
		return e, err
	}))
	m.HandleFunc("PUT /api/emergency-address", a.reauthedAPI(func(r *http.Request) (any, error) {
		var e store.EmergencyAddress
		if err := readJSON(r, &e); err != nil {
			return nil, err
		}
		return a.putEmergency(e)
	}))
	m.HandleFunc("GET /api/authorized-contacts", a.reauthedAPI(func(r *http.Request) (any, error) {
		return a.cfg.Store.AuthorizedContacts()
	}))
	m.HandleFunc("POST /api/authorized-contacts", a.reauthedAPI(func(r *http.Request) (any, error) {
		var c store.AuthorizedContact
		if err := readJSON(r, &c); err != nil {
			return nil, err
		}
		c.ID = ""
		return a.putContact(c)
	}))
	m.HandleFunc("PUT /api/authorized-contacts/{id}", a.reauthedAPI(func(r *http.Request) (any, error) {
		var c store.AuthorizedContact
		if err := readJSON(r, &c); err != nil {
			return nil, err
		}
		c.ID = r.PathValue("id")
		return a.putContact(c)
	}))
	m.HandleFunc("DELETE /api/authorized-contacts/{id}", a.reauthedAPI(func(r *http.Request) (any, error) {
		if err := a.cfg.Store.RemoveAuthorizedContact(r.PathValue("id")); err != nil {
			return nil, err
		}
		return map[string]bool{"removed": true}, nil
	}))
}
