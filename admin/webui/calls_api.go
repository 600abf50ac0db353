package webui

import (
	"net/http"

	"switchboard/admin/webauth"
)

// Call-history endpoints: everyone's for office managers, one's own for
// every user (docs/API.md).
func (a *App) apiCallsRoutes() {
	m := a.mux
	m.HandleFunc("GET /api/calls", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		return a.apiCalls(r, "")
	}))
	m.HandleFunc("GET /api/calls.csv", a.api(admins, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		return nil, a.apiCallsCSV(w, r, "", "calls")
	}))
	m.HandleFunc("GET /api/me/devices", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		devs, err := a.devicesOf(r.Context(), l.User.Ext)
		return devicesJSON(devs), err
	}))
	m.HandleFunc("GET /api/me/events", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		return nil, a.meEvents(w, r, l)
	}))
	m.HandleFunc("GET /api/me/calls", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		if err := onlyOwn(r, l); err != nil {
			return nil, err
		}
		return a.apiCalls(r, l.User.Ext)
	}))
	m.HandleFunc("GET /api/me/calls.csv", a.api(anyone, func(w http.ResponseWriter, r *http.Request, l *webauth.Login) (any, error) {
		if err := onlyOwn(r, l); err != nil {
			return nil, err
		}
		return nil, a.apiCallsCSV(w, r, l.User.Ext, "my-calls")
	}))
}

// onlyOwn refuses a request for another extension's calls on a user's own
// endpoint: it is not quietly answered with one's own.
func onlyOwn(r *http.Request, l *webauth.Login) error {
	if ext := r.URL.Query().Get("ext"); ext != "" && ext != l.User.Ext {
		return errorf(http.StatusForbidden, "You can see only your own calls.")
	}
	return nil
}

func (a *App) apiCalls(r *http.Request, ownExt string) (any, error) {
	loc := a.office()
	f, probs := parseCallFilter(r.URL.Query(), loc, a.now())
	if len(probs) > 0 {
		return nil, invalid(probs)
	}
	if ownExt != "" {
		f.Ext = ownExt
	}
	p, err := findCalls(a.cfg.Store, f)
	if err != nil {
		return nil, err
	}
	return toCallsJSON(p, f, loc), nil
}

func (a *App) apiCallsCSV(w http.ResponseWriter, r *http.Request, ownExt, name string) error {
	f, probs := parseCallFilter(r.URL.Query(), a.office(), a.now())
	if len(probs) > 0 {
		return invalid(probs)
	}
	if ownExt != "" {
		f.Ext = ownExt
	}
	return a.writeCallsCSV(w, f, name)
}
