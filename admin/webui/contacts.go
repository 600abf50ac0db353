package webui

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"switchboard/admin/webauth"
	"switchboard/store"
	"switchboard/switch/event"
)

// My Account → Contacts: everyone in the office (not system users, not
// disabled ones) with extension, department and live status — online when
// any of their phones is registered, on a call or ringing from the calls in
// progress — kept live over Server-Sent Events; favourites (starred per
// user, store.Favourites) come first. The same list, searchable, is the
// quick-access pop-up of every page's header.

// Contact statuses, as the API spells them.
const (
	statusOffline = "offline"
	statusOnline  = "online"
	statusOnCall  = "on_call"
	statusRinging = "ringing"
)

var extPattern = regexp.MustCompile(`^[1-9][0-9]{1,6}$`)

var statusLabels = map[string]string{statusOffline: "✗ offline", statusOnline: "✓ online", statusOnCall: "on a call", statusRinging: "ringing"}

// contact is one person of the directory.
type contact struct {
	Ext        string `json:"ext"`
	Name       string `json:"name"`
	Department string `json:"department,omitempty"`
	Status     string `json:"status"` // offline, online, on_call, ringing
	Favourite  bool   `json:"favourite"`
	Self       bool   `json:"self,omitempty"`
}

// StatusLabel is the status for people.
func (c contact) StatusLabel() string { return statusLabels[c.Status] }

// statuses returns every user's live status by extension.
func (a *App) statuses(users []store.User) (map[string]string, error) {
	devices, err := a.cfg.Store.Devices("")
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(users))
	for _, u := range users {
		out[u.Ext] = statusOffline
	}
	for _, d := range devices {
		if _, ok := out[d.Ext]; ok && len(a.cfg.Reg.Lookup(d.ID)) > 0 {
			out[d.Ext] = statusOnline
		}
	}
	if a.cfg.Calls == nil {
		return out, nil
	}
	mark := func(ext, status string) {
		if s, ok := out[ext]; ok && s != statusOnCall { // talking wins over ringing
			out[ext] = status
		}
	}
	for _, c := range a.cfg.Calls.Active() {
		if c.Answer.IsZero() {
			mark(deviceExt(c.From), statusOnCall) // dialling counts as being on the phone
			mark(c.To, statusRinging)
			continue
		}
		mark(deviceExt(c.From), statusOnCall)
		mark(deviceExt(c.AnsweredBy), statusOnCall)
	}
	return out, nil
}

// people are the users the directory shows: not system users, not disabled ones.
func (a *App) people() ([]store.User, error) {
	users, err := a.cfg.Store.Users()
	return slices.DeleteFunc(users, func(u store.User) bool { return u.System || u.Disabled }), err
}

// contacts lists the office for ext: favourites first, then by name.
func (a *App) contacts(ext string) ([]contact, error) {
	users, err := a.people()
	if err != nil {
		return nil, err
	}
	status, err := a.statuses(users)
	if err != nil {
		return nil, err
	}
	favs, err := a.cfg.Store.Favourites(ext)
	if err != nil {
		return nil, err
	}
	out := make([]contact, 0, len(users))
	for _, u := range users {
		out = append(out, contact{Ext: u.Ext, Name: u.Name(), Department: u.Department, Status: status[u.Ext],
			Favourite: slices.Contains(favs, u.Ext), Self: u.Ext == ext})
	}
	slices.SortStableFunc(out, func(x, y contact) int {
		if x.Favourite != y.Favourite {
			if x.Favourite {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)), cmp.Compare(x.Ext, y.Ext))
	})
	return out, nil
}

// contactMatches reports whether c matches a search (name, extension or department).
func contactMatches(c contact, q string) bool {
	return q == "" || strings.Contains(strings.ToLower(c.Ext+" "+c.Name+" "+c.Department), strings.ToLower(q))
}

// contactShows are the filter's choices.
var contactShows = []struct{ Value, Label string }{
	{"", "Everyone"}, {"favourites", "Favourites"}, {"available", "Online, not on a call"},
}

type contactsView struct {
	CSRF       string
	Q, Show    string
	Shows      []struct{ Value, Label string }
	Contacts   []contact
	Total      int
	Favourites int
}

func filterContacts(all []contact, q, show string) []contact {
	out := []contact{}
	for _, c := range all {
		switch {
		case !contactMatches(c, q):
		case show == "favourites" && !c.Favourite:
		case show == "available" && c.Status != statusOnline:
		default:
			out = append(out, c)
		}
	}
	return out
}

func (a *App) contactsPage(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	all, err := a.contacts(l.User.Ext)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("partial") == "1" {
		return a.renderPart(w, "contacts", "contacts-quick", all)
	}
	v := contactsView{CSRF: l.CSRF(), Q: strings.TrimSpace(q.Get("q")), Show: q.Get("show"), Shows: contactShows, Total: len(all)}
	if !slices.ContainsFunc(contactShows, func(s struct{ Value, Label string }) bool { return s.Value == v.Show }) {
		v.Show = ""
	}
	v.Contacts = filterContacts(all, v.Q, v.Show)
	for _, c := range all {
		if c.Favourite {
			v.Favourites++
		}
	}
	flash := map[string]string{"starred": "Added to your favourites.", "unstarred": "Removed from your favourites."}[q.Get("done")]
	a.render(w, r, http.StatusOK, "contacts", &view{Title: "Contacts", Login: l, Section: "me", Nav: "contacts", Flash: flash, Data: v})
	return nil
}

// setFavourite stars or unstars a colleague for ext.
func (a *App) setFavourite(ext, target string, on bool) ([]string, error) {
	if !extPattern.MatchString(target) {
		return nil, errNotFound
	}
	if target == ext && on {
		return nil, errorf(http.StatusBadRequest, "You cannot star yourself.")
	}
	if on {
		u, err := a.cfg.Store.User(target)
		if errors.Is(err, store.ErrNotFound) || err == nil && (u.System || u.Disabled) {
			return nil, errorf(http.StatusNotFound, "There is no colleague with extension %s.", target)
		}
		if err != nil {
			return nil, err
		}
	}
	list, err := a.cfg.Store.SetFavourite(ext, target, on)
	if errors.Is(err, store.ErrBadValue) {
		return nil, errorf(http.StatusBadRequest, "%s", sentence(err.Error()))
	}
	if list == nil {
		list = []string{}
	}
	return list, err
}

func (a *App) contactStar(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	on := r.PathValue("op") == "star"
	if !on && r.PathValue("op") != "unstar" {
		return errNotFound
	}
	if _, err := a.setFavourite(l.User.Ext, r.PathValue("ext"), on); err != nil {
		return err
	}
	back := url.Values{"done": {map[bool]string{true: "starred", false: "unstarred"}[on]}}
	for _, k := range []string{"q", "show"} {
		if v := r.PostFormValue(k); v != "" {
			back.Set(k, v)
		}
	}
	http.Redirect(w, r, "/me/contacts?"+back.Encode(), http.StatusSeeOther)
	return nil
}

// contactsEvents streams everyone's status whenever a phone registers or
// goes away, or a call starts, rings, is answered or ends.
func (a *App) contactsEvents(w http.ResponseWriter, r *http.Request, l *webauth.Login) error {
	return a.stream(w, r, l, func(ev event.Event) bool { return true }, func() (string, any) {
		users, err := a.people()
		if err != nil {
			a.log.Error("contacts state", "err", err)
		}
		s, err := a.statuses(users)
		if err != nil {
			a.log.Error("contacts state", "err", err)
		}
		return "contacts", map[string]map[string]string{"statuses": s}
	})
}

func (a *App) apiContactsRoutes() {
	m := a.mux
	m.HandleFunc("GET /api/me/contacts", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		all, err := a.contacts(l.User.Ext)
		if err != nil {
			return nil, err
		}
		q := r.URL.Query()
		return filterContacts(all, strings.TrimSpace(q.Get("q")), q.Get("show")), nil
	}))
	m.HandleFunc("GET /api/me/contacts/events", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		return nil, a.contactsEvents(w, r, l)
	}))
	for method, on := range map[string]bool{"PUT": true, "DELETE": false} {
		m.HandleFunc(method+" /api/me/favourites/{ext}", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
			list, err := a.setFavourite(l.User.Ext, r.PathValue("ext"), on)
			if err != nil {
				return nil, err
			}
			return map[string][]string{"favourites": list}, nil
		}))
	}
}
